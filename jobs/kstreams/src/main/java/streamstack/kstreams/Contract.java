package streamstack.kstreams;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The resolved event contract (written by {@code streamstack contract write FILE}) and its purchase
 * validator. A port of {@code streamstack.contract.check_purchase}: the same first-failing-check
 * order, the same reason codes and details, and no rule of its own: every number comes from the file.
 * {@link #checkProduct} is the port of {@code check_product} (the products topic's records). Both
 * first refuse a value over {@code records.max_bytes} ({@code too_large}), unparsed; {@link #payload}
 * is the port of {@code dead_letter_payload}.
 */
public final class Contract {
    /** Python's json.loads: NaN/Infinity accepted (then rejected as mistyped), trailing data refused. */
    private static final ObjectMapper PARSER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** One field of an event schema. */
    public record Field(String name, String type, boolean nullable) {}

    /**
     * The sliding sales windows ({@code windows}): size, slide and allowed lateness in
     * milliseconds, and the dead-letter code of a line behind the watermark.
     */
    public record Windows(long sizeMs, long slideMs, long latenessMs, String lateCode) {
        /** Starts (epoch ms) of the windows an event at {@code epochMs} is in, earliest first. */
        public List<Long> starts(long epochMs) {
            long last = epochMs - Math.floorMod(epochMs, slideMs);
            List<Long> out = new ArrayList<>();
            for (long start = last - sizeMs + slideMs; start <= last; start += slideMs) {
                out.add(start);
            }
            return out;
        }
    }

    /** The outcome of one validation: {@code reason} is null for a valid purchase. */
    public record Result(ObjectNode record, String reason, boolean derived) {
        public boolean valid() {
            return reason == null;
        }

        public String code() {
            return reason == null ? null : reason.substring(0, reason.indexOf(':'));
        }
    }

    private final JsonNode doc;
    private final List<Field> purchase;
    private final List<JsonNode> checks = new ArrayList<>();
    private final List<Pattern> patterns = new ArrayList<>();
    private final Set<String> catalogue = new HashSet<>();
    private final DateTimeFormatter timestamp;
    private final int timestampLength;
    private final double epsilon;
    private final String missingVersionCode;
    private final int maxBytes;
    private final int payloadMaxChars;
    private final List<Field> product;
    private final Windows windows;
    private final String productKeyField;
    private final java.util.Map<String, String> productCodes = new java.util.HashMap<>();

    public Contract(JsonNode doc) {
        this.doc = doc;
        this.purchase = schema("purchases");
        this.timestamp = DateTimeFormatter.ofPattern(require(doc, "timestamp", "java").asText().replace("yyyy", "uuuu"))
                .withResolverStyle(ResolverStyle.STRICT);
        this.timestampLength = require(doc, "timestamp", "length").asInt();
        this.epsilon = require(doc, "epsilon").asDouble();
        this.missingVersionCode = require(doc, "enrichment", "missing_version_code").asText();
        this.maxBytes = positive(doc, "records", "max_bytes");
        this.payloadMaxChars = positive(doc, "dead_letters", "payload_max_chars");
        this.product = schema(require(doc, "products", "schema").asText());
        this.productKeyField = require(doc, "products", "key_field").asText();
        this.windows = new Windows(positive(doc, "windows", "size_minutes") * 60_000L,
                positive(doc, "windows", "slide_minutes") * 60_000L,
                require(doc, "windows", "allowed_lateness_minutes").asLong() * 60_000L,
                require(doc, "windows", "late_code").asText());
        for (String check : List.of("too_large", "not_json", "missing_field", "mistyped_field", "key_mismatch")) {
            productCodes.put(check, require(doc, "products", "codes", check).asText());
        }
        for (JsonNode check : require(doc, "purchase", "checks")) {
            checks.add(check);
            String kind = check.path("kind").asText();
            patterns.add("pattern".equals(kind) ? Pattern.compile(check.path("pattern").asText()) : null);
            if ("catalogue".equals(kind)) {
                check.path("values").forEach(v -> catalogue.add(v.asText()));
            }
            if (!Set.of("pattern", "range", "allowed", "total", "catalogue").contains(kind)) {
                throw new IllegalArgumentException("contract: unknown check kind '" + kind + "'");
            }
        }
    }

    public static Contract load(Path file) throws IOException {
        return new Contract(Json.MAPPER.readTree(Files.readString(file)));
    }

    private static JsonNode require(JsonNode doc, String... path) {
        JsonNode node = doc;
        for (String key : path) {
            node = node.path(key);
        }
        if (node.isMissingNode() || node.isNull()) {
            throw new IllegalArgumentException("contract: missing key " + String.join(".", path)
                    + " (is this a file written by `streamstack contract write`?)");
        }
        return node;
    }

    private static int positive(JsonNode doc, String... path) {
        JsonNode node = require(doc, path);
        if (!node.canConvertToInt() || !node.isIntegralNumber() || node.intValue() < 1) {
            throw new IllegalArgumentException("contract: " + String.join(".", path) + " is not a whole number above 0");
        }
        return node.intValue();
    }

    /** The field list of one event ({@code schemas.<name>}), in order. */
    public List<Field> schema(String name) {
        List<Field> fields = new ArrayList<>();
        for (JsonNode f : require(doc, "schemas", name)) {
            fields.add(new Field(f.path("name").asText(), f.path("type").asText(), f.path("nullable").asBoolean()));
        }
        return fields;
    }

    public String missingVersionCode() {
        return missingVersionCode;
    }

    public Windows windows() {
        return windows;
    }

    /** An epoch millisecond as the contract writes timestamps ({@code timestamp.java}, UTC). */
    public String formatTime(long epochMs) {
        return timestamp.format(LocalDateTime.ofEpochSecond(Math.floorDiv(epochMs, 1000L),
                (int) Math.floorMod(epochMs, 1000L) * 1_000_000, ZoneOffset.UTC));
    }

    /** A raw value as a dead letter keeps it, bounded by {@code dead_letters.payload_max_chars}. */
    public Payload payload(byte[] value) {
        return Payload.of(value, payloadMaxChars);
    }

    /** The detail of too_large when the value is longer than records.max_bytes, else null (not parsed). */
    private String tooLarge(byte[] payload) {
        int size = payload == null ? 0 : payload.length;
        return size > maxBytes ? size + " bytes, more than " + maxBytes : null;
    }

    /** Validate one raw purchase value: the parsed record (identity derived if legacy) and the reason. */
    public Result check(byte[] payload, Integer partition, Long offset) {
        String tooLarge = tooLarge(payload);
        if (tooLarge != null) {
            return new Result(null, "too_large: " + tooLarge, false);
        }
        ObjectNode record = parse(payload);
        if (record == null) {
            return new Result(null, "not_json: payload is not a JSON object", false);
        }
        boolean derived = deriveIdentity(record, partition, offset);
        String structural = fieldReason(record, purchase, "missing_field", "mistyped_field");
        if (structural != null) {
            return new Result(record, structural, derived);
        }
        for (int i = 0; i < checks.size(); i++) {
            String reason = run(checks.get(i), patterns.get(i), record);
            if (reason != null) {
                return new Result(record, checks.get(i).path("code").asText() + ": " + reason, derived);
            }
        }
        return new Result(record, null, derived);
    }

    /**
     * Validate one raw record of the products topic (its key and value): a record with a reason is
     * not a product version; it is dead-lettered. The checks of {@code products} in the contract.
     */
    public Result checkProduct(String key, byte[] payload) {
        String tooLarge = tooLarge(payload);
        if (tooLarge != null) {
            return new Result(null, productCodes.get("too_large") + ": " + tooLarge, false);
        }
        ObjectNode record = parse(payload);
        if (record == null) {
            return new Result(null, productCodes.get("not_json") + ": payload is not a JSON object", false);
        }
        String structural = fieldReason(record, product, productCodes.get("missing_field"),
                productCodes.get("mistyped_field"));
        if (structural != null) {
            return new Result(record, structural, false);
        }
        if (key == null || !key.equals(record.get(productKeyField).textValue())) {
            return new Result(record, productCodes.get("key_mismatch") + ": " + productKeyField
                    + " is not the record key", false);
        }
        return new Result(record, null, false);
    }

    /** The first missing field, then the first mistyped one (schema order), as a reason; null if none. */
    private String fieldReason(ObjectNode record, List<Field> fields, String missing, String mistyped) {
        for (Field f : fields) {
            if (absent(record.get(f.name())) && !f.nullable()) {
                return missing + ": " + f.name();
            }
        }
        for (Field f : fields) {
            JsonNode value = record.get(f.name());
            if (!absent(value) && !typeOk(value, f.type())) {
                return mistyped + ": " + f.name() + " is not a " + f.type();
            }
        }
        return null;
    }

    private static ObjectNode parse(byte[] payload) {
        if (payload == null) {
            return null;
        }
        String text = Json.utf8OrNull(payload);
        if (text == null) {
            return null;
        }
        try {
            JsonNode node = PARSER.readTree(text);
            return node instanceof ObjectNode o ? o : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean absent(JsonNode value) {
        return value == null || value.isNull();
    }

    boolean validTimestamp(JsonNode value) {
        if (value == null || !value.isTextual() || value.textValue().length() != timestampLength) {
            return false;
        }
        try {
            LocalDateTime.parse(value.textValue(), timestamp);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private boolean typeOk(JsonNode value, String logical) {
        switch (logical) {
            case "string":
                return value.isTextual();
            case "int":
                return value.isIntegralNumber() && within(value.bigIntegerValue(), INT_MIN, INT_MAX);
            case "long":
                return value.isIntegralNumber() && within(value.bigIntegerValue(), LONG_MIN, LONG_MAX);
            case "double":
                return value.isNumber() && Double.isFinite(value.doubleValue());
            case "boolean":
                return value.isBoolean();
            case "timestamp":
                return validTimestamp(value);
            default:
                throw new IllegalArgumentException("contract: unknown logical type '" + logical + "'");
        }
    }

    private static boolean within(BigInteger v, BigInteger min, BigInteger max) {
        return v.compareTo(min) >= 0 && v.compareTo(max) <= 0;
    }

    /** Python's derive_identity: fill in a legacy record's transaction_id / line_number. */
    private boolean deriveIdentity(ObjectNode record, Integer partition, Long offset) {
        JsonNode legacy = doc.path("legacy");
        if (!legacy.path("accept").asBoolean(false)) {
            return false;
        }
        Set<String> fields = new HashSet<>();
        legacy.path("derived_fields").forEach(f -> fields.add(f.asText()));
        boolean derived = false;
        if (absent(record.get("transaction_id")) && fields.contains("transaction_id")) {
            JsonNode time = record.get("transaction_time");
            if (validTimestamp(time)) {
                LocalDateTime t = LocalDateTime.parse(time.textValue(), timestamp);
                long seconds = t.toEpochSecond(ZoneOffset.UTC);
                long micros = t.getNano() / 1_000;
                if (seconds < 0 && micros > 0) {
                    seconds += 1; // Python: int(moment.timestamp()) truncates toward zero
                }
                record.put("transaction_id", Long.toString(seconds * 1_000_000L + micros));
                derived = true;
            }
        }
        if (absent(record.get("line_number")) && fields.contains("line_number")) {
            long factor = legacy.path("line_number").path("offset_factor").asLong();
            long maxPartitions = legacy.path("line_number").path("max_partitions").asLong();
            if (partition != null && offset != null && partition >= 0 && partition < maxPartitions) {
                long number = offset * factor + partition + 1;
                if (number < (1L << 31)) {
                    record.put("line_number", (int) number);
                    derived = true;
                }
            }
        }
        return derived;
    }

    private String run(JsonNode check, Pattern pattern, ObjectNode record) {
        String name = check.path("field").asText();
        String kind = check.path("kind").asText();
        JsonNode value = record.get(name);
        switch (kind) {
            case "pattern":
                return pattern.matcher(value.textValue()).matches() ? null
                        : name + " " + Json.py(value, true) + " does not match " + check.path("pattern").asText();
            case "range": {
                double v = value.doubleValue();
                boolean ok = (!check.has("min") || v >= check.get("min").doubleValue())
                        && (!check.has("max") || v <= check.get("max").doubleValue())
                        && (!check.has("min_exclusive") || v > check.get("min_exclusive").doubleValue())
                        && (!check.has("max_exclusive") || v < check.get("max_exclusive").doubleValue());
                if (ok) {
                    return null;
                }
                List<String> bounds = new ArrayList<>();
                for (String k : List.of("min", "max", "min_exclusive", "max_exclusive")) {
                    if (check.has(k)) {
                        bounds.add(k + " " + Json.py(check.get(k), false));
                    }
                }
                return name + " " + Json.py(value, false) + " outside " + String.join(", ", bounds);
            }
            case "allowed": {
                String by = check.path("by").asText();
                boolean flag = record.get(by).booleanValue();
                JsonNode allowed = check.path("values").path(flag ? "true" : "false");
                for (JsonNode a : allowed) {
                    if (Math.abs(value.doubleValue() - a.doubleValue()) <= epsilon) {
                        return null;
                    }
                }
                List<String> shown = new ArrayList<>();
                allowed.forEach(a -> shown.add(Json.py(a, true)));
                return name + " " + Json.py(value, false) + " not allowed when " + by + " is " + flag
                        + " (allowed: [" + String.join(", ", shown) + "])";
            }
            case "total": {
                double expected = totalPurchase(record.get("price").doubleValue(), record.get("quantity").intValue(),
                        record.get("supplement_price").doubleValue(), record.get("member_discount").doubleValue());
                if (Math.abs(value.doubleValue() - expected) <= check.path("tolerance").asDouble() + epsilon) {
                    return null;
                }
                return name + " " + Json.py(value, false) + ", formula gives "
                        + new BigDecimal(expected).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
            }
            case "catalogue":
                return catalogue.contains(value.textValue()) ? null
                        : name + " " + Json.py(value, true) + " is not in the catalogue";
            default:
                throw new IllegalStateException(kind);
        }
    }

    /** events.total_purchase: round(quantity * (price + supplement) * (1 - discount), 2), half-even as Python. */
    static double totalPurchase(double price, int quantity, double supplement, double discount) {
        double raw = quantity * (price + supplement) * (1 - discount);
        return new BigDecimal(raw).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
    }
}
