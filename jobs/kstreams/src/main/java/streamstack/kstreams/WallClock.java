package streamstack.kstreams;

import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Stamps output records with the wall-clock time. Kafka Streams would write the event time as the
 * record timestamp, and a topic with time retention deletes records older than retention.ms at
 * once: a replay of old recordings would lose its output (RUNTIME.md section 4).
 */
final class WallClock<V> implements FixedKeyProcessor<String, V, V> {
    private FixedKeyProcessorContext<String, V> context;

    @Override
    public void init(FixedKeyProcessorContext<String, V> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, V> record) {
        context.forward(record.withTimestamp(System.currentTimeMillis()));
    }
}
