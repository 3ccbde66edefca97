package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.VersionedRecord;

/**
 * purchases + the product version valid at each purchase's transaction_time -> enriched purchases;
 * malformed purchases and purchases older than every version of their product -> dead letters.
 *
 * <p>Products are a versioned table (timestamps from {@code event_time}); valid purchases are
 * re-keyed by product_id into a repartition topic of the products topic's partition count, so a
 * purchase's task holds its product's store. The lookup is {@code get(product, asOf)}: the newest
 * version at or before the purchase's millisecond, stepping back while that version's
 * {@code event_time} is later in microseconds (the contract's rule, finer than Kafka timestamps).
 */
public final class Enrichment {
    public static final String APP = "purchases_enrichment";
    public static final String STORE = "product-versions";
    public static final String REJECTED_BY = "kstreams." + APP;
    private static final EventTime PRODUCT_TIME = new EventTime("event_time");
    private static final java.util.Set<String> PRODUCED = java.util.Set.of(
            "transaction_time", "transaction_timestamp", "transaction_id", "line_number", "product_id",
            "product_category", "product_name", "product_size", "product_cogs", "product_price", "contains_fruit",
            "contains_veggies", "contains_nuts", "contains_caffeine", "purchase_price", "purchase_quantity",
            "is_member", "member_discount", "add_supplements", "supplement_price", "total_purchase",
            "identity_derived");

    private Enrichment() {}

    /** An enriched purchase (value = output JSON, key = transaction_id) or a dead letter. */
    record Outcome(String key, String value, boolean enriched) {}

    public static Topology build(Contract contract, Topics topics, Progress progress, Duration history) {
        List<String> enrichedFields = contract.schema("purchases_enriched").stream().map(Contract.Field::name).toList();
        List<String> unknown = enrichedFields.stream().filter(f -> !PRODUCED.contains(f)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("contract: purchases_enriched field(s) " + unknown + " unknown to this app");
        }
        StreamsBuilder builder = new StreamsBuilder();
        // Every product record is checked (the contract's `products`): a valid one is a version, a
        // malformed one (over records.max_bytes, not JSON, a tombstone, a missing or mistyped field,
        // a key other than its product_id) a dead letter with its coordinates; none is dropped.
        builder.stream(topics.products(), Consumed.with(Serdes.String(), Serdes.ByteArray())
                        .withTimestampExtractor(new ProductTime(contract)).withName("products"))
                .processValues(() -> new CheckProduct(contract, progress))
                .split(Named.as("product-"))
                .branch((key, c) -> !c.valid(), Branched.withConsumer(invalid -> invalid
                        .mapValues(c -> Json.write(c.deadLetter(contract, REJECTED_BY, c.reason())))
                        .processValues(WallClock::new)
                        .to(topics.invalid(), Produced.with(Serdes.String(), Serdes.String()))))
                // A version is stored as its parsed record (the payload is cut for dead letters).
                .defaultBranch(Branched.withConsumer(valid -> valid
                        .mapValues(c -> Json.write(c.record()))
                        .toTable(Named.as("products-table"), Materialized.<String, String>as(
                                        Stores.persistentVersionedKeyValueStore(STORE, history))
                                .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))));

        KStream<String, Checked> checked = builder.stream(topics.purchases(),
                        Consumed.with(Serdes.String(), Serdes.ByteArray())
                                .withTimestampExtractor(new EventTime("transaction_time")).withName("purchases"))
                .processValues(() -> new Validate(contract, progress));

        checked.split(Named.as("checked-"))
                .branch((key, c) -> !c.valid(), Branched.withConsumer(invalid -> invalid
                        .mapValues(c -> Json.write(c.deadLetter(contract, REJECTED_BY, c.reason())))
                        .processValues(WallClock::new)
                        .to(topics.invalid(), Produced.with(Serdes.String(), Serdes.String()))))
                .defaultBranch(Branched.withConsumer(valid -> {
                    KStream<String, Outcome> joined = valid
                            .selectKey((key, c) -> {
                                progress.forwarded();
                                return c.field("product_id");
                            })
                            .repartition(Repartitioned.with(Serdes.String(), Checked.SERDE)
                                    .withName("purchases-by-product")
                                    .withNumberOfPartitions(topics.productPartitions()))
                            .processValues(() -> new Lookup(contract, enrichedFields, progress), STORE);
                    joined.process(Rekey::new)
                            .processValues(WallClock::new)
                            .split(Named.as("outcome-"))
                            .branch((key, o) -> o.enriched(), Branched.withConsumer(s -> s
                                    .mapValues(Outcome::value)
                                    .to(topics.output(), Produced.with(Serdes.String(), Serdes.String()))))
                            .defaultBranch(Branched.withConsumer(s -> s
                                    .mapValues(Outcome::value)
                                    .to(topics.invalid(), Produced.with(Serdes.String(), Serdes.String()))));
                }));
        return builder.build();
    }

    /** Checks one product record against the contract; records the topic's progress for the bounded mode. */
    static final class CheckProduct implements FixedKeyProcessor<String, byte[], Checked> {
        private final Contract contract;
        private final Progress progress;
        private FixedKeyProcessorContext<String, Checked> context;

        CheckProduct(Contract contract, Progress progress) {
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
            Contract.Result result = contract.checkProduct(record.key(), record.value());
            context.forward(record.withValue(new Checked(result.record(), result.reason(), false,
                    meta.topic(), meta.partition(), meta.offset(), contract.payload(record.value()))));
            progress.seen(meta.topic(), meta.partition(), meta.offset());
        }
    }

    /** Back to the purchase's own key (transaction_id) for the output; no repartition follows a sink. */
    static final class Rekey implements Processor<String, Outcome, String, Outcome> {
        private ProcessorContext<String, Outcome> context;

        @Override
        public void init(ProcessorContext<String, Outcome> context) {
            this.context = context;
        }

        @Override
        public void process(Record<String, Outcome> record) {
            context.forward(record.withKey(record.value().key()));
        }
    }

    /** Joins one purchase with the product version valid at its transaction_time. */
    static final class Lookup implements FixedKeyProcessor<String, Checked, Outcome> {
        private final Contract contract;
        private final List<String> fields;
        private final Progress progress;
        private FixedKeyProcessorContext<String, Outcome> context;
        private VersionedKeyValueStore<String, String> store;

        Lookup(Contract contract, List<String> fields, Progress progress) {
            this.contract = contract;
            this.fields = fields;
            this.progress = progress;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, Outcome> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(FixedKeyRecord<String, Checked> record) {
            Checked c = record.value();
            long micros = Json.epochMicros(c.field("transaction_time"));
            JsonNode product = version(record.key(), micros);
            Outcome outcome;
            if (product == null) {
                String code = contract.missingVersionCode();
                outcome = new Outcome(c.field("transaction_id"), Json.write(c.deadLetter(contract, REJECTED_BY,
                        code + ": product_id '" + record.key() + "' has no version at or before "
                                + c.field("transaction_time"))), false);
            } else {
                outcome = new Outcome(c.field("transaction_id"), Json.write(enriched(c, product, micros)), true);
            }
            RecordMetadata meta = context.recordMetadata().orElseThrow();
            context.forward(record.withValue(outcome));
            progress.received();
            progress.seen(meta.topic(), meta.partition(), meta.offset());
        }

        private JsonNode version(String productId, long micros) {
            long asOf = Math.floorDiv(micros, 1000L);
            VersionedRecord<String> found = store.get(productId, asOf);
            while (found != null) {
                JsonNode product = Json.read(found.value());
                Long at = PRODUCT_TIME.micros(found.value());
                if (at != null && at <= micros && product.isObject()) {
                    return product;
                }
                found = store.get(productId, found.timestamp() - 1);
            }
            return null;
        }

        private ObjectNode enriched(Checked c, JsonNode p, long micros) {
            ObjectNode r = c.record();
            ObjectNode out = Json.object();
            for (String name : fields) {
                switch (name) {
                    case "transaction_time", "transaction_id", "line_number", "product_id", "is_member",
                            "add_supplements" -> out.set(name, r.get(name));
                    case "transaction_timestamp" -> out.put(name, Math.floorDiv(micros, 1000L));
                    case "product_category" -> out.set(name, p.get("category"));
                    case "product_name" -> out.set(name, p.get("item"));
                    case "product_size" -> out.set(name, p.get("size"));
                    case "product_cogs" -> out.set(name, Json.money(p.get("cogs")));
                    case "product_price" -> out.set(name, Json.money(p.get("price")));
                    case "contains_fruit", "contains_veggies", "contains_nuts", "contains_caffeine" ->
                            out.set(name, p.get(name));
                    case "purchase_price" -> out.set(name, Json.money(r.get("price")));
                    case "purchase_quantity" -> out.set(name, r.get("quantity"));
                    case "member_discount", "supplement_price", "total_purchase" -> out.set(name, Json.money(r.get(name)));
                    case "identity_derived" -> out.put(name, c.derived());
                    default -> throw new IllegalStateException(
                            "contract: purchases_enriched field '" + name + "' is unknown to this app");
                }
            }
            return out;
        }
    }
}
