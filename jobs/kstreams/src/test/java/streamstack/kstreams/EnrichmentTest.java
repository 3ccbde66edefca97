package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EnrichmentTest {
    /** Far below the broker's 1 MB: a dead letter's payload is at most payload_max_chars code points. */
    private static final int BOUND = 32 * 1024;
    private static final String REPARTITION = "test-enrichment-purchases-by-product-repartition";
    private static final byte[] BINARY = {(byte) 0xff, (byte) 0xfe, 0, 'b', (byte) 0x80};
    private TopologyTestDriver driver;
    private TestInputTopic<String, String> products;
    private TestInputTopic<String, byte[]> purchases;
    private TestOutputTopic<String, String> enriched;
    private TestOutputTopic<String, String> invalid;
    private Contract contract;

    @BeforeEach
    void setUp() throws Exception {
        contract = Fixtures.contract();
        Topics topics = new Topics("purchases", "products", "enriched", "invalid", 1);
        driver = new TopologyTestDriver(Enrichment.build(contract, topics, new Progress(), Duration.ofDays(3650)),
                Fixtures.props("enrichment"));
        products = driver.createInputTopic("products", new StringSerializer(), new StringSerializer());
        purchases = driver.createInputTopic("purchases", new StringSerializer(), new ByteArraySerializer());
        enriched = driver.createOutputTopic("enriched", new StringDeserializer(), new StringDeserializer());
        invalid = driver.createOutputTopic("invalid", new StringDeserializer(), new StringDeserializer());
        // Three versions of CS01; the second one 0.5 ms after 10:00:00.000, i.e. in the same millisecond.
        products.pipeInput("CS01", Json.write(Fixtures.product("2026-01-01 09:00:00.000000", "CS01", "v1", 5.00)));
        products.pipeInput("CS01", Json.write(Fixtures.product("2026-01-01 10:00:00.000500", "CS01", "v2", 6.00)));
        products.pipeInput("CS01", Json.write(Fixtures.product("2026-01-01 11:00:00.000000", "CS01", "v3", 7.00)));
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private void send(String key, String json) {
        purchases.pipeInput(key, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] bytes(JsonNode record) {
        return Json.write(record).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code record} with a string field {@code pad} that makes its JSON exactly {@code size} bytes. */
    private static ObjectNode sized(ObjectNode record, String pad, int size) {
        record.put(pad, "");
        record.put(pad, "x".repeat(size - bytes(record).length));
        assertEquals(size, bytes(record).length);
        return record;
    }

    /** The dead letters written so far, each checked to be far below the broker's limit. */
    private List<JsonNode> boundedDeadLetters() {
        List<JsonNode> dead = new ArrayList<>();
        for (String value : invalid.readValuesToList()) {
            assertTrue(value.getBytes(StandardCharsets.UTF_8).length < BOUND, "dead letter of " + value.length() + " chars");
            dead.add(Json.read(value));
        }
        return dead;
    }

    private static void assertPayload(JsonNode dead, String reason, String payload, String encoding, boolean truncated,
                                      byte[] original) {
        assertEquals(reason, dead.get("reason").asText());
        assertEquals(payload, dead.get("payload").asText());
        assertEquals(encoding, dead.get("payload_encoding").asText());
        assertTrue(dead.get("payload_truncated").isBoolean(), dead.get("payload_truncated").toString());
        assertEquals(truncated, dead.get("payload_truncated").booleanValue());
        assertTrue(dead.get("payload_bytes").isIntegralNumber(), dead.get("payload_bytes").toString());
        assertEquals(original.length, dead.get("payload_bytes").longValue());
        assertEquals(Fixtures.sha256(original), dead.get("payload_sha256").asText());
    }

    private String productAt(String time) {
        send("1", Json.write(Fixtures.purchase(time, "1", 1, "CS01", 5.99, 1)));
        return Json.read(enriched.readValue()).get("product_name").asText();
    }

    @Test
    void eachPurchaseMeetsTheVersionValidAtItsTransactionTime() {
        assertEquals("v1", productAt("2026-01-01 09:00:00.000000"));   // exactly at v1
        assertEquals("v1", productAt("2026-01-01 09:59:59.999999"));
        assertEquals("v1", productAt("2026-01-01 10:00:00.000499"));   // same millisecond as v2, before it
        assertEquals("v2", productAt("2026-01-01 10:00:00.000500"));
        assertEquals("v2", productAt("2026-01-01 10:59:59.999999"));
        assertEquals("v3", productAt("2026-01-02 00:00:00.000000"));
        assertTrue(invalid.isEmpty());
    }

    @Test
    void aPurchaseOlderThanEveryVersionIsADeadLetter() {
        send("9", Json.write(Fixtures.purchase("2026-01-01 08:59:59.999999", "9", 1, "CS01", 5.99, 1)));
        assertTrue(enriched.isEmpty());
        JsonNode dead = Json.read(invalid.readValue());
        assertTrue(dead.get("reason").asText().startsWith("no_product_version: "), dead.toString());
        assertEquals("purchases", dead.get("source_topic").asText());
        assertEquals(0, dead.get("source_partition").asInt());
        assertEquals(0L, dead.get("source_offset").asLong());
        assertEquals("kstreams.purchases_enrichment", dead.get("rejected_by").asText());
    }

    @Test
    void malformedPurchasesAreDeadLettersWithTheirCoordinatesAndPayload() {
        send("a", "{not json");
        send("b", null);
        ObjectNode bad = Fixtures.purchase("2026-01-01 10:30:00.000000", "3", 1, "CS01", 5.99, 9);
        send("c", Json.write(bad));
        List<JsonNode> dead = new ArrayList<>();
        invalid.readValuesToList().forEach(v -> dead.add(Json.read(v)));
        assertEquals(3, dead.size());
        assertEquals("not_json: payload is not a JSON object", dead.get(0).get("reason").asText());
        assertEquals("{not json", dead.get(0).get("payload").asText());
        assertTrue(dead.get(1).get("payload").isNull());
        assertTrue(dead.get(2).get("reason").asText().startsWith("quantity_out_of_range: quantity 9"), dead.get(2).toString());
        assertEquals(2L, dead.get(2).get("source_offset").asLong());
        List<String> order = contract.schema("purchases_invalid").stream().map(Contract.Field::name).toList();
        List<String> names = new ArrayList<>();
        dead.get(2).fieldNames().forEachRemaining(names::add);
        assertEquals(order, names);
        assertTrue(enriched.isEmpty());
    }

    @Test
    void malformedProductRecordsAreDeadLettersAndNeverVersions() {
        ObjectNode mistyped = Fixtures.product("2026-01-01 10:30:00.000000", "CS01", "bad", 99.0);
        mistyped.put("price", "99.00");
        ObjectNode noTime = Fixtures.product("2026-01-01 10:30:00.000000", "CS01", "bad", 99.0);
        noTime.remove("event_time");
        products.pipeInput("CS01", Json.write(mistyped));
        products.pipeInput("CS01", "{not json");
        products.pipeInput("CS01", (String) null);
        products.pipeInput("CS01", Json.write(noTime));
        products.pipeInput("CS02", Json.write(Fixtures.product("2026-01-01 10:30:00.000000", "CS01", "bad", 99.0)));
        List<JsonNode> dead = new ArrayList<>();
        invalid.readValuesToList().forEach(v -> dead.add(Json.read(v)));
        assertEquals(5, dead.size(), dead.toString());
        assertEquals("product_mistyped_field: price is not a double", dead.get(0).get("reason").asText());
        assertEquals("product_not_json: payload is not a JSON object", dead.get(1).get("reason").asText());
        assertTrue(dead.get(2).get("payload").isNull());
        assertEquals("product_missing_field: event_time", dead.get(3).get("reason").asText());
        assertEquals("product_key_mismatch: product_id is not the record key", dead.get(4).get("reason").asText());
        for (int i = 0; i < dead.size(); i++) {
            assertEquals("products", dead.get(i).get("source_topic").asText());
            assertEquals(3L + i, dead.get(i).get("source_offset").asLong());
            assertEquals("kstreams.purchases_enrichment", dead.get(i).get("rejected_by").asText());
        }
        assertEquals("{not json", dead.get(1).get("payload").asText());
        // None of them is a version: the purchase at 10:45 still joins v2, and v3 still follows.
        assertEquals("v2", productAt("2026-01-01 10:45:00.000000"));
        assertEquals("v3", productAt("2026-01-01 11:45:00.000000"));
    }

    @Test
    void oversizedBinaryAndEmptyPurchasesAreBoundedDeadLettersAndLaterPurchasesStillJoin() {
        int maxBytes = Fixtures.setting("records", "max_bytes");
        int maxChars = Fixtures.setting("dead_letters", "payload_max_chars");
        byte[] quotes = new byte[600_000]; // escaped whole into a dead letter, 1.2 MB: the broker refused it
        Arrays.fill(quotes, (byte) '"');
        ObjectNode tooBig = Fixtures.purchase("2026-01-01 10:30:00.000000", "7", 1, "CS01", 5.99, 1);
        byte[] tooBigBytes = bytes(sized(tooBig, "coupon", maxBytes + 1)); // valid but for its size
        purchases.pipeInput("q", quotes);
        purchases.pipeInput("7", tooBigBytes);
        purchases.pipeInput("b", BINARY);
        purchases.pipeInput("e", new byte[0]);
        assertTrue(enriched.isEmpty());
        List<JsonNode> dead = boundedDeadLetters();
        assertEquals(4, dead.size());
        assertPayload(dead.get(0), "too_large: 600000 bytes, more than " + maxBytes, "\"".repeat(maxChars), "utf-8",
                true, quotes);
        assertPayload(dead.get(1), "too_large: " + (maxBytes + 1) + " bytes, more than " + maxBytes,
                new String(tooBigBytes, 0, maxChars, StandardCharsets.UTF_8), "utf-8", true, tooBigBytes);
        assertPayload(dead.get(2), "not_json: payload is not a JSON object", Base64.getEncoder().encodeToString(BINARY),
                "base64", false, BINARY);
        assertPayload(dead.get(3), "not_json: payload is not a JSON object", "", "utf-8", false, new byte[0]);
        for (int i = 0; i < dead.size(); i++) {
            assertEquals(i, dead.get(i).get("source_offset").asLong());
        }

        // At the limit a purchase is valid, enriched whole, and small on its way through the repartition topic.
        ObjectNode atLimit = sized(Fixtures.purchase("2026-01-01 10:45:00.000000", "8", 1, "CS01", 5.99, 1),
                "coupon", maxBytes);
        purchases.pipeInput("8", bytes(atLimit));
        assertEquals("v2", Json.read(enriched.readValue()).get("product_name").asText());
        assertEquals("v3", productAt("2026-01-01 11:45:00.000000"));
        TestOutputTopic<String, String> repartition =
                driver.createOutputTopic(REPARTITION, new StringDeserializer(), new StringDeserializer());
        List<String> trips = repartition.readValuesToList();
        assertEquals(2, trips.size());
        for (String trip : trips) {
            assertTrue(trip.getBytes(StandardCharsets.UTF_8).length < maxBytes + BOUND, "repartitioned " + trip.length());
        }
        assertTrue(invalid.isEmpty());
    }

    @Test
    void oversizedBinaryAndEmptyProductRecordsAreBoundedDeadLettersAndNeverVersions() {
        int maxBytes = Fixtures.setting("records", "max_bytes");
        int maxChars = Fixtures.setting("dead_letters", "payload_max_chars");
        TestInputTopic<String, byte[]> raw =
                driver.createInputTopic("products", new StringSerializer(), new ByteArraySerializer());
        byte[] tooBig = bytes(sized(Fixtures.product("2026-01-01 10:30:00.000000", "CS01", "big", 99.0), "item",
                maxBytes + 1));
        raw.pipeInput("CS01", tooBig);
        raw.pipeInput("CS01", BINARY);
        raw.pipeInput("CS01", new byte[0]);
        // At the limit a product record is a version.
        raw.pipeInput("CS01", bytes(sized(Fixtures.product("2026-01-01 11:30:00.000000", "CS01", "", 8.0), "item",
                maxBytes)));
        List<JsonNode> dead = boundedDeadLetters();
        assertEquals(3, dead.size());
        assertPayload(dead.get(0), "product_too_large: " + (maxBytes + 1) + " bytes, more than " + maxBytes,
                new String(tooBig, 0, maxChars, StandardCharsets.UTF_8), "utf-8", true, tooBig);
        assertPayload(dead.get(1), "product_not_json: payload is not a JSON object",
                Base64.getEncoder().encodeToString(BINARY), "base64", false, BINARY);
        assertPayload(dead.get(2), "product_not_json: payload is not a JSON object", "", "utf-8", false, new byte[0]);
        for (int i = 0; i < dead.size(); i++) {
            assertEquals("products", dead.get(i).get("source_topic").asText());
            assertEquals(3L + i, dead.get(i).get("source_offset").asLong());
        }
        assertEquals("v2", productAt("2026-01-01 10:45:00.000000"));
        assertEquals("v3", productAt("2026-01-01 11:15:00.000000"));
        assertTrue(productAt("2026-01-01 11:45:00.000000").startsWith("xxxx"));
    }

    @Test
    void enrichedRecordsFollowTheContractsFieldOrderAndKeys() {
        long before = System.currentTimeMillis();
        ObjectNode legacy = Fixtures.purchase("2026-01-01 10:30:00.123456", "x", 1, "CS01", 5.99, 2);
        legacy.remove("transaction_id");
        legacy.remove("line_number");
        send(null, Json.write(legacy));
        TestRecord<String, String> out = enriched.readRecord();
        JsonNode row = Json.read(out.value());
        List<String> order = contract.schema("purchases_enriched").stream().map(Contract.Field::name).toList();
        List<String> names = new ArrayList<>();
        row.fieldNames().forEachRemaining(names::add);
        assertEquals(order, names);
        assertEquals(true, row.get("identity_derived").asBoolean());
        assertEquals("1767263400123456", row.get("transaction_id").asText());
        assertEquals(1, row.get("line_number").asInt()); // offset 0 * 16 + partition 0 + 1
        assertEquals("1767263400123456", out.key());
        assertEquals(1767263400123L, row.get("transaction_timestamp").asLong());
        assertEquals("v2", row.get("product_name").asText());
        assertTrue(out.value().contains("\"product_price\":6.00,"), out.value());
        assertTrue(out.value().contains("\"total_purchase\":10.78,"), out.value());
        assertTrue(out.timestamp() >= before, "output stamped with the wall clock");
    }
}
