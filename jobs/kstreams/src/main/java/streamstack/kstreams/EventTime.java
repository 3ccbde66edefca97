package streamstack.kstreams;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The record timestamp from a JSON time field ({@code event_time}, {@code transaction_time}) in
 * milliseconds; the record's own timestamp when the value has no readable time (it is then
 * dead-lettered downstream, never dropped here), or with {@code keepPartitionTime} the time of
 * the partition so far: the products topic must not put a malformed record's produce time (now)
 * at the head of its partition, where it would hold back every later version until all
 * purchases (older event times) were joined without them.
 */
public final class EventTime implements TimestampExtractor {
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");
    private final String marker;
    private final boolean keepPartitionTime;
    private final long shiftMillis;

    public EventTime(String field) {
        this(field, false, 0L);
    }

    public EventTime(String field, boolean keepPartitionTime) {
        this(field, keepPartitionTime, 0L);
    }

    /**
     * @param shiftMillis added to the field's millisecond: -1 on product versions makes a version
     *     sort before a purchase of the same millisecond (the join's microsecond step-back keeps
     *     the result exact), so stream-time order never joins a purchase before its version.
     */
    public EventTime(String field, boolean keepPartitionTime, long shiftMillis) {
        this.marker = "\"" + field + "\"";
        this.keepPartitionTime = keepPartitionTime;
        this.shiftMillis = shiftMillis;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        Long micros = micros(record.value());
        if (micros != null) {
            return Math.max(Math.floorDiv(micros, 1000L) + shiftMillis, 0L);
        }
        if (keepPartitionTime || record.timestamp() < 0) {
            return Math.max(partitionTime, 0L);
        }
        return record.timestamp();
    }

    /** Epoch microseconds of the field in a JSON value (bytes or text), or null. A fast scan, no parse. */
    Long micros(Object value) {
        String text = value instanceof byte[] b ? new String(b, StandardCharsets.UTF_8)
                : value instanceof String s ? s : null;
        if (text == null) {
            return null;
        }
        int at = text.indexOf(marker);
        if (at < 0) {
            return null;
        }
        int quote = text.indexOf('"', text.indexOf(':', at + marker.length()) + 1);
        if (quote < 0 || quote + 27 > text.length() || text.charAt(quote + 27) != '"') {
            return null;
        }
        try {
            var t = LocalDateTime.parse(text.substring(quote + 1, quote + 27), FORMAT).toInstant(ZoneOffset.UTC);
            return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
