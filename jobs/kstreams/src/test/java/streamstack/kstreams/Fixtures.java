package streamstack.kstreams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/** The resolved contract the build was given, and records to feed the topologies. */
final class Fixtures {
    private Fixtures() {}

    /** The contract JSON: {@code -Dstreamstack.contract=FILE} (written by `streamstack contract write`). */
    static Contract contract() throws IOException {
        String file = System.getProperty("streamstack.contract");
        if (file == null || file.isEmpty()) {
            throw new IllegalStateException("run with -Dstreamstack.contract=FILE (make test and "
                    + "`streamstack kstreams test` write it with `streamstack contract write`)");
        }
        return Contract.load(Path.of(file));
    }

    /** A whole number of the contract file, e.g. {@code setting("records", "max_bytes")}. */
    static int setting(String section, String key) {
        try {
            int value = Json.read(Files.readString(Path.of(System.getProperty("streamstack.contract"))))
                    .path(section).path(key).asInt(-1);
            if (value < 1) {
                throw new IllegalStateException("contract: no " + section + "." + key);
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Properties props(String app) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "test-" + app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("streamstack.test.state", "target/test-state"));
        return p;
    }

    /** A valid purchase line (member, no supplements) of {@code quantity} x {@code price}. */
    static ObjectNode purchase(String time, String id, int line, String product, double price, int quantity) {
        double total = Contract.totalPurchase(price, quantity, 0.0, 0.10);
        ObjectNode p = Json.object();
        p.put("transaction_time", time);
        p.put("transaction_id", id);
        p.put("line_number", line);
        p.put("product_id", product);
        p.put("price", price);
        p.put("quantity", quantity);
        p.put("is_member", true);
        p.put("member_discount", 0.10);
        p.put("add_supplements", false);
        p.put("supplement_price", 0.0);
        p.put("total_purchase", total);
        return p;
    }

    static ObjectNode product(String time, String id, String item, double price) {
        ObjectNode p = Json.object();
        p.put("event_time", time);
        p.put("product_id", id);
        p.put("category", "Classic Smoothies");
        p.put("item", item);
        p.put("size", "24 oz.");
        p.put("cogs", 1.5);
        p.put("price", price);
        p.put("inventory_level", 50);
        p.put("contains_fruit", true);
        p.put("contains_veggies", false);
        p.put("contains_nuts", false);
        p.put("contains_caffeine", false);
        p.put("propensity_to_buy", 1);
        return p;
    }
}
