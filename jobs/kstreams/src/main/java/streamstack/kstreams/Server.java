package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Interactive queries and health over HTTP, on the loopback address only.
 *
 * <pre>
 *   GET /health              {"state": "RUNNING", ...}; 200 when RUNNING, else 503
 *   GET /totals              [running total, ...] from the local state store (running_totals app)
 *   GET /totals/{product_id} one running total, 404 if the product has none
 * </pre>
 */
public final class Server {
    private final KafkaStreams streams;
    private final String app;
    private final String applicationId;
    private final Contract contract;
    private final Supplier<JsonNode> extra;
    private HttpServer http;

    public Server(KafkaStreams streams, String app, String applicationId, Contract contract, Supplier<JsonNode> extra) {
        this.streams = streams;
        this.app = app;
        this.applicationId = applicationId;
        this.contract = contract;
        this.extra = extra;
    }

    public int start(String host, int port) throws IOException {
        http = HttpServer.create(new InetSocketAddress(host, port), 16);
        http.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        }));
        http.createContext("/health", this::health);
        http.createContext("/totals", this::totals);
        http.createContext("/", ex -> send(ex, 404, error("unknown path " + ex.getRequestURI().getPath()
                + " (try /health, /totals, /totals/{product_id})")));
        http.start();
        return http.getAddress().getPort();
    }

    public void stop() {
        if (http != null) {
            http.stop(0);
        }
    }

    private void health(HttpExchange ex) throws IOException {
        KafkaStreams.State state = streams.state();
        ObjectNode body = Json.object().put("app", app).put("application_id", applicationId).put("state", state.name());
        ArrayNode threads = body.putArray("threads");
        streams.metadataForLocalThreads().forEach(t -> threads.add(Json.object()
                .put("name", t.threadName()).put("state", t.threadState())
                .put("active_tasks", t.activeTasks().size())));
        JsonNode more = extra.get();
        if (more != null) {
            body.set("progress", more);
        }
        send(ex, state == KafkaStreams.State.RUNNING ? 200 : 503, body);
    }

    private void totals(HttpExchange ex) throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            send(ex, 405, error("only GET"));
            return;
        }
        if (!RunningTotals.APP.equals(app)) {
            send(ex, 404, error("the " + app + " app keeps no running totals (run running_totals)"));
            return;
        }
        String path = ex.getRequestURI().getRawPath();
        String rest = path.length() > "/totals".length() ? path.substring("/totals".length() + 1) : "";
        ReadOnlyKeyValueStore<String, Totals> store;
        try {
            store = streams.store(StoreQueryParameters.fromNameAndType(RunningTotals.STORE,
                    QueryableStoreTypes.<String, Totals>keyValueStore()));
        } catch (InvalidStateStoreException e) {
            send(ex, 503, error("state store not queryable while " + streams.state() + ": " + e.getMessage()));
            return;
        }
        try {
            if (rest.isEmpty()) {
                ArrayNode all = Json.NODES.arrayNode();
                try (KeyValueIterator<String, Totals> it = store.all()) {
                    while (it.hasNext()) {
                        KeyValue<String, Totals> kv = it.next();
                        all.add(kv.value.toRecord(contract, kv.key));
                    }
                }
                send(ex, 200, all);
                return;
            }
            String product = URLDecoder.decode(rest, StandardCharsets.UTF_8);
            Totals totals = store.get(product);
            if (totals == null) {
                send(ex, 404, error("no running total for product_id '" + product + "'"));
            } else {
                send(ex, 200, totals.toRecord(contract, product));
            }
        } catch (InvalidStateStoreException e) {
            send(ex, 503, error("state store not queryable while " + streams.state() + ": " + e.getMessage()));
        }
    }

    private static ObjectNode error(String message) {
        return Json.object().put("error", message);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = (Json.write(body) + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
