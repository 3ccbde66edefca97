package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** What each app runs with: a live run commits often (its outputs show at commits), a bounded one less. */
class MainPropertiesTest {

    private static Properties of(String app, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(app, "--bootstrap-servers", "127.0.0.1:9092"));
        args.addAll(List.of(more));
        return Main.properties(new Options(args, Map.of()), app);
    }

    @Test
    void liveRunsCommitOftenBoundedRunsLess() throws Exception {
        assertEquals(String.valueOf(Main.LIVE_COMMIT_MS), of("running_totals").get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals("100", of("running_totals", "--mode", "bounded").get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals("50", of("running_totals", "--commit-interval-ms", "50").get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
    }

    @Test
    void onlyTheJoinWaitsForItsOtherInput() throws Exception {
        assertEquals("10000", of("purchases_enrichment", "--mode", "bounded").get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG));
        // Live, a wait for producers held every purchase up to 10 s (the products topic is quiet).
        assertEquals("0", of("purchases_enrichment").get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG));
        assertEquals("250", of("purchases_enrichment", "--max-task-idle-ms", "250").get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG));
        assertNull(of("running_totals").get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG));
        assertNull(of("sales_windows").get(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG));
    }

    @Test
    void aCommitIntervalPastTheTransactionTimeoutGetsATimeoutToMatch() throws Exception {
        String timeout = StreamsConfig.producerPrefix("transaction.timeout.ms");
        assertNull(of("running_totals", "--commit-interval-ms", "9999").get(timeout));
        assertEquals("310000", of("running_totals", "--commit-interval-ms", "300000").get(timeout));
    }
}
