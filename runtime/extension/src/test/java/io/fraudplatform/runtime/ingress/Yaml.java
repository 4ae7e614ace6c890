package io.fraudplatform.runtime.ingress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/** YAML as StateFun reads module.yaml: the Flink-shaded Jackson YAML factory. */
final class Yaml {
  private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory());

  private Yaml() {}

  /** Lines joined with '\n' (the tests compile at release 11: no text blocks). */
  static JsonNode parse(String... lines) {
    try {
      return MAPPER.readTree(String.join("\n", lines));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every document of a multi-document YAML text. */
  static List<JsonNode> documents(String text) {
    try {
      List<JsonNode> docs = new ArrayList<>();
      MAPPER.readerFor(JsonNode.class).readValues(text).forEachRemaining(d -> docs.add((JsonNode) d));
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
