package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.Serde;

/**
 * A purchase after validation, with where it came from: what a dead letter needs (the source
 * coordinates and the payload, bounded) travels with the record through the repartition topic. Never
 * the raw value: the parsed record (valid only within {@code records.max_bytes}) and the bounded
 * {@link Payload} keep the repartitioned record small whatever came in.
 */
public record Checked(ObjectNode record, String reason, boolean derived, String topic, Integer partition,
                      Long offset, Payload payload) {

    public static final Serde<Checked> SERDE = JsonSerde.of(Checked::toJson, Checked::fromJson);

    public boolean valid() {
        return reason == null;
    }

    public String field(String name) {
        JsonNode v = record == null ? null : record.get(name);
        return v == null || v.isNull() ? null : v.asText();
    }

    JsonNode toJson() {
        ObjectNode n = Json.object();
        n.set("record", record);
        n.put("reason", reason);
        n.put("derived", derived);
        n.put("topic", topic);
        n.put("partition", partition);
        n.put("offset", offset);
        n.set("payload", payload.toJson());
        return n;
    }

    static Checked fromJson(JsonNode n) {
        JsonNode record = n.get("record");
        return new Checked(record instanceof ObjectNode o ? o : null,
                n.path("reason").isNull() ? null : n.path("reason").asText(),
                n.path("derived").asBoolean(),
                n.path("topic").asText(),
                n.path("partition").isNull() ? null : n.path("partition").asInt(),
                n.path("offset").isNull() ? null : n.path("offset").asLong(),
                Payload.fromJson(n.path("payload")));
    }

    /** The dead letter of this purchase, in the contract's purchases_invalid field order. */
    public ObjectNode deadLetter(Contract contract, String rejectedBy, String why) {
        ObjectNode out = Json.object();
        for (Contract.Field f : contract.schema("purchases_invalid")) {
            switch (f.name()) {
                case "source_topic" -> out.put("source_topic", topic);
                case "source_partition" -> out.put("source_partition", partition);
                case "source_offset" -> out.put("source_offset", offset);
                case "rejected_at" -> out.put("rejected_at", Json.now());
                case "rejected_by" -> out.put("rejected_by", rejectedBy);
                case "reason" -> out.put("reason", why);
                default -> {
                    if (!payload.write(out, f.name())) {
                        throw new IllegalStateException(
                                "contract: purchases_invalid field '" + f.name() + "' is unknown to this app");
                    }
                }
            }
        }
        return out;
    }
}
