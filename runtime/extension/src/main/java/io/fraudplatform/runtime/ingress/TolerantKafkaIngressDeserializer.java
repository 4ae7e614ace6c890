package io.fraudplatform.runtime.ingress;

import com.google.protobuf.Message;
import com.google.protobuf.MoreByteStrings;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.statefun.flink.io.generated.AutoRoutable;
import org.apache.flink.statefun.flink.io.generated.RoutingConfig;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressDeserializer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a Kafka record into an {@link AutoRoutable} for StateFun's auto-routing router, whatever
 * the record holds.
 *
 * <ul>
 *   <li>The id (the target function's address) is the key decoded as UTF-8 (malformed bytes
 *       become U+FFFD, as in the built-in ingress). A record whose key is missing or empty gets the
 *       id {@code "(missing key) <topic>/<partition>/<offset>"} or {@code "(empty key) ..."}: an
 *       address id must not be empty (the Python SDK refuses an empty id before any project code
 *       runs, and the built-in ingress throws on a missing key: both fail the job).
 *   <li>The payload is a {@link RecordEnvelope}: the record's position, how its key arrived, and
 *       its value bytes (cut short, and flagged, beyond {@code maxValueBytes}). The functions
 *       dead-letter whatever is wrong with it, with the position and the original bytes.
 * </ul>
 *
 * Records without a key or value are logged at WARN, at most once every {@value
 * #WARN_INTERVAL_MS} ms per parallel instance (with the number suppressed in between).
 */
public final class TolerantKafkaIngressDeserializer implements KafkaIngressDeserializer<Message> {

  private static final long serialVersionUID = 2L;
  private static final Logger LOG = LoggerFactory.getLogger(TolerantKafkaIngressDeserializer.class);
  static final long WARN_INTERVAL_MS = 10_000;

  /** The start of the id of a record without a key; then one space and the record's position. */
  public static final String MISSING_KEY_MARKER = "(missing key)";

  /** The start of the id of a record with a zero-length key. */
  public static final String EMPTY_KEY_MARKER = "(empty key)";

  private final HashMap<String, RoutingConfig> routingByTopic;
  private final int maxValueBytes;

  private transient long lastWarnMillis;
  private transient long suppressedWarnings;

  public TolerantKafkaIngressDeserializer(Map<String, RoutingConfig> routingByTopic, int maxValueBytes) {
    if (routingByTopic == null || routingByTopic.isEmpty()) {
      throw new IllegalArgumentException("A Kafka ingress needs a routing for at least one topic");
    }
    if (maxValueBytes <= 0) {
      throw new IllegalArgumentException("maxValueBytes must be positive, got " + maxValueBytes);
    }
    this.routingByTopic = new HashMap<>(routingByTopic);
    this.maxValueBytes = maxValueBytes;
  }

  /** The id given to the record without a usable key at {@code topic/partition/offset}. */
  public static String placeholderId(String marker, String topic, int partition, long offset) {
    return marker + " " + topic + "/" + partition + "/" + offset;
  }

  @Override
  public Message deserialize(ConsumerRecord<byte[], byte[]> record) {
    RoutingConfig routing = routingByTopic.get(record.topic());
    if (routing == null) {
      // Only subscribed topics are consumed, so this is a programming error, not a bad record.
      throw new IllegalStateException(
          "Consumed a record from topic '" + record.topic() + "', which has no routing");
    }
    byte[] key = record.key();
    byte[] value = record.value();
    String id;
    if (key == null || key.length == 0) {
      String marker = key == null ? MISSING_KEY_MARKER : EMPTY_KEY_MARKER;
      id = placeholderId(marker, record.topic(), record.partition(), record.offset());
    } else {
      id = new String(key, StandardCharsets.UTF_8);
    }
    if (key == null || key.length == 0 || value == null) {
      warnMalformed(record, key == null ? "no key" : key.length == 0 ? "an empty key" : null, value == null);
    }
    byte[] payload =
        RecordEnvelope.encode(
            record.topic(), record.partition(), record.offset(), record.timestamp(), key, value, maxValueBytes);
    return AutoRoutable.newBuilder()
        .setConfig(routing)
        .setId(id)
        .setPayloadBytes(MoreByteStrings.wrap(payload))
        .build();
  }

  private void warnMalformed(ConsumerRecord<byte[], byte[]> record, String keyProblem, boolean noValue) {
    long now = System.currentTimeMillis();
    if (lastWarnMillis != 0 && now - lastWarnMillis < WARN_INTERVAL_MS) {
      suppressedWarnings++;
      return;
    }
    String what =
        keyProblem != null && noValue
            ? keyProblem + " and no value"
            : keyProblem != null ? keyProblem : "no value";
    LOG.warn(
        "Kafka record {}/{}/{} has {}: passed on to the functions for dead-lettering"
            + " ({} similar records since the previous warning)",
        record.topic(), record.partition(), record.offset(), what, suppressedWarnings);
    lastWarnMillis = now;
    suppressedWarnings = 0;
  }
}
