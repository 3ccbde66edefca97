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
 * without this the aggregate would count it again. Purchases are keyed by transaction_id, so both
 * copies reach the same task and its store. One small entry per line, as Pinot's dedup keeps.
 */
final class FirstLine implements FixedKeyProcessor<String, Checked, Checked> {
    static final String STORE = "purchase-lines-seen";
    private KeyValueStore<String, Integer> seen;
    private FixedKeyProcessorContext<String, Checked> context;

    static StoreBuilder<KeyValueStore<String, Integer>> store() {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Integer());
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Checked> context) {
        this.context = context;
        this.seen = context.getStateStore(STORE);
    }

    @Override
    public void process(FixedKeyRecord<String, Checked> record) {
        Checked line = record.value();
        String identity = line.field("transaction_id") + "\u0000" + line.field("line_number");
        if (seen.putIfAbsent(identity, 1) == null) {
            context.forward(record);
        }
    }
}
