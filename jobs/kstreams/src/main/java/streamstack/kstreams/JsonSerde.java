package streamstack.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** A serde for the app's own internal values (repartition topics, state stores) through JSON. */
public final class JsonSerde {
    private JsonSerde() {}

    public static <T> Serde<T> of(Function<T, JsonNode> encode, Function<JsonNode, T> decode) {
        Serializer<T> serializer = (topic, value) ->
                value == null ? null : Json.write(encode.apply(value)).getBytes(StandardCharsets.UTF_8);
        Deserializer<T> deserializer = (topic, bytes) ->
                bytes == null ? null : decode.apply(Json.read(new String(bytes, StandardCharsets.UTF_8)));
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
