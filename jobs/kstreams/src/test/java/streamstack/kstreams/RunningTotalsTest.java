package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RunningTotalsTest {
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> purchases;
    private TestOutputTopic<String, String> totals;
    private Contract contract;

    @BeforeEach
    void setUp() throws Exception {
        contract = Fixtures.contract();
        Topics topics = new Topics("purchases", null, "totals", null, 0);
        driver = new TopologyTestDriver(RunningTotals.build(contract, topics, new Progress()), Fixtures.props("totals"));
        purchases = driver.createInputTopic("purchases", new StringSerializer(), new ByteArraySerializer());
        totals = driver.createOutputTopic("totals", new StringDeserializer(), new StringDeserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private void send(String key, String json) {
        purchases.pipeInput(key, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void totalsPerProductCountOnlyValidLines() {
        send("1", Json.write(Fixtures.purchase("2026-01-01 10:00:00.000000", "1", 1, "CS01", 5.99, 2)));
        send("1", Json.write(Fixtures.purchase("2026-01-01 10:00:00.000000", "1", 2, "SF02", 4.99, 1)));
        send("2", Json.write(Fixtures.purchase("2026-01-01 10:05:00.000000", "2", 1, "CS01", 5.99, 3)));
        send("3", "{not json");
        send("4", Json.write(Fixtures.purchase("2026-01-01 10:06:00.000000", "4", 1, "XX99", 5.99, 3)));
        send("5", Json.write(Fixtures.purchase("2026-01-01 09:00:00.000000", "5", 1, "CS01", 5.99, 1)));

        Map<String, String> latest = totals.readKeyValuesToMap();
        assertEquals(List.of("CS01", "SF02"), latest.keySet().stream().sorted().toList());
        JsonNode cs01 = Json.read(latest.get("CS01"));
        // 2 x 5.99 x 0.9 = 10.78, 3 x 5.99 x 0.9 = 16.17, 1 x 5.99 x 0.9 = 5.39
        assertEquals("{\"event_time\":\"2026-01-01 10:05:00.000000\",\"product_id\":\"CS01\",\"transactions\":3,"
                + "\"quantities\":6,\"sales\":32.34}", Json.write(cs01));
        List<String> order = contract.schema("running_totals").stream().map(Contract.Field::name).toList();
        assertEquals(order, iterator(cs01));

        KeyValueStore<String, Totals> store = driver.getKeyValueStore(RunningTotals.STORE);
        assertEquals(new Totals("2026-01-01 10:00:00.000000", 1, 1, 449), store.get("SF02"));
    }

    @Test
    void aLineSentTwiceIsCountedOnce() {
        String line = Json.write(Fixtures.purchase("2026-01-01 10:00:00.000000", "1", 1, "CS01", 5.99, 2));
        send("1", line);
        send("2", Json.write(Fixtures.purchase("2026-01-01 10:01:00.000000", "2", 1, "CS01", 5.99, 1)));
        send("1", line);  // a same-seed rerun re-sends what landed
        JsonNode cs01 = Json.read(totals.readKeyValuesToMap().get("CS01"));
        assertEquals(2, cs01.get("transactions").asInt());
        assertEquals(3, cs01.get("quantities").asInt());
    }

    @Test
    void oversizedBinaryAndEmptyPurchasesAreNotCountedAndTheNextOneIs() {
        int maxBytes = Fixtures.setting("records", "max_bytes");
        byte[] quotes = new byte[600_000];
        java.util.Arrays.fill(quotes, (byte) '"');
        JsonNode tooBig = Fixtures.purchase("2026-01-01 10:00:00.000000", "1", 1, "CS01", 5.99, 2)
                .put("coupon", "x".repeat(maxBytes)); // valid but for its size
        purchases.pipeInput("q", quotes);
        send("1", Json.write(tooBig));
        purchases.pipeInput("b", new byte[] {(byte) 0xff, (byte) 0xfe, 0, 'b', (byte) 0x80});
        purchases.pipeInput("e", new byte[0]);
        send("2", Json.write(Fixtures.purchase("2026-01-01 10:01:00.000000", "2", 1, "CS01", 5.99, 1)));
        Map<String, String> latest = totals.readKeyValuesToMap();
        assertEquals(List.of("CS01"), List.copyOf(latest.keySet()));
        JsonNode cs01 = Json.read(latest.get("CS01"));
        assertEquals(1, cs01.get("transactions").asInt());
        assertEquals(1, cs01.get("quantities").asInt());
    }

    @Test
    void copiesOfALineOnDifferentPartitionsMeetInOneStore() {
        // The driver has one partition per topic, so it cannot send a line to two; what makes such
        // copies meet is where the store sits: in the sub-topology reading the repartition by product.
        TopologyDescription described = RunningTotals.build(contract,
                new Topics("purchases", null, "totals", null, 0), new Progress()).describe();
        List<Set<String>> sourcesOfTheStore = new ArrayList<>();
        for (TopologyDescription.Subtopology sub : described.subtopologies()) {
            boolean holds = sub.nodes().stream().anyMatch(n -> n instanceof TopologyDescription.Processor p
                    && p.stores().contains(FirstLine.STORE));
            if (holds) {
                Set<String> topics = new TreeSet<>();
                sub.nodes().stream().filter(n -> n instanceof TopologyDescription.Source)
                        .forEach(n -> topics.addAll(((TopologyDescription.Source) n).topicSet()));
                sourcesOfTheStore.add(topics);
            }
        }
        assertEquals(List.of(Set.of("lines-by-product-repartition")), sourcesOfTheStore);
    }

    @Test
    void outputCarriesTheWallClockNotTheEventTime() {
        long before = System.currentTimeMillis();
        send("1", Json.write(Fixtures.purchase("2019-01-01 10:00:00.000000", "1", 1, "CS01", 5.99, 2)));
        TestRecord<String, String> out = totals.readRecord();
        assertTrue(out.timestamp() >= before, "output stamped " + out.timestamp() + ", before " + before);
    }

    private static List<String> iterator(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
