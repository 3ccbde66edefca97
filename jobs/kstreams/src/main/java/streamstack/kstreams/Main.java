package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one app: {@code running_totals}, {@code purchases_enrichment} or {@code sales_windows}.
 *
 * <pre>
 * java -cp 'streamstack-kstreams.jar:lib/*' streamstack.kstreams.Main running_totals \
 *      --contract contract.json --client-properties kafka.properties --purchases-topic demo.purchases \
 *      --output-topic demo.running.totals [--mode continuous|bounded] [--http-port 7070 --port-file F]
 * </pre>
 *
 * {@code continuous} runs until SIGTERM; {@code bounded} stops once it has processed the input
 * topics up to the end offsets they had at start (for tests and one-off runs). Either way the stop
 * is a clean close that leaves the group at once (the next start does not wait out a session
 * timeout) after committing the last transaction.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

    private Main() {}

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            LOG.error("failed", e);
            System.exit(1);
        }
    }

    static int run(String[] argv) throws Exception {
        Options o = new Options(List.of(argv), System.getenv());
        String app = o.require("app");
        if (!List.of(RunningTotals.APP, Enrichment.APP, SalesWindows.APP).contains(app)) {
            throw new IllegalArgumentException(
                    "unknown app '" + app + "' (known: running_totals, purchases_enrichment, sales_windows)");
        }
        String mode = o.get("mode", "continuous");
        if (!List.of("continuous", "bounded").contains(mode)) {
            throw new IllegalArgumentException("--mode must be continuous or bounded, got '" + mode + "'");
        }
        Contract contract = Contract.load(Path.of(o.require("contract")));
        Properties props = properties(o, app);
        String applicationId = props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
        Progress progress = new Progress();
        Map<TopicPartition, Long> waitFor;
        Topology topology;
        try (Admin admin = Admin.create(adminProperties(props))) {
            boolean enrichment = Enrichment.APP.equals(app);
            String purchases = o.require("purchases-topic");
            String products = enrichment ? o.require("products-topic") : null;
            Topics topics = new Topics(purchases, products, o.require("output-topic"),
                    RunningTotals.APP.equals(app) ? null : o.require("invalid-topic"),
                    enrichment ? partitions(admin, products) : 0);
            topology = switch (app) {
                case Enrichment.APP -> Enrichment.build(contract, topics, progress,
                        Duration.ofDays(o.getInt("history-retention-days", 3650)));
                case SalesWindows.APP -> SalesWindows.build(contract, topics, progress, partitions(admin, purchases));
                default -> RunningTotals.build(contract, topics, progress);
            };
            List<String> inputs = new ArrayList<>(enrichment ? List.of(purchases, products) : List.of(purchases));
            // What an earlier run re-keyed but did not join yet is input too (repartition topics).
            inputs.addAll(CatchUp.repartitionTopics(admin, applicationId));
            waitFor = "bounded".equals(mode)
                    ? CatchUp.pending(admin, adminProperties(props), applicationId, inputs) : Map.of();
        }
        KafkaStreams streams = new KafkaStreams(topology, props);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("stream thread failed; the app stops processing (state ERROR)", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Server server = new Server(streams, app, applicationId, contract, () -> bounded(mode, progress, waitFor));
        int port = server.start(o.get("http-host", "127.0.0.1"), o.getInt("http-port", 0));
        writePortFile(o.get("port-file", null), port);
        LOG.info("{} ({}, {}): HTTP on 127.0.0.1:{}", app, applicationId, mode, port);

        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            close(streams, server);
            closed.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        streams.start();
        if ("continuous".equals(mode)) {
            closed.await();
            return 0;
        }
        boolean running = false;
        long polls = 0;
        long runningSince = 0;
        while (true) {
            KafkaStreams.State state = streams.state();
            if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.NOT_RUNNING) {
                LOG.error("{} ended in state {} before catching up", app, state);
                Runtime.getRuntime().removeShutdownHook(hook);
                close(streams, server);
                return 1;
            }
            if (!running && state == KafkaStreams.State.RUNNING) {
                running = true;
                runningSince = System.nanoTime();
            }
            if (running && CatchUp.caughtUp(streams, progress, waitFor)) {
                break;
            }
            if (++polls % 20 == 0) {
                LOG.info("bounded: {}", bounded(mode, progress, waitFor));
            }
            Thread.sleep(100);
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        close(streams, server);
        LOG.info("{}: caught up ({} lines through the repartition topic) in {} s since RUNNING; stopped", app,
                progress.receivedCount(), String.format("%.3f", (System.nanoTime() - runningSince) / 1e9));
        return 0;
    }

    private static void close(KafkaStreams streams, Server server) {
        boolean clean = streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT));
        server.stop();
        LOG.info("closed {}", clean ? "cleanly (left the group, last transaction committed)" : "with a timeout");
    }

    /**
     * Commit interval of a continuous run. Under exactly once an output is visible to read_committed
     * readers (Pinot, the totals' consumers) only once its transaction commits, and the running totals
     * cross two (the repartition topic is transactional too): a live update takes about two
     * intervals. Measured in bench/kstreams.py (bench/RESULTS.md).
     */
    static final int LIVE_COMMIT_MS = 10;
    /** A bounded run is about throughput: fewer, larger transactions. */
    static final int BOUNDED_COMMIT_MS = 100;
    /** How long the enrichment's join waits for its other input to send more, live and bounded. */
    static final int LIVE_TASK_IDLE_MS = 0;
    static final int BOUNDED_TASK_IDLE_MS = 10_000;
    /** Kafka Streams' transaction timeout under exactly-once. */
    static final int EOS_TRANSACTION_TIMEOUT_MS = 10_000;

    /** Streams settings: exactly once, the client properties file (security), then the options. */
    static Properties properties(Options o, String app) throws IOException {
        Properties props = new Properties();
        String file = o.get("client-properties", null);
        if (file != null) {
            try (Reader r = Files.newBufferedReader(Path.of(file))) {
                props.load(r);
            }
        }
        String servers = o.get("bootstrap-servers", null);
        if (servers != null) {
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        }
        if (!props.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException("no bootstrap.servers: give --bootstrap-servers or --client-properties");
        }
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, o.get("application-id", "streamstack-" + app.replace('_', '-')));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(o.getInt("threads", 1)));
        boolean live = !"bounded".equals(o.get("mode", "continuous"));
        int commitMs = o.getInt("commit-interval-ms", live ? LIVE_COMMIT_MS : BOUNDED_COMMIT_MS);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.toString(commitMs));
        if (commitMs >= EOS_TRANSACTION_TIMEOUT_MS) {
            // Streams refuses a commit interval at or above its transactions' 10 s timeout (each
            // transaction spans an interval); a longer interval asked for gets a timeout to match.
            props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
                    Integer.toString(commitMs + EOS_TRANSACTION_TIMEOUT_MS));
        }
        if (Enrichment.APP.equals(app)) {
            // The one task reading two inputs (products and the re-keyed purchases) picks records by
            // timestamp among what it has fetched. A bounded run over a history waits up to 10 s for
            // the other input whenever one runs dry: with Streams' default 0 a CI run joined purchases
            // before later product versions had arrived (products at 27 of 72, wrong versions).
            // Live, that wait is for producers, and the products topic is quiet: it held every
            // purchase up to 10 s (bench/live.py). The default 0 still waits to fetch what is on
            // the broker, and a product version is committed before the sales that name it.
            props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG,
                    Integer.toString(o.getInt("max-task-idle-ms", live ? LIVE_TASK_IDLE_MS : BOUNDED_TASK_IDLE_MS)));
        }
        // A killed instance holds its partitions until the session times out; 45 s by default.
        props.put(StreamsConfig.consumerPrefix("session.timeout.ms"), Integer.toString(o.getInt("session-timeout-ms", 10_000)));
        String stateDir = o.get("state-dir", null);
        if (stateDir != null) {
            props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        }
        return props;
    }

    private static Properties adminProperties(Properties streams) {
        Properties admin = new Properties();
        for (String key : streams.stringPropertyNames()) {
            if (key.equals("bootstrap.servers") || key.startsWith("security.") || key.startsWith("sasl.")
                    || key.startsWith("ssl.")) {
                admin.put(key, streams.getProperty(key));
            }
        }
        return admin;
    }

    private static int partitions(Admin admin, String topic) throws ExecutionException, InterruptedException {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        return d.partitions().size();
    }

    private static JsonNode bounded(String mode, Progress progress, Map<TopicPartition, Long> waitFor) {
        ObjectNode n = Json.object().put("mode", mode).put("repartitioned", progress.forwardedCount())
                .put("joined", progress.receivedCount());
        List<String> pending = new ArrayList<>();
        waitFor.forEach((tp, end) -> {
            if (progress.offset(tp) + 1 < end) {
                pending.add(tp + " at " + (progress.offset(tp) + 1) + " of " + end);
            }
        });
        if ("bounded".equals(mode)) {
            n.set("pending", Json.MAPPER.valueToTree(pending));
        }
        return n;
    }

    private static void writePortFile(String file, int port) throws IOException {
        if (file == null) {
            return;
        }
        Path target = Path.of(file);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, "{\"port\": " + port + ", \"pid\": " + ProcessHandle.current().pid() + "}\n");
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
