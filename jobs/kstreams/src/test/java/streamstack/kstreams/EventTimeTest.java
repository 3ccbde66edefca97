package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class EventTimeTest {
    private static ConsumerRecord<Object, Object> record(String value, long timestamp) {
        return record("k", value, timestamp);
    }

    private static ConsumerRecord<Object, Object> record(String key, String value, long timestamp) {
        return new ConsumerRecord<>("t", 0, 0L, timestamp, org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                0, 0, key, value, new org.apache.kafka.common.header.internals.RecordHeaders(),
                java.util.Optional.empty());
    }

    @Test
    void aReadableTimeWinsOverTheRecordTimestamp() {
        String value = "{\"event_time\": \"2026-01-01 10:00:00.000500\"}";
        assertEquals(1767261600000L, new EventTime("event_time").extract(record(value, 5L), 7L));
        assertEquals(1767261600000L, new EventTime("event_time", true).extract(record(value, 5L), 7L));
    }

    @Test
    void anUnreadableProductKeepsThePartitionTimeNotItsProduceTime() {
        long now = System.currentTimeMillis();
        assertEquals(now, new EventTime("event_time").extract(record("{not json", now), 1000L));
        assertEquals(1000L, new EventTime("event_time", true).extract(record("{not json", now), 1000L));
        assertEquals(1000L, new EventTime("event_time", true).extract(record(null, now), 1000L));
        assertEquals(0L, new EventTime("event_time", true).extract(record(null, now), -1L));
    }

    @Test
    void aProductOverTheSizeLimitIsNotReadForItsTimeAndKeepsThePartitionTime() throws Exception {
        ProductTime time = new ProductTime(Fixtures.contract());
        int maxBytes = Fixtures.setting("records", "max_bytes");
        String ok = Json.write(Fixtures.product("2026-01-01 10:00:00.000500", "CS01", "Sunny", 5.0));
        assertEquals(1767261599999L, time.extract(record("CS01", ok, 5L), 1000L)); // a version: 1 ms early
        String big = Json.write(Fixtures.product("2026-01-01 10:00:00.000500", "CS01", "x".repeat(maxBytes), 5.0));
        assertEquals(1000L, time.extract(record("CS01", big, 5L), 1000L));
    }
}
