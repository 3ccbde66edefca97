package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java validator gives the Python reference's answer for every case it was given. */
class ContractTest {

    /**
     * {@code -Dstreamstack.vectors=FILE}: cases written by tests/unit/kstreams, each the Python
     * {@code check_purchase} result of one payload (reason, derived identity), or with
     * {@code "kind": "product"} the {@code check_product} result of one product record (key, value);
     * each with {@code dead_letter}, the five payload fields {@code dead_letter_payload} gives its value.
     */
    @Test
    void sameReasonsAsThePythonReferenceValidator() throws Exception {
        String file = System.getProperty("streamstack.vectors");
        if (file == null || file.isEmpty()) {
            throw new IllegalStateException("run with -Dstreamstack.vectors=FILE (written by tests/unit/kstreams)");
        }
        Contract contract = Fixtures.contract();
        JsonNode cases = Json.MAPPER.readTree(Files.readString(Path.of(file)));
        List<String> mismatches = new ArrayList<>();
        for (JsonNode c : cases) {
            byte[] payload = c.get("payload_b64").isNull() ? null : Base64.getDecoder().decode(c.get("payload_b64").asText());
            Integer partition = c.get("partition").isNull() ? null : c.get("partition").asInt();
            Long offset = c.get("offset").isNull() ? null : c.get("offset").asLong();
            boolean isProduct = "product".equals(c.path("kind").asText());
            String key = c.path("key").isTextual() ? c.get("key").asText() : null;
            Contract.Result r = isProduct ? contract.checkProduct(key, payload) : contract.check(payload, partition, offset);
            String expected = c.get("reason").isNull() ? null : c.get("reason").asText();
            if (!java.util.Objects.equals(expected, r.reason()) || c.get("derived").asBoolean() != r.derived()) {
                mismatches.add(c.get("name").asText() + ": python " + expected + " / derived " + c.get("derived")
                        + ", java " + r.reason() + " / derived " + r.derived());
            }
            String wantPayload = Json.write(c.get("dead_letter"));
            String gotPayload = Json.write(contract.payload(payload).toJson());
            if (!wantPayload.equals(gotPayload)) {
                mismatches.add(c.get("name").asText() + ": dead-letter payload python " + cut(wantPayload) + ", java "
                        + cut(gotPayload));
            }
            JsonNode identity = c.get("identity");
            if (!isProduct && !identity.isNull() && r.record() != null) {
                for (String f : List.of("transaction_id", "line_number")) {
                    if (!identity.get(f).equals(r.record().get(f) == null ? Json.NODES.nullNode() : r.record().get(f))) {
                        mismatches.add(c.get("name").asText() + ": " + f + " python " + identity.get(f)
                                + ", java " + r.record().get(f));
                    }
                }
            }
        }
        assertTrue(cases.size() > 20, "too few cases: " + cases.size());
        assertEquals(List.of(), mismatches);
    }

    private static String cut(String s) {
        return s.length() <= 120 ? s : s.substring(0, 60) + " ... " + s.substring(s.length() - 60);
    }

    @Test
    void aValidPurchaseHasNoReasonAndKeepsItsIdentity() throws Exception {
        Contract contract = Fixtures.contract();
        byte[] payload = Json.write(Fixtures.purchase("2026-01-01 10:00:00.000000", "42", 1, "CS01", 5.0, 2))
                .getBytes(StandardCharsets.UTF_8);
        Contract.Result r = contract.check(payload, 0, 7L);
        assertNull(r.reason());
        assertEquals("42", r.record().get("transaction_id").asText());
        assertEquals(false, r.derived());
    }
}
