package streamstack.kstreams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Timestamps of the products topic: a version's {@code event_time} (one millisecond early, see
 * {@link EventTime}); a record the contract rejects keeps the partition's time. Its own
 * {@code event_time} must not count: one dated later than the versions after it (the kit's
 * key-mismatch record) made stream-time order join purchases before those versions arrived.
 */
public final class ProductTime implements TimestampExtractor {
    private final Contract contract;
    private final EventTime versions = new EventTime("event_time", true, -1L);

    public ProductTime(Contract contract) {
        this.contract = contract;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        Object key = record.key();
        String k = key instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : key == null ? null : key.toString();
        Object value = record.value();
        byte[] payload = value instanceof byte[] b ? b : value == null ? null : value.toString().getBytes(StandardCharsets.UTF_8);
        if (!contract.checkProduct(k, payload).valid()) {
            return Math.max(partitionTime, 0L);
        }
        return versions.extract(record, partitionTime);
    }
}
