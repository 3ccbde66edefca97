package streamstack.kstreams;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;

/**
 * What this run has processed, for the bounded mode: the highest offset seen per input partition
 * (the app's repartition topics included: an earlier run may have left records there), and how many
 * records this run put into its repartition topic and took out of it. The app is caught up when
 * every input partition reached the end offset read at start and the repartition topic delivered
 * everything written to it (everything downstream of that runs in the same call).
 */
public final class Progress {
    private final Map<TopicPartition, Long> offsets = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> seenAt = new ConcurrentHashMap<>();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    public void seen(String topic, int partition, long offset) {
        TopicPartition tp = new TopicPartition(topic, partition);
        offsets.merge(tp, offset, Math::max);
        seenAt.put(tp, System.nanoTime());
    }

    public void forwarded() {
        forwarded.incrementAndGet();
    }

    public void received() {
        received.incrementAndGet();
    }

    /** Highest offset processed on a partition in this run, or -1. */
    public long offset(TopicPartition tp) {
        return offsets.getOrDefault(tp, -1L);
    }

    /** Nanoseconds since a record of this partition was last processed (Long.MAX_VALUE if never). */
    public long quietFor(TopicPartition tp) {
        Long at = seenAt.get(tp);
        return at == null ? Long.MAX_VALUE : System.nanoTime() - at;
    }

    public boolean repartitionDrained() {
        return received.get() >= forwarded.get();
    }

    public long forwardedCount() {
        return forwarded.get();
    }

    public long receivedCount() {
        return received.get();
    }
}
