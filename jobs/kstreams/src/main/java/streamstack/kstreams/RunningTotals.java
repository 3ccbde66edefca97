package streamstack.kstreams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * purchases -> valid lines keyed by product_id -> groupByKey().aggregate() -> running totals.
 *
 * <p>The seed's Part 1, exactly once: the aggregate's state, its changelog and the output are
 * committed in one transaction with the input offsets, so a crash and restart recomputes nothing
 * twice. Invalid purchases are not counted (the enrichment app is the one writer of dead letters).
 * A line sent twice (same transaction_id and line_number, e.g. a same-seed generator rerun), to
 * any partition, is counted once ({@link FirstLine}, after the repartition by product_id).
 */
public final class RunningTotals {
    public static final String APP = "running_totals";
    public static final String STORE = "running-totals";

    private RunningTotals() {}

    public static Topology build(Contract contract, Topics topics, Progress progress) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(FirstLine.store());
        builder.stream(topics.purchases(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .processValues(() -> new Validate(contract, progress))
                .filter((key, checked) -> checked.valid())
                .map((key, checked) -> {
                    progress.forwarded();
                    return KeyValue.pair(checked.field("product_id"), Totals.Line.of(checked));
                })
                .repartition(Repartitioned.with(Serdes.String(), Totals.Line.SERDE).withName("lines-by-product"))
                .processValues(() -> new Count<>(progress))
                // After the repartition: the copies of a line, whatever partitions they came from, meet here.
                .processValues(FirstLine::new, FirstLine.STORE)
                .groupByKey(Grouped.with(Serdes.String(), Totals.Line.SERDE))
                .aggregate(() -> Totals.EMPTY, (product, line, totals) -> totals.add(line),
                        Materialized.<String, Totals, KeyValueStore<Bytes, byte[]>>as(STORE)
                                .withKeySerde(Serdes.String()).withValueSerde(Totals.SERDE))
                .toStream()
                .processValues(WallClock::new)
                .mapValues((product, totals) -> Json.write(totals.toRecord(contract, product)))
                .to(topics.output(), Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    /** Counts what came out of the repartition topic, after everything downstream processed it. */
    static final class Count<V> implements FixedKeyProcessor<String, V, V> {
        private final Progress progress;
        private FixedKeyProcessorContext<String, V> context;

        Count(Progress progress) {
            this.progress = progress;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, V> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, V> record) {
            RecordMetadata meta = context.recordMetadata().orElseThrow();
            context.forward(record);
            progress.received();
            progress.seen(meta.topic(), meta.partition(), meta.offset());
        }
    }
}
