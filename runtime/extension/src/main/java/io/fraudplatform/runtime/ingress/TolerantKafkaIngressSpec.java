package io.fraudplatform.runtime.ingress;

import com.google.protobuf.Message;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.statefun.flink.io.generated.RoutingConfig;
import org.apache.flink.statefun.flink.io.generated.TargetFunctionType;
import org.apache.flink.statefun.sdk.TypeName;
import org.apache.flink.statefun.sdk.io.IngressIdentifier;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressAutoResetPosition;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressBuilder;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressBuilderApiExtension;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressSpec;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressStartupPosition;
import org.apache.flink.statefun.sdk.kafka.KafkaTopicPartition;

/**
 * The spec of an {@code io.fraudplatform.kafka.v1/ingress} document: the same shape, defaults and
 * meaning as {@code io.statefun.kafka.v1/ingress}.
 *
 * <pre>
 * spec:
 *   id: fraud/transactions                      (type name, required)
 *   address: kafka:9092                         (string; or bootstrap.servers in properties)
 *   consumerGroupId: fraud                      (string; or group.id in properties)
 *   topics:                                     (non-empty array, required)
 *     - topic: transactions                     (string)
 *       valueType: fraud/Transaction            (type name: the TypedValue's typename)
 *       targets: [fraud/transaction-manager]    (non-empty array of function type names)
 *   autoOffsetResetPosition: earliest           (earliest | latest; default latest)
 *   startupPosition:                            (object; default {type: latest})
 *     type: group-offsets                       (earliest | latest | group-offsets | specific-offsets | date)
 *     offsets: [{transactions/0: 42}]           (specific-offsets only)
 *     date: 2024-01-31 12:00:00.000 +0000       (date only; pattern yyyy-MM-dd HH:mm:ss.SSS Z)
 *   properties:                                 (array of {key: value} objects, optional)
 *     - isolation.level: read_committed
 *   maxValueBytes: 65536                        (positive integer; default 65536; extension of this kind)
 * </pre>
 *
 * <p>{@code maxValueBytes} is the largest record value passed on whole; a larger one is passed on
 * as its first {@link RecordEnvelope#TRUNCATED_PREFIX_BYTES} bytes, flagged as truncated, so one
 * huge record can neither fill a request to the functions nor make a batch exceed the function
 * server's body limit.
 *
 * Unknown fields are ignored, as by the built-in binder. Every other deviation fails with an
 * {@link IllegalArgumentException} naming the field, e.g. {@code topics[0].valueType}; a missing
 * address or group id fails here already rather than later in {@code KafkaIngressSpec}.
 */
public final class TolerantKafkaIngressSpec {

  /** Default of {@code maxValueBytes}; equals {@code MAX_RECORD_BYTES} of the Python contract. */
  public static final int DEFAULT_MAX_VALUE_BYTES = 64 * 1024;

  static final String DATE_PATTERN = "yyyy-MM-dd HH:mm:ss.SSS Z";
  private static final DateTimeFormatter DATE_FORMAT = DateTimeFormatter.ofPattern(DATE_PATTERN);

  private final IngressIdentifier<Message> id;
  private final Optional<String> address;
  private final Optional<String> consumerGroupId;
  private final Map<String, RoutingConfig> routingByTopic;
  private final KafkaIngressAutoResetPosition autoOffsetResetPosition;
  private final KafkaIngressStartupPosition startupPosition;
  private final Properties properties;
  private final int maxValueBytes;

  private TolerantKafkaIngressSpec(
      IngressIdentifier<Message> id,
      Optional<String> address,
      Optional<String> consumerGroupId,
      Map<String, RoutingConfig> routingByTopic,
      KafkaIngressAutoResetPosition autoOffsetResetPosition,
      KafkaIngressStartupPosition startupPosition,
      Properties properties,
      int maxValueBytes) {
    this.id = id;
    this.address = address;
    this.consumerGroupId = consumerGroupId;
    this.routingByTopic = Collections.unmodifiableMap(routingByTopic);
    this.autoOffsetResetPosition = autoOffsetResetPosition;
    this.startupPosition = startupPosition;
    this.properties = properties;
    this.maxValueBytes = maxValueBytes;
  }

  /** Parses the {@code spec:} object of a module.yaml document. */
  public static TolerantKafkaIngressSpec fromJson(JsonNode spec) {
    if (spec == null || !spec.isObject()) {
      throw new IllegalArgumentException(
          "Invalid " + TolerantKafkaIngressBinder.KIND_NAME + " component: 'spec' must be an object");
    }
    Parser p = new Parser();
    TypeName idName = p.typeName(p.requiredText(spec, "id", "id"), "id");
    p.ingress = idName.canonicalTypenameString();
    IngressIdentifier<Message> id =
        new IngressIdentifier<>(Message.class, idName.namespace(), idName.name());
    Optional<String> address = p.optionalText(spec, "address", "address");
    Optional<String> group = p.optionalText(spec, "consumerGroupId", "consumerGroupId");
    Map<String, RoutingConfig> routing = p.topics(spec.get("topics"));
    KafkaIngressAutoResetPosition reset = p.autoOffsetReset(spec.get("autoOffsetResetPosition"));
    KafkaIngressStartupPosition startup = p.startupPosition(spec.get("startupPosition"));
    Properties properties = p.properties(spec.get("properties"));
    int maxValueBytes = p.positiveInt(spec.get("maxValueBytes"), "maxValueBytes", DEFAULT_MAX_VALUE_BYTES);
    // The Kafka ingress needs both (KafkaIngressSpec checks them too, without naming the ingress).
    if (!address.isPresent() && !properties.containsKey("bootstrap.servers")) {
      throw p.invalid("address", "is required (or a 'bootstrap.servers' entry in 'properties')");
    }
    if (!group.isPresent() && !properties.containsKey("group.id")) {
      throw p.invalid("consumerGroupId", "is required (or a 'group.id' entry in 'properties')");
    }
    return new TolerantKafkaIngressSpec(
        id, address, group, routing, reset, startup, properties, maxValueBytes);
  }

  public IngressIdentifier<Message> id() {
    return id;
  }

  public Optional<String> address() {
    return address;
  }

  public Optional<String> consumerGroupId() {
    return consumerGroupId;
  }

  /** Topic → value type and target functions, in the order of the spec. */
  public Map<String, RoutingConfig> routingByTopic() {
    return routingByTopic;
  }

  public KafkaIngressAutoResetPosition autoOffsetResetPosition() {
    return autoOffsetResetPosition;
  }

  public KafkaIngressStartupPosition startupPosition() {
    return startupPosition;
  }

  /** Values larger than this are passed on truncated (see the class comment). */
  public int maxValueBytes() {
    return maxValueBytes;
  }

  /** The extra consumer properties (a copy). */
  public Properties properties() {
    Properties copy = new Properties();
    copy.putAll(properties);
    return copy;
  }

  /** The ingress to bind: the built-in Kafka consumer with a {@link TolerantKafkaIngressDeserializer}. */
  public KafkaIngressSpec<Message> toKafkaIngressSpec() {
    KafkaIngressBuilder<Message> builder = KafkaIngressBuilder.forIdentifier(id);
    address.ifPresent(builder::withKafkaAddress);
    consumerGroupId.ifPresent(builder::withConsumerGroupId);
    routingByTopic.keySet().forEach(builder::withTopic);
    builder.withAutoResetPosition(autoOffsetResetPosition);
    builder.withStartupPosition(startupPosition);
    builder.withProperties(properties());
    KafkaIngressBuilderApiExtension.withDeserializer(
        builder, new TolerantKafkaIngressDeserializer(routingByTopic, maxValueBytes));
    return builder.build();
  }

  /** Field-by-field validation; every message names the ingress (once known) and the field. */
  private static final class Parser {
    String ingress;

    IllegalArgumentException invalid(String field, String problem) {
      return new IllegalArgumentException(
          "Invalid "
              + TolerantKafkaIngressBinder.KIND_NAME
              + " spec"
              + (ingress == null ? "" : " (id " + ingress + ")")
              + ": '"
              + field
              + "' "
              + problem);
    }

    String requiredText(JsonNode parent, String name, String field) {
      JsonNode node = parent.get(name);
      if (node == null || node.isNull()) {
        throw invalid(field, "is required");
      }
      return text(node, field);
    }

    Optional<String> optionalText(JsonNode parent, String name, String field) {
      JsonNode node = parent.get(name);
      if (node == null || node.isNull()) {
        return Optional.empty();
      }
      return Optional.of(text(node, field));
    }

    String text(JsonNode node, String field) {
      if (!node.isTextual()) {
        throw invalid(field, "must be a string, got " + describe(node));
      }
      String value = node.textValue().trim();
      if (value.isEmpty()) {
        throw invalid(field, "must not be empty");
      }
      return value;
    }

    TypeName typeName(String value, String field) {
      try {
        TypeName name = TypeName.parseFrom(value);
        if (name.namespace().isEmpty() || name.name().isEmpty()) {
          throw new IllegalArgumentException(value);
        }
        return name;
      } catch (RuntimeException e) {
        throw invalid(field, "must be a type name <namespace>/<name>, got '" + value + "'");
      }
    }

    Map<String, RoutingConfig> topics(JsonNode topics) {
      if (topics == null || topics.isNull()) {
        throw invalid("topics", "is required");
      }
      if (!topics.isArray() || topics.size() == 0) {
        throw invalid("topics", "must be a non-empty list, got " + describe(topics));
      }
      Map<String, RoutingConfig> result = new LinkedHashMap<>();
      for (int i = 0; i < topics.size(); i++) {
        String at = "topics[" + i + "]";
        JsonNode entry = topics.get(i);
        if (!entry.isObject()) {
          throw invalid(at, "must be an object {topic, valueType, targets}, got " + describe(entry));
        }
        String topic = requiredText(entry, "topic", at + ".topic");
        if (result.containsKey(topic)) {
          throw invalid(at + ".topic", "repeats topic '" + topic + "'");
        }
        String valueType =
            typeName(requiredText(entry, "valueType", at + ".valueType"), at + ".valueType")
                .canonicalTypenameString();
        result.put(
            topic,
            RoutingConfig.newBuilder()
                .setTypeUrl(valueType)
                .addAllTargetFunctionTypes(targets(entry.get("targets"), at + ".targets"))
                .build());
      }
      return result;
    }

    List<TargetFunctionType> targets(JsonNode targets, String field) {
      if (targets == null || targets.isNull()) {
        throw invalid(field, "is required");
      }
      if (!targets.isArray() || targets.size() == 0) {
        throw invalid(field, "must be a non-empty list of function types, got " + describe(targets));
      }
      List<TargetFunctionType> result = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        String at = field + "[" + i + "]";
        TypeName type = typeName(text(targets.get(i), at), at);
        result.add(
            TargetFunctionType.newBuilder()
                .setNamespace(type.namespace())
                .setType(type.name())
                .build());
      }
      return result;
    }

    int positiveInt(JsonNode node, String field, int defaultValue) {
      if (node == null || node.isNull()) {
        return defaultValue;
      }
      if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() <= 0) {
        throw invalid(field, "must be a positive integer, got " + describe(node));
      }
      return node.intValue();
    }

    KafkaIngressAutoResetPosition autoOffsetReset(JsonNode node) {
      if (node == null || node.isNull()) {
        return KafkaIngressAutoResetPosition.LATEST;
      }
      String value = text(node, "autoOffsetResetPosition");
      switch (value.toLowerCase(Locale.ROOT)) {
        case "earliest":
          return KafkaIngressAutoResetPosition.EARLIEST;
        case "latest":
          return KafkaIngressAutoResetPosition.LATEST;
        default:
          throw invalid(
              "autoOffsetResetPosition", "must be one of [earliest, latest], got '" + value + "'");
      }
    }

    KafkaIngressStartupPosition startupPosition(JsonNode node) {
      if (node == null || node.isNull()) {
        return KafkaIngressStartupPosition.fromLatest();
      }
      if (!node.isObject()) {
        throw invalid("startupPosition", "must be an object {type: ...}, got " + describe(node));
      }
      String type = requiredText(node, "type", "startupPosition.type");
      switch (type) {
        case "earliest":
          return KafkaIngressStartupPosition.fromEarliest();
        case "latest":
          return KafkaIngressStartupPosition.fromLatest();
        case "group-offsets":
          return KafkaIngressStartupPosition.fromGroupOffsets();
        case "specific-offsets":
          return KafkaIngressStartupPosition.fromSpecificOffsets(specificOffsets(node.get("offsets")));
        case "date":
          return KafkaIngressStartupPosition.fromDate(date(node));
        default:
          throw invalid(
              "startupPosition.type",
              "must be one of [earliest, latest, group-offsets, specific-offsets, date], got '"
                  + type
                  + "'");
      }
    }

    Map<KafkaTopicPartition, Long> specificOffsets(JsonNode offsets) {
      String field = "startupPosition.offsets";
      if (offsets == null || !offsets.isArray() || offsets.size() == 0) {
        throw invalid(field, "must be a non-empty list of {<topic>/<partition>: <offset>}");
      }
      Map<KafkaTopicPartition, Long> result = new LinkedHashMap<>();
      for (int i = 0; i < offsets.size(); i++) {
        String at = field + "[" + i + "]";
        JsonNode entry = offsets.get(i);
        if (!entry.isObject() || entry.size() == 0) {
          throw invalid(at, "must be an object {<topic>/<partition>: <offset>}, got " + describe(entry));
        }
        Iterator<Map.Entry<String, JsonNode>> fields = entry.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> f = fields.next();
          KafkaTopicPartition partition;
          try {
            partition = KafkaTopicPartition.fromString(f.getKey());
          } catch (RuntimeException e) {
            throw invalid(at, "key must be <topic>/<partition>, got '" + f.getKey() + "'");
          }
          if (!f.getValue().canConvertToLong() || !f.getValue().isIntegralNumber()) {
            throw invalid(at + "." + f.getKey(), "must be an integer offset, got " + describe(f.getValue()));
          }
          result.put(partition, f.getValue().longValue());
        }
      }
      return result;
    }

    ZonedDateTime date(JsonNode startupPosition) {
      String value = requiredText(startupPosition, "date", "startupPosition.date");
      try {
        return ZonedDateTime.parse(value, DATE_FORMAT);
      } catch (DateTimeParseException e) {
        throw invalid("startupPosition.date", "must match '" + DATE_PATTERN + "', got '" + value + "'");
      }
    }

    Properties properties(JsonNode node) {
      Properties result = new Properties();
      if (node == null || node.isNull()) {
        return result;
      }
      if (!node.isArray()) {
        throw invalid("properties", "must be a list of {key: value} objects, got " + describe(node));
      }
      for (int i = 0; i < node.size(); i++) {
        String at = "properties[" + i + "]";
        JsonNode entry = node.get(i);
        if (!entry.isObject() || entry.size() == 0) {
          throw invalid(at, "must be an object {key: value}, got " + describe(entry));
        }
        Iterator<Map.Entry<String, JsonNode>> fields = entry.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> f = fields.next();
          if (!f.getValue().isValueNode() || f.getValue().isNull()) {
            throw invalid(
                at + "." + f.getKey(), "must be a string, number or boolean, got " + describe(f.getValue()));
          }
          result.setProperty(f.getKey(), f.getValue().asText());
        }
      }
      return result;
    }

    static String describe(JsonNode node) {
      if (node == null || node.isNull()) {
        return "nothing";
      }
      if (node.isTextual()) {
        return "'" + node.textValue() + "'";
      }
      return node.getNodeType().toString().toLowerCase(Locale.ROOT) + " " + node;
    }
  }
}
