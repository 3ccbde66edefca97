package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SalesWindowsTest {
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> purchases;
    private TestOutputTopic<String, String> windows;
    private TestOutputTopic<String, String> invalid;

    @BeforeEach
    void setUp() throws Exception {
        Topics topics = new Topics("purchases", null, "windows", "invalid", 0);
        driver = new TopologyTestDriver(SalesWindows.build(Fixtures.contract(), topics, new Progress(), 1),
                Fixtures.props("windows"));
        purchases = driver.createInputTopic("purchases", new StringSerializer(), new ByteArraySerializer());
        windows = driver.createOutputTopic("windows", new StringDeserializer(), new StringDeserializer());
        invalid = driver.createOutputTopic("invalid", new StringDeserializer(), new StringDeserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private void send(String time, String id, String product, int quantity) {
        send(Json.write(Fixtures.purchase(time, id, 1, product, 5.99, quantity)), id);
    }

    private void send(String json, String key) {
        purchases.pipeInput(key, json.getBytes(StandardCharsets.UTF_8));
    }

    private static String key(String start, String product) {
        return "{\"window_start\":\"" + start + "\",\"product_id\":\"" + product + "\"}";
    }

    @Test
    void eachLineIsInItsTwoWindowsAndCountedOnce() {
        send("2026-01-01 10:02:00.000000", "1", "CS01", 2);
        String again = Json.write(Fixtures.purchase("2026-01-01 10:07:00.000000", "2", 1, "CS01", 5.99, 1));
        send(again, "2");
        send(again, "2");  // a same-seed rerun re-sends what landed
        send("2026-01-01 10:08:00.000000", "3", "SF02", 3);

        Map<String, String> latest = windows.readKeyValuesToMap();
        assertEquals(List.of(key("2026-01-01 09:55:00.000000", "CS01"), key("2026-01-01 10:00:00.000000", "CS01"),
                        key("2026-01-01 10:00:00.000000", "SF02"), key("2026-01-01 10:05:00.000000", "CS01"),
                        key("2026-01-01 10:05:00.000000", "SF02")),
                latest.keySet().stream().sorted().toList());
        // 2 x 5.99 x 0.9 = 10.78 and 1 x 5.99 x 0.9 = 5.39 (Fixtures.purchase: a member, no supplement)
        assertEquals("{\"window_start\":\"2026-01-01 10:00:00.000000\",\"window_end\":\"2026-01-01 10:10:00.000000\","
                + "\"product_id\":\"CS01\",\"transactions\":2,\"drinks\":3,\"sales\":16.17}",
                latest.get(key("2026-01-01 10:00:00.000000", "CS01")));
        assertEquals(1, Json.read(latest.get(key("2026-01-01 10:05:00.000000", "CS01"))).get("transactions").asInt());
        assertTrue(invalid.isEmpty());
    }

    @Test
    void aLineBehindTheWatermarkIsDeadLetteredLateAndInNoWindow() {
        send("2026-01-01 10:20:00.000000", "1", "CS01", 1);
        send("2026-01-01 10:12:00.000000", "2", "CS01", 1);  // 8 minutes behind: within the lateness
        send("2026-01-01 09:00:00.000000", "3", "CS01", 3);  // behind 10:10, the watermark
        Map<String, String> latest = windows.readKeyValuesToMap();
        assertEquals(4, latest.size());
        assertTrue(latest.keySet().stream().noneMatch(k -> k.contains(" 08:55") || k.contains(" 09:00")));
        List<JsonNode> letters = invalid.readValuesToList().stream().map(Json::read).toList();
        assertEquals(1, letters.size());
        JsonNode letter = letters.get(0);
        assertEquals("late: transaction_time 2026-01-01 09:00:00.000000 is behind the windows' watermark "
                + "2026-01-01 10:10:00.000000 (the newest transaction_time before it on partition 0 minus 10 minutes)",
                letter.get("reason").asText());
        assertEquals(SalesWindows.REJECTED_BY, letter.get("rejected_by").asText());
        assertEquals("3", Json.read(letter.get("payload").asText()).get("transaction_id").asText());
        assertEquals("purchases", letter.get("source_topic").asText());
    }

    @Test
    void aWindowsStateGoesOnceTheWatermarkPassesItsEnd() {
        send("2026-01-01 10:02:00.000000", "1", "CS01", 1);
        send("2026-01-01 10:03:00.000000", "2", "CS01", 1);
        assertEquals(2, count(driver.getKeyValueStore(SalesWindows.STORE)));
        assertEquals(4, count(driver.getKeyValueStore(SalesWindows.LINES)));
        send("2026-01-01 10:31:00.000000", "3", "SF02", 1);  // watermark 10:21: both CS01 windows ended
        assertEquals(2, count(driver.getKeyValueStore(SalesWindows.STORE)));
        assertEquals(2, count(driver.getKeyValueStore(SalesWindows.LINES)));
    }

    private static long count(KeyValueStore<String, String> store) {
        long n = 0;
        try (KeyValueIterator<String, String> all = store.all()) {
            while (all.hasNext()) {
                all.next();
                n++;
            }
        }
        return n;
    }
}
