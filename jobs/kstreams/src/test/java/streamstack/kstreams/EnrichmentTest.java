package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
