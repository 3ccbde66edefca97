package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A record value as a dead letter keeps it, bounded (port of {@code contract.dead_letter_payload}):
 * the text when the bytes are strict UTF-8, else their base64, cut to its first {@code maxChars}
 * code points (a surrogate pair is never split), with the original size and SHA-256. A null value
 * (a tombstone) has all five fields null. However large the value, this stays small: it is what
 * travels with a record (repartition topic) and what a dead letter writes.
 */
public record Payload(String text, String encoding, Boolean truncated, Long bytes, String sha256) {
    public static final Payload NONE = new Payload(null, null, null, null, null);

    public static Payload of(byte[] value, int maxChars) {
        if (value == null) {
            return NONE;
        }
        String text = Json.utf8OrNull(value);
        String encoding = "utf-8";
        if (text == null) {
            text = Base64.getEncoder().encodeToString(value);
            encoding = "base64";
        }
        boolean truncated = text.codePointCount(0, text.length()) > maxChars;
        String kept = truncated ? text.substring(0, text.offsetByCodePoints(0, maxChars)) : text;
        return new Payload(kept, encoding, truncated, (long) value.length, sha256(value));
    }

    private static String sha256(byte[] value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Writes the dead-letter field {@code name} if it is one of the five; false if it is not. */
    boolean write(ObjectNode out, String name) {
        switch (name) {
            case "payload" -> out.put(name, text);
            case "payload_encoding" -> out.put(name, encoding);
            case "payload_truncated" -> out.put(name, truncated);
            case "payload_bytes" -> out.put(name, bytes);
            case "payload_sha256" -> out.put(name, sha256);
            default -> {
                return false;
            }
        }
        return true;
    }

    ObjectNode toJson() {
        ObjectNode n = Json.object();
        for (String name : new String[] {"payload", "payload_encoding", "payload_truncated", "payload_bytes",
                "payload_sha256"}) {
            write(n, name);
        }
        return n;
    }

    static Payload fromJson(JsonNode n) {
        return new Payload(text(n.get("payload")), text(n.get("payload_encoding")),
                n.path("payload_truncated").isBoolean() ? n.get("payload_truncated").booleanValue() : null,
                n.path("payload_bytes").isIntegralNumber() ? n.get("payload_bytes").longValue() : null,
                text(n.get("payload_sha256")));
    }

    private static String text(JsonNode v) {
        return v == null || v.isNull() ? null : v.textValue();
    }
}
