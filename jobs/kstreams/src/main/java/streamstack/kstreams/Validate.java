package streamstack.kstreams;

import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/** Validates each raw purchase against the contract, keeping its Kafka coordinates and bounded payload. */
final class Validate implements FixedKeyProcessor<String, byte[], Checked> {
    private final Contract contract;
    private final Progress progress;
    private FixedKeyProcessorContext<String, Checked> context;

    Validate(Contract contract, Progress progress) {
        this.contract = contract;
        this.progress = progress;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Checked> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        Contract.Result result = contract.check(record.value(), meta.partition(), meta.offset());
        context.forward(record.withValue(new Checked(result.record(), result.reason(), result.derived(),
                meta.topic(), meta.partition(), meta.offset(), contract.payload(record.value()))));
        progress.seen(meta.topic(), meta.partition(), meta.offset());
    }
}
