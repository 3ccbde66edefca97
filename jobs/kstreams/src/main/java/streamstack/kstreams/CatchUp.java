package streamstack.kstreams;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * When a bounded run is done: what it must process (read once at start) and whether it has.
 *
 * <p>The inputs are the app's source topics and its repartition topics: an earlier run stopped
 * right after a commit leaves re-keyed records there, unjoined, with nothing left on the sources
 * (a bounded run that waited for its sources only stopped at once and left them behind). A range
 * is waited for only if it holds a committed record: transaction markers and aborted records take
 * offsets but are never delivered, so nothing would ever reach the end of a range of only those.
 */
final class CatchUp {
    /** With the last offsets of a partition markers, it is done once it delivered nothing for this long. */
    private static final long QUIET_NANOS = 2_000_000_000L;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(15);

    private CatchUp() {}

    /** The application's repartition topics that exist (an earlier run created them). */
    static List<String> repartitionTopics(Admin admin, String applicationId)
            throws ExecutionException, InterruptedException {
        return admin.listTopics().names().get().stream()
                .filter(t -> t.startsWith(applicationId + "-") && t.endsWith("-repartition")).sorted().toList();
    }

    /**
     * Input partitions holding committed records this application has not committed yet, and their
     * end offsets. {@code client}: bootstrap and security settings.
     */
    static Map<TopicPartition, Long> pending(Admin admin, Properties client, String applicationId, List<String> topics)
            throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (var e : admin.describeTopics(topics).allTopicNames().get().entrySet()) {
            e.getValue().partitions().forEach(p -> {
                latest.put(new TopicPartition(e.getKey(), p.partition()), OffsetSpec.latest());
                earliest.put(new TopicPartition(e.getKey(), p.partition()), OffsetSpec.earliest());
            });
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, long[]> ranges = new HashMap<>();
        for (TopicPartition tp : latest.keySet()) {
            long end = ends.get(tp).offset();
            OffsetAndMetadata c = committed.get(tp);
            long from = Math.max(starts.get(tp).offset(), c == null ? 0 : c.offset());
            if (end > from) {
                ranges.put(tp, new long[] {from, end});
            }
        }
        Map<TopicPartition, Long> pending = new HashMap<>();
        for (TopicPartition tp : holdingRecords(client, ranges)) {
            pending.put(tp, ranges.get(tp)[1]);
        }
        return pending;
    }

    /**
     * The partitions whose range {@code [from, end)} holds a committed record, read read_committed:
     * a partition holds none once the position passes {@code end} with nothing delivered. One not
     * answered in time counts as holding records (the answer errs towards "more to read").
     */
    static Set<TopicPartition> holdingRecords(Properties client, Map<TopicPartition, long[]> ranges) {
        Set<TopicPartition> found = new HashSet<>();
        if (ranges.isEmpty()) {
            return found;
        }
        Properties props = new Properties();
        props.putAll(client);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        Map<TopicPartition, long[]> open = new HashMap<>(ranges);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(open.keySet());
            open.forEach((tp, range) -> consumer.seek(tp, range[0]));
            long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long[] range = open.remove(tp);
                    if (range != null && r.offset() < range[1]) {
                        found.add(tp);
                    }
                    if (range != null) {
                        consumer.pause(List.of(tp));
                    }
                }
                open.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue()[1]);
            }
        }
        found.addAll(open.keySet());
        return found;
    }

    /**
     * Caught up: every pending partition processed up to its end offset, or, where its last offsets
     * are transaction markers, processed into this run and then quiet for 2 s with no lag left; and
     * everything this run wrote to its repartition topic read back. Nothing processed of a partition
     * is never "quiet": its lag metric reads 0 while fetched records wait in the task (the join
     * idles until it knows its other input's lag).
     */
    static boolean caughtUp(KafkaStreams streams, Progress progress, Map<TopicPartition, Long> waitFor) {
        Map<TopicPartition, Double> lags = null;
        for (var e : waitFor.entrySet()) {
            TopicPartition tp = e.getKey();
            if (progress.offset(tp) + 1 >= e.getValue()) {
                continue;
            }
            if (progress.offset(tp) < 0) {
                return false;
            }
            if (lags == null) {
                lags = lags(streams);
            }
            Double lag = lags.get(tp);
            if (lag == null || lag > 0 || progress.quietFor(tp) < QUIET_NANOS) {
                return false;
            }
        }
        return progress.repartitionDrained();
    }

    private static Map<TopicPartition, Double> lags(KafkaStreams streams) {
        Map<TopicPartition, Double> lags = new HashMap<>();
        for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (!"records-lag".equals(name.name()) || !name.tags().containsKey("partition")) {
                continue;
            }
            Object value = e.getValue().metricValue();
            if (value instanceof Double d && !d.isNaN()) {
                lags.put(new TopicPartition(name.tags().get("topic"), Integer.parseInt(name.tags().get("partition"))), d);
            }
        }
        return lags;
    }
}
