package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import org.apache.kafka.common.serialization.Serde;

/**
 * The running total of one product: latest transaction time folded in, lines, quantities and
 * sales in cents (a sum of 2-decimal money values is exact in cents, never drifts like a double).
 */
public record Totals(String latest, long transactions, long quantities, long cents) {
    public static final Totals EMPTY = new Totals(null, 0, 0, 0);
    public static final Serde<Totals> SERDE = JsonSerde.of(Totals::toJson, Totals::fromJson);

    /** One valid purchase line as it enters the aggregation; {@code id} is its identity (transaction_id, line_number). */
    public record Line(String id, String time, long quantity, long cents) {
        public static final Serde<Line> SERDE = JsonSerde.of(
                l -> Json.object().put("i", l.id).put("t", l.time).put("q", l.quantity).put("c", l.cents),
                n -> new Line(n.path("i").asText(), n.path("t").asText(), n.path("q").asLong(), n.path("c").asLong()));

        static Line of(Checked c) {
            JsonNode r = c.record();
            long cents = Json.money(r.get("total_purchase").doubleValue()).movePointRight(2).longValueExact();
            return new Line(c.field("transaction_id") + "\u0000" + c.field("line_number"),
                    r.get("transaction_time").asText(), r.get("quantity").asLong(), cents);
        }
    }

    public Totals add(Line line) {
        String newest = latest == null || line.time().compareTo(latest) > 0 ? line.time() : latest;
        return new Totals(newest, transactions + 1, quantities + line.quantity(), cents + line.cents());
    }

    public BigDecimal sales() {
        return BigDecimal.valueOf(cents, 2);
    }

    /** The output record, fields in the order of the contract's running_totals schema. */
    public ObjectNode toRecord(Contract contract, String productId) {
        ObjectNode out = Json.object();
        for (Contract.Field f : contract.schema("running_totals")) {
            switch (f.name()) {
                case "event_time" -> out.put("event_time", latest);
                case "product_id" -> out.put("product_id", productId);
                case "transactions" -> out.put("transactions", transactions);
                case "quantities" -> out.put("quantities", quantities);
                case "sales" -> out.put("sales", sales());
                default -> throw new IllegalStateException(
                        "contract: running_totals field '" + f.name() + "' is unknown to this app");
            }
        }
        return out;
    }

    JsonNode toJson() {
        return Json.object().put("t", latest).put("n", transactions).put("q", quantities).put("c", cents);
    }

    static Totals fromJson(JsonNode n) {
        return new Totals(n.path("t").isNull() ? null : n.path("t").asText(), n.path("n").asLong(),
                n.path("q").asLong(), n.path("c").asLong());
    }
}
