package io.fraudplatform.runtime.ingress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The envelope bytes equal the shared examples, which the Python reader's tests decode too. */
class RecordEnvelopeTest {

  static List<JsonNode> examples() throws IOException {
    try (InputStream in = RecordEnvelopeTest.class.getResourceAsStream("/envelope-examples.json")) {
      List<JsonNode> result = new ArrayList<>();
      new ObjectMapper().readTree(in).get("examples").forEach(result::add);
      return result;
    }
  }

  static byte[] bytes(JsonNode node) {
    return node.isNull() ? null : Base64.getDecoder().decode(node.asText());
  }

  @ParameterizedTest
  @MethodSource("examples")
  void encodesEachExampleExactly(JsonNode example) {
    byte[] envelope =
        RecordEnvelope.encode(
            example.get("topic").asText(),
            example.get("partition").asInt(),
            example.get("offset").asLong(),
            example.get("timestamp").asLong(),
            bytes(example.get("key_base64")),
            bytes(example.get("value_base64")),
            example.get("max_value_bytes").asInt());

    assertArrayEquals(bytes(example.get("envelope_base64")), envelope, example.get("name").asText());
  }

  @Test
  void theExamplesCoverEveryKeyState() throws IOException {
    List<String> states = new ArrayList<>();
    for (JsonNode example : examples()) {
      states.add(RecordEnvelope.KeyState.of(bytes(example.get("key_base64"))).wire);
    }
    for (RecordEnvelope.KeyState state : RecordEnvelope.KeyState.values()) {
      assertTrue(states.contains(state.wire), state.wire);
    }
  }
}
