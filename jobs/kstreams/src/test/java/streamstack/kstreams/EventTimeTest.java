package streamstack.kstreams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class EventTimeTest {
    private static ConsumerRecord<Object, Object> record(String value, long timestamp) {
        return new ConsumerRecord<>("t", 0, 0L, timestamp, org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                0, 0, "k", value, new org.apache.kafka.common.header.internals.RecordHeaders(),
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
}
