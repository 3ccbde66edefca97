package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * purchases -> valid lines keyed by product_id -> sales and drinks per product in the contract's
 * sliding windows ({@code windows}: 10 minutes sliding 5), as Spark's and Flink's jobs compute them.
 *
 * <p>Not a {@code windowedBy().aggregate()}: its grace period drops a record behind stream time
 * with a metric only. Late is the contract's rule ({@code contract.late_for_windows}): a valid line
 * more than {@code allowed_lateness_minutes} behind the newest valid line before it on its
 * partition. {@link Gate} decides it where the partition is read (its task reads that partition
 * alone, in order, so the answer does not depend on how fast other partitions go) and turns a
 * late line into a dead letter; the others are added, after the repartition by product_id, to each
 * of their windows once ({@link WindowTotals}). A window's state goes once every partition's
 * newest line minus the lateness has passed its end: no on-time line can belong to it then.
 * Output: upserts keyed {"window_start":...,"product_id":...} (config/topics.yaml), the latest one
 * per key is the window's total. Exactly once, like the other apps.
 */
public final class SalesWindows {
    public static final String APP = "sales_windows";
    public static final String NEWEST = "partition-newest";
    public static final String STORE = "window-totals";
    public static final String LINES = "window-lines";
    public static final String TIMES = "window-partition-times";
    public static final String REJECTED_BY = "kstreams." + APP;

    private SalesWindows() {}

    /** A valid line with its time (epoch ms) and the newest time on its partition so far. */
    record Gated(Checked line, long at, long newest) {
        static final Serde<Gated> SERDE = JsonSerde.of(
                g -> Json.object().put("at", g.at).put("newest", g.newest).set("line", g.line.toJson()),
                n -> new Gated(Checked.fromJson(n.get("line")), n.get("at").asLong(), n.get("newest").asLong()));
    }

    /**
     * @param partitions the purchases topic's partition count: a window is released only once
     *     every partition has reported how far it is.
     */
    public static Topology build(Contract contract, Topics topics, Progress progress, int partitions) {
        Contract.Windows windows = contract.windows();
        StreamsBuilder builder = new StreamsBuilder();
        for (String name : List.of(NEWEST, STORE, LINES, TIMES)) {
            builder.addStateStore(store(name));
        }
        builder.stream(topics.purchases(), Consumed.with(Serdes.String(), Serdes.ByteArray())
                        .withTimestampExtractor(new EventTime("transaction_time")).withName("purchases"))
                .processValues(() -> new Validate(contract, progress))
                .filter((key, checked) -> checked.valid())
                .processValues(Gate::new, NEWEST)
                .split(Named.as("gated-"))
                .branch((key, g) -> g.at() < g.newest() - windows.latenessMs(), Branched.withConsumer(late -> late
                        .mapValues(g -> Json.write(g.line().deadLetter(contract, REJECTED_BY, reason(contract, g))))
                        .processValues(WallClock::new)
                        .to(topics.invalid(), Produced.with(Serdes.String(), Serdes.String()))))
                .defaultBranch(Branched.withConsumer(onTime -> onTime
                        .map((key, g) -> {
                            progress.forwarded();
                            return KeyValue.pair(g.line().field("product_id"), g);
                        })
                        .repartition(Repartitioned.with(Serdes.String(), Gated.SERDE).withName("lines-by-product"))
                        .processValues(() -> new RunningTotals.Count<>(progress))
                        .process(() -> new WindowTotals(contract, partitions), STORE, LINES, TIMES)
                        .processValues(WallClock::new)
                        .to(topics.output(), Produced.with(Serdes.String(), Serdes.String()))));
        return builder.build();
    }

    static StoreBuilder<KeyValueStore<String, String>> store(String name) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), Serdes.String());
    }

    private static String reason(Contract contract, Gated g) {
        Contract.Windows w = contract.windows();
        return w.lateCode() + ": transaction_time " + g.line().field("transaction_time") + " is behind the windows' "
                + "watermark " + contract.formatTime(g.newest() - w.latenessMs()) + " (the newest transaction_time "
                + "before it on partition " + g.line().partition() + " minus " + w.latenessMs() / 60_000 + " minutes)";
    }

    /** Stamps each valid line with the newest valid time on its partition so far ({@link #NEWEST}). */
    static final class Gate implements FixedKeyProcessor<String, Checked, Gated> {
        private FixedKeyProcessorContext<String, Gated> context;
        private KeyValueStore<String, String> newest;

        @Override
        public void init(FixedKeyProcessorContext<String, Gated> context) {
            this.context = context;
            this.newest = context.getStateStore(NEWEST);
        }

        @Override
        public void process(FixedKeyRecord<String, Checked> record) {
            String partition = Integer.toString(record.value().partition());
            String known = newest.get(partition);
            long at = record.timestamp();
            long latest = known == null ? at : Math.max(Long.parseLong(known), at);
            newest.put(partition, Long.toString(latest));
            context.forward(record.withValue(new Gated(record.value(), at, latest)));
        }
    }

    /**
     * The windows of one task's products: {@link #STORE} holds each open window's totals (key: its
     * identity), {@link #LINES} the lines it counted (key: identity NUL transaction_id NUL
     * line_number), {@link #TIMES} the newest time each purchases partition has reported.
     */
    static final class WindowTotals implements Processor<String, Gated, String, String> {
        private final Contract contract;
        private final Contract.Windows windows;
        private final int partitions;
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, String> store;
        private KeyValueStore<String, String> lines;
        private KeyValueStore<String, String> times;
        /** {@link #TIMES} in memory (a few entries), and the watermark of the last release. */
        private final Map<String, Long> newest = new HashMap<>();
        private long released = Long.MIN_VALUE;

        WindowTotals(Contract contract, int partitions) {
            this.contract = contract;
            this.windows = contract.windows();
            this.partitions = partitions;
        }

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
            this.lines = context.getStateStore(LINES);
            this.times = context.getStateStore(TIMES);
            try (KeyValueIterator<String, String> all = times.all()) {
                all.forEachRemaining(kv -> newest.put(kv.key, Long.parseLong(kv.value)));
            }
        }

        @Override
        public void process(Record<String, Gated> record) {
            Gated g = record.value();
            String partition = Integer.toString(g.line().partition());
            if (newest.getOrDefault(partition, Long.MIN_VALUE) < g.newest()) {
                newest.put(partition, g.newest());
                times.put(partition, Long.toString(g.newest()));
                release();
            }
            Checked line = g.line();
            String id = line.field("transaction_id") + "\u0000" + line.field("line_number");
            long quantity = line.record().get("quantity").asLong();
            long cents = Json.money(line.record().get("total_purchase").doubleValue()).movePointRight(2).longValueExact();
            String product = record.key();
            for (long start : windows.starts(g.at())) {
                String key = key(start, product);
                if (lines.putIfAbsent(key + "\u0000" + id, "") != null) {
                    continue;  // counted already: a line sent twice
                }
                String stored = store.get(key);
                ObjectNode state = stored == null ? Json.object().put("n", 0L).put("q", 0L).put("c", 0L)
                        : (ObjectNode) Json.read(stored);
                state.put("n", state.get("n").asLong() + 1).put("q", state.get("q").asLong() + quantity)
                        .put("c", state.get("c").asLong() + cents).put("s", start);
                store.put(key, Json.write(state));
                context.forward(record.withKey(key).withValue(Json.write(window(start, product, state))));
            }
        }

        /**
         * Drops the windows that ended before every partition's newest line minus the lateness
         * (checked each time that moves on by a slide; a partition not heard of yet may still send
         * lines of any open window).
         */
        private void release() {
            if (newest.size() < partitions) {
                return;
            }
            long watermark = newest.values().stream().mapToLong(Long::longValue).min().orElseThrow() - windows.latenessMs();
            if (watermark < released + windows.slideMs()) {
                return;
            }
            released = watermark;
            List<String> closed = new ArrayList<>();
            try (KeyValueIterator<String, String> all = store.all()) {
                all.forEachRemaining(kv -> {
                    if (Json.read(kv.value).get("s").asLong() + windows.sizeMs() <= watermark) {
                        closed.add(kv.key);
                    }
                });
            }
            for (String key : closed) {
                store.delete(key);
                List<String> counted = new ArrayList<>();
                try (KeyValueIterator<String, String> of = lines.prefixScan(key + "\u0000", new StringSerializer())) {
                    of.forEachRemaining(kv -> counted.add(kv.key));
                }
                counted.forEach(lines::delete);
            }
        }

        private String key(long start, String product) {
            return Json.write(Json.object().put("window_start", contract.formatTime(start)).put("product_id", product));
        }

        /** The output record, fields in the order of the contract's sales_windows schema. */
        private ObjectNode window(long start, String product, JsonNode state) {
            ObjectNode out = Json.object();
            for (Contract.Field f : contract.schema("sales_windows")) {
                switch (f.name()) {
                    case "window_start" -> out.put("window_start", contract.formatTime(start));
                    case "window_end" -> out.put("window_end", contract.formatTime(start + windows.sizeMs()));
                    case "product_id" -> out.put("product_id", product);
                    case "transactions" -> out.put("transactions", state.get("n").asLong());
                    case "drinks" -> out.put("drinks", state.get("q").asLong());
                    case "sales" -> out.put("sales", BigDecimal.valueOf(state.get("c").asLong(), 2));
                    default -> throw new IllegalStateException(
                            "contract: sales_windows field '" + f.name() + "' is unknown to this app");
                }
            }
            return out;
        }
    }
}
