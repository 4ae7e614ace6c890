package io.fraudplatform.runtime.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.statefun.flink.io.generated.RoutingConfig;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressAutoResetPosition;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressSpec;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressStartupPosition;
import org.apache.flink.statefun.sdk.kafka.KafkaTopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TolerantKafkaIngressSpecTest {

  /** The transactions ingress of runtime/conf/module.yaml.tmpl, placeholders filled in. */
  static final String[] FULL = {
    "id: fraud/transactions",
    "address: kafka-1:9092,kafka-2:9092",
    "consumerGroupId: fraud-platform",
    "startupPosition:",
    "  type: group-offsets",
    "autoOffsetResetPosition: earliest",
    "properties:",
    "  - isolation.level: read_committed",
    "  - max.poll.records: 500",
    "topics:",
    "  - topic: transactions",
    "    valueType: fraud/Transaction",
    "    targets:",
    "      - fraud/transaction-manager",
    "  - topic: confirmed",
    "    valueType: fraud/ConfirmFraud",
    "    targets: [fraud/fraud-count, fraud/audit]",
  };

  /** Only the required fields. */
  static final String[] MINIMAL = {
    "id: fraud/transactions",
    "address: localhost:9092",
    "consumerGroupId: fraud",
    "topics:",
    "  - topic: transactions",
    "    valueType: fraud/Transaction",
    "    targets: [fraud/transaction-manager]",
  };

  @Test
  void parsesTheFullSpec() {
    TolerantKafkaIngressSpec spec = TolerantKafkaIngressSpec.fromJson(Yaml.parse(FULL));

    assertEquals("fraud", spec.id().namespace());
    assertEquals("transactions", spec.id().name());
    assertEquals("kafka-1:9092,kafka-2:9092", spec.address().orElseThrow());
    assertEquals("fraud-platform", spec.consumerGroupId().orElseThrow());
    assertEquals(KafkaIngressAutoResetPosition.EARLIEST, spec.autoOffsetResetPosition());
    assertTrue(spec.startupPosition().isGroupOffsets());
    assertEquals("read_committed", spec.properties().getProperty("isolation.level"));
    assertEquals("500", spec.properties().getProperty("max.poll.records"));

    assertEquals(List.of("transactions", "confirmed"), new ArrayList<>(spec.routingByTopic().keySet()));
    RoutingConfig transactions = spec.routingByTopic().get("transactions");
    assertEquals("fraud/Transaction", transactions.getTypeUrl());
    assertEquals(1, transactions.getTargetFunctionTypesCount());
    assertEquals("fraud", transactions.getTargetFunctionTypes(0).getNamespace());
    assertEquals("transaction-manager", transactions.getTargetFunctionTypes(0).getType());
    RoutingConfig confirmed = spec.routingByTopic().get("confirmed");
    assertEquals("fraud/ConfirmFraud", confirmed.getTypeUrl());
    assertEquals(
        List.of("fraud/fraud-count", "fraud/audit"),
        confirmed.getTargetFunctionTypesList().stream()
            .map(t -> t.getNamespace() + "/" + t.getType())
            .collect(Collectors.toList()));
  }

  @Test
  void buildsTheKafkaIngressWithTheTolerantDeserializer() {
    KafkaIngressSpec<?> ingress =
        TolerantKafkaIngressSpec.fromJson(Yaml.parse(FULL)).toKafkaIngressSpec();

    assertEquals("fraud", ingress.id().namespace());
    assertEquals("transactions", ingress.id().name());
    assertEquals(List.of("transactions", "confirmed"), ingress.topics());
    Properties props = ingress.properties();
    assertEquals("kafka-1:9092,kafka-2:9092", props.getProperty("bootstrap.servers"));
    assertEquals("fraud-platform", props.getProperty("group.id"));
    assertEquals("earliest", props.getProperty("auto.offset.reset").toLowerCase());
    assertEquals("read_committed", props.getProperty("isolation.level"));
    assertTrue(ingress.startupPosition().isGroupOffsets());
    assertInstanceOf(TolerantKafkaIngressDeserializer.class, ingress.deserializer());
  }

  @Test
  void appliesTheDefaultsOfTheBuiltInIngress() {
    TolerantKafkaIngressSpec spec = TolerantKafkaIngressSpec.fromJson(Yaml.parse(MINIMAL));

    assertEquals(KafkaIngressAutoResetPosition.LATEST, spec.autoOffsetResetPosition());
    assertTrue(spec.startupPosition().isLatest());
    assertTrue(spec.properties().isEmpty());
    KafkaIngressSpec<?> ingress = spec.toKafkaIngressSpec();
    assertEquals("latest", ingress.properties().getProperty("auto.offset.reset").toLowerCase());
    assertTrue(ingress.startupPosition().isLatest());
  }

  @Test
  void takesTheValueLimitFromTheSpecOrDefaultsToTheContractLimit() {
    assertEquals(1024, TolerantKafkaIngressSpec.fromJson(with(MINIMAL, "maxValueBytes: 1024")).maxValueBytes());
    assertEquals(65536, TolerantKafkaIngressSpec.fromJson(Yaml.parse(MINIMAL)).maxValueBytes());
  }

  @Test
  void takesAddressAndGroupFromThePropertiesToo() {
    TolerantKafkaIngressSpec spec =
        TolerantKafkaIngressSpec.fromJson(
            Yaml.parse(
                MINIMAL[0], MINIMAL[3], MINIMAL[4], MINIMAL[5], MINIMAL[6],
                "properties: [{bootstrap.servers: 'k:9092'}, {group.id: g}]"));
    assertFalse(spec.address().isPresent());
    assertFalse(spec.consumerGroupId().isPresent());
    Properties props = spec.toKafkaIngressSpec().properties();
    assertEquals("k:9092", props.getProperty("bootstrap.servers"));
    assertEquals("g", props.getProperty("group.id"));
  }

  @Test
  void keepsTheDefaultsWhenPropertiesAreGiven() {
    TolerantKafkaIngressSpec spec = TolerantKafkaIngressSpec.fromJson(with(MINIMAL, "properties: []"));
    assertEquals(KafkaIngressAutoResetPosition.LATEST, spec.autoOffsetResetPosition());
    assertTrue(spec.startupPosition().isLatest());
    assertTrue(spec.properties().isEmpty());
  }

  @Test
  void parsesEveryStartupPositionType() {
    assertTrue(startup("  type: earliest").isEarliest());
    assertTrue(startup("  type: latest").isLatest());
    assertTrue(startup("  type: group-offsets").isGroupOffsets());
    KafkaIngressStartupPosition specific =
        startup("  type: specific-offsets", "  offsets:", "    - transactions/0: 42", "    - transactions/1: 7");
    assertTrue(specific.isSpecificOffsets());
    assertEquals(
        42L,
        specific.asSpecificOffsets().specificOffsets().get(new KafkaTopicPartition("transactions", 0)));
    KafkaIngressStartupPosition date =
        startup("  type: date", "  date: 2024-01-31 12:00:00.000 +0000");
    assertTrue(date.isDate());
  }

  @Test
  void acceptsLatestAutoOffsetResetInAnyCase() {
    assertEquals(
        KafkaIngressAutoResetPosition.LATEST,
        TolerantKafkaIngressSpec.fromJson(with(MINIMAL, "autoOffsetResetPosition: LATEST"))
            .autoOffsetResetPosition());
  }

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        invalid("no id", without(MINIMAL, "id:"), "'id' is required"),
        invalid("id not a type name", replace(MINIMAL, "id: fraud/transactions", "id: transactions"), "'id' must be a type name"),
        invalid("id not a string", replace(MINIMAL, "id: fraud/transactions", "id: [a, b]"), "'id' must be a string"),
        invalid("address not a string", replace(MINIMAL, "address: localhost:9092", "address: [a, b]"), "'address' must be a string"),
        invalid("no address", without(MINIMAL, "address:"), "'address' is required (or a 'bootstrap.servers' entry in 'properties')"),
        invalid("no consumerGroupId", without(MINIMAL, "consumerGroupId:"), "'consumerGroupId' is required (or a 'group.id' entry in 'properties')"),
        invalid("empty consumerGroupId", replace(MINIMAL, "consumerGroupId: fraud", "consumerGroupId: ''"), "'consumerGroupId' must not be empty"),
        invalid("no topics", Yaml.parse("id: fraud/transactions"), "'topics' is required"),
        invalid("empty topics", Yaml.parse("id: fraud/transactions", "topics: []"), "'topics' must be a non-empty list"),
        invalid("topics not a list", Yaml.parse("id: fraud/transactions", "topics: transactions"), "'topics' must be a non-empty list"),
        invalid("topic entry not an object", Yaml.parse("id: fraud/transactions", "topics: [transactions]"), "'topics[0]' must be an object"),
        invalid("no topic name", Yaml.parse("id: fraud/transactions", "address: k:9092", "consumerGroupId: g", "topics:", "  - valueType: fraud/Transaction", "    targets: [fraud/tm]"), "'topics[0].topic' is required"),
        invalid("no valueType", without(MINIMAL, "    valueType:"), "'topics[0].valueType' is required"),
        invalid("valueType not a type name", replace(MINIMAL, "    valueType: fraud/Transaction", "    valueType: Transaction"), "'topics[0].valueType' must be a type name"),
        invalid("no targets", without(MINIMAL, "    targets:"), "'topics[0].targets' is required"),
        invalid("empty targets", replace(MINIMAL, "    targets: [fraud/transaction-manager]", "    targets: []"), "'topics[0].targets' must be a non-empty list"),
        invalid("target not a type name", replace(MINIMAL, "    targets: [fraud/transaction-manager]", "    targets: [fraud/tm, tm]"), "'topics[0].targets[1]' must be a type name"),
        invalid("repeated topic", Yaml.parse(concat(MINIMAL, MINIMAL[4], MINIMAL[5], MINIMAL[6])), "'topics[1].topic' repeats topic 'transactions'"),
        invalid("bad autoOffsetResetPosition", with(MINIMAL, "autoOffsetResetPosition: newest"), "'autoOffsetResetPosition' must be one of [earliest, latest], got 'newest'"),
        invalid("startupPosition not an object", with(MINIMAL, "startupPosition: earliest"), "'startupPosition' must be an object"),
        invalid("startupPosition without type", with(MINIMAL, "startupPosition: {}"), "'startupPosition.type' is required"),
        invalid("bad startupPosition type", with(MINIMAL, "startupPosition: {type: newest}"), "'startupPosition.type' must be one of [earliest, latest, group-offsets, specific-offsets, date], got 'newest'"),
        invalid("specific-offsets without offsets", with(MINIMAL, "startupPosition: {type: specific-offsets}"), "'startupPosition.offsets' must be a non-empty list"),
        invalid("specific offset not a number", with(MINIMAL, "startupPosition: {type: specific-offsets, offsets: [{transactions/0: x}]}"), "'startupPosition.offsets[0].transactions/0' must be an integer offset"),
        invalid("bad date", with(MINIMAL, "startupPosition: {type: date, date: yesterday}"), "'startupPosition.date' must match 'yyyy-MM-dd HH:mm:ss.SSS Z', got 'yesterday'"),
        invalid("properties not a list", with(MINIMAL, "properties: {isolation.level: read_committed}"), "'properties' must be a list"),
        invalid("property entry not an object", with(MINIMAL, "properties: [isolation.level]"), "'properties[0]' must be an object"),
        invalid("property value not a scalar", with(MINIMAL, "properties: [{isolation.level: [a]}]"), "'properties[0].isolation.level' must be a string, number or boolean"),
        invalid("maxValueBytes zero", with(MINIMAL, "maxValueBytes: 0"), "'maxValueBytes' must be a positive integer"),
        invalid("maxValueBytes not a number", with(MINIMAL, "maxValueBytes: big"), "'maxValueBytes' must be a positive integer"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidSpecs")
  void rejectsAnInvalidFieldNamingIt(String name, JsonNode spec, String expected) {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> TolerantKafkaIngressSpec.fromJson(spec));
    assertTrue(
        error.getMessage().contains(expected),
        () -> "expected the message to contain <" + expected + "> but was <" + error.getMessage() + ">");
    assertTrue(error.getMessage().startsWith("Invalid io.fraudplatform.kafka.v1/ingress spec"));
  }

  @Test
  void namesTheIngressInTheMessageOnceTheIdIsKnown() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> TolerantKafkaIngressSpec.fromJson(with(MINIMAL, "autoOffsetResetPosition: 1")));
    assertEquals(
        "Invalid io.fraudplatform.kafka.v1/ingress spec (id fraud/transactions):"
            + " 'autoOffsetResetPosition' must be a string, got number 1",
        error.getMessage());
  }

  @Test
  void rejectsASpecThatIsNotAnObject() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class, () -> TolerantKafkaIngressSpec.fromJson(Yaml.parse("[]")));
    assertTrue(error.getMessage().contains("'spec' must be an object"));
  }

  // ---------------------------------------------------------------------------------------------

  private static KafkaIngressStartupPosition startup(String... lines) {
    return TolerantKafkaIngressSpec.fromJson(Yaml.parse(concat(MINIMAL, concat(new String[] {"startupPosition:"}, lines))))
        .startupPosition();
  }

  private static Arguments invalid(String name, JsonNode spec, String message) {
    return Arguments.of(name, spec, message);
  }

  private static JsonNode with(String[] base, String... extra) {
    return Yaml.parse(concat(base, extra));
  }

  /** The base lines less those starting with any of the prefixes. */
  private static JsonNode without(String[] base, String... prefixes) {
    return Yaml.parse(
        Arrays.stream(base)
            .filter(l -> Arrays.stream(prefixes).noneMatch(l::startsWith))
            .toArray(String[]::new));
  }

  private static JsonNode replace(String[] base, String line, String replacement) {
    return Yaml.parse(
        Arrays.stream(base).map(l -> l.equals(line) ? replacement : l).toArray(String[]::new));
  }

  private static String[] concat(String[] base, String... extra) {
    return Stream.concat(Arrays.stream(base), Arrays.stream(extra)).toArray(String[]::new);
  }
}
