package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** JSON, money and timestamps exactly as the Python side writes them (streamstack/events.py). */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);

    private Json() {}

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode read(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Strict UTF-8 decoding: null when the bytes are not UTF-8 (Python's UnicodeDecodeError). */
    public static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Money with 2 decimals, rounded half-up from the value's shortest decimal form (Spark's money()). */
    public static BigDecimal money(double value) {
        return BigDecimal.valueOf(value).setScale(4, RoundingMode.HALF_UP).setScale(2, RoundingMode.HALF_UP);
    }

    /** A money field of a JSON record, or JSON null when absent or not a number. */
    public static JsonNode money(JsonNode value) {
        if (value == null || !value.isNumber()) {
            return NODES.nullNode();
        }
        return NODES.numberNode(money(value.doubleValue()));
    }

    /** The current time in the events' timestamp format. */
    public static String now() {
        return TIMESTAMP.format(Instant.now());
    }

    /** Epoch microseconds of a timestamp the contract accepted ("yyyy-MM-dd HH:mm:ss.SSSSSS", UTC). */
    public static long epochMicros(String timestamp) {
        LocalDateTime t = LocalDateTime.parse(timestamp, DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
        Instant i = t.toInstant(ZoneOffset.UTC);
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
    }

    /** Python's str()/repr() of a JSON scalar, for reason details that match the reference validator. */
    public static String py(JsonNode value, boolean repr) {
        if (value == null || value.isNull()) {
            return "None";
        }
        if (value.isBoolean()) {
            return value.booleanValue() ? "True" : "False";
        }
        if (value.isIntegralNumber()) {
            return value.bigIntegerValue().toString();
        }
        if (value.isNumber()) {
            return pyFloat(value.doubleValue());
        }
        if (value.isTextual()) {
            return repr ? pyRepr(value.textValue()) : value.textValue();
        }
        return value.toString();
    }

    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        double abs = Math.abs(d);
        if (d == 0 || (abs >= 1e-4 && abs < 1e16)) {
            String plain = new BigDecimal(Double.toString(d)).toPlainString();
            if (!plain.contains(".")) {
                plain += ".0";
            }
            if (d == 0 && 1 / d < 0) {
                return "-0.0";
            }
            return plain;
        }
        BigDecimal exact = new BigDecimal(Double.toString(d));
        String mantissa = exact.unscaledValue().abs().toString();
        int exponent = mantissa.length() - 1 - exact.scale();
        String digits = mantissa.replaceAll("0+$", "");
        String m = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        return (d < 0 ? "-" : "") + m + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    static String pyRepr(String s) {
        char quote = s.contains("'") && !s.contains("\"") ? '"' : '\'';
        StringBuilder out = new StringBuilder().append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') {
                out.append('\\').append(c);
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append(quote).toString();
    }
}
