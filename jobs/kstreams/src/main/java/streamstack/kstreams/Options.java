package streamstack.kstreams;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options ({@code --name value}), each also readable from the environment as
 * {@code STREAMSTACK_KSTREAMS_<NAME>} (upper case, dashes as underscores). No secret is ever an
 * option: SASL settings come in the {@code --client-properties} file.
 */
public final class Options {
    public static final Set<String> KNOWN = Set.of(
            "app", "contract", "bootstrap-servers", "client-properties", "application-id", "state-dir",
            "purchases-topic", "products-topic", "output-topic", "invalid-topic", "http-host", "http-port",
            "port-file", "threads", "mode", "commit-interval-ms", "history-retention-days", "session-timeout-ms",
            "max-task-idle-ms");

    private final Map<String, String> values = new HashMap<>();
    private final Map<String, String> env;

    public Options(List<String> args, Map<String, String> env) {
        this.env = env;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("--")) {
                if (values.containsKey("app")) {
                    throw new IllegalArgumentException("unexpected argument '" + arg + "'");
                }
                values.put("app", arg);
                continue;
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException("option --" + name + " needs a value");
                }
                value = args.get(++i);
            }
            if (!KNOWN.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + " (known: " + KNOWN + ")");
            }
            values.put(name, value);
        }
    }

    public String get(String name, String fallback) {
        if (!KNOWN.contains(name)) {
            throw new IllegalArgumentException(name);
        }
        String value = values.get(name);
        if (value == null) {
            value = env.get("STREAMSTACK_KSTREAMS_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
        return value == null || value.isEmpty() ? fallback : value;
    }

    public String require(String name) {
        String value = get(name, null);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name + " (or STREAMSTACK_KSTREAMS_"
                    + name.toUpperCase(Locale.ROOT).replace('-', '_') + ")");
        }
        return value;
    }

    public int getInt(String name, int fallback) {
        String value = get(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, got '" + value + "'");
        }
    }
}
