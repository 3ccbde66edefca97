package streamstack.kstreams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Forwards a purchase line only the first time its identity (transaction_id, line_number) is seen.
 *
 * <p>A line sent twice (a generator rerun with the same seed re-sends what landed) is one line:
 * without this the aggregate would count it again. It runs after the repartition by product_id:
 * every copy of a line has the same product, so all copies reach the same task and its store even
 * when they were written to different partitions of the purchases topic (the conformance kit
 * sends one transaction to two; keyed by transaction_id before the repartition, the second copy
 * met an empty store in another task and was counted twice). One small entry per line.
 */
final class FirstLine implements FixedKeyProcessor<String, Totals.Line, Totals.Line> {
    static final String STORE = "purchase-lines-seen";
    private KeyValueStore<String, Integer> seen;
    private FixedKeyProcessorContext<String, Totals.Line> context;

    static StoreBuilder<KeyValueStore<String, Integer>> store() {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Integer());
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Totals.Line> context) {
        this.context = context;
        this.seen = context.getStateStore(STORE);
    }

    @Override
    public void process(FixedKeyRecord<String, Totals.Line> record) {
        if (seen.putIfAbsent(record.value().id(), 1) == null) {
            context.forward(record);
        }
    }
}
