package io.fraudplatform.runtime.ingress;

import com.google.protobuf.ByteString;
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
 * Turns a Kafka record into an {@link AutoRoutable} for StateFun's auto-routing router.
 *
 * <ul>
 *   <li>A record with a key and a value: id = the key decoded as UTF-8 (malformed bytes become
 *       U+FFFD, as in the built-in ingress), payload = the value bytes.
 *   <li>A record without a key: id = {@code "(missing key) <topic>/<partition>/<offset>"} (see
 *       {@link #MISSING_KEY_MARKER}); the functions reject that id and dead-letter the record as
 *       {@code missing_key}. The built-in ingress throws here and fails the job.
 *   <li>A record without a value (a tombstone): an empty payload; the functions dead-letter it as
 *       {@code empty_value}. The built-in ingress fails the job with a NullPointerException.
 * </ul>
 *
 * Keyless and valueless records are logged at WARN, at most once every {@value #WARN_INTERVAL_MS}
 * ms per parallel instance (with the number suppressed in between).
 */
public final class TolerantKafkaIngressDeserializer implements KafkaIngressDeserializer<Message> {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(TolerantKafkaIngressDeserializer.class);
  static final long WARN_INTERVAL_MS = 10_000;

  /**
   * The start of the id given to a record that has no key: the id is this marker, one space, then
   * {@code <topic>/<partition>/<offset>}. Part of the contract with the Python functions: {@code
   * MISSING_KEY_MARKER} in {@code common/fraud_common/contract.py} must have exactly this value,
   * or keyless records are no longer dead-lettered as {@code missing_key}.
   */
  public static final String MISSING_KEY_MARKER = "(missing key)";

  private final HashMap<String, RoutingConfig> routingByTopic;

  private transient long lastWarnMillis;
  private transient long suppressedWarnings;

  public TolerantKafkaIngressDeserializer(Map<String, RoutingConfig> routingByTopic) {
    if (routingByTopic == null || routingByTopic.isEmpty()) {
      throw new IllegalArgumentException("A Kafka ingress needs a routing for at least one topic");
    }
    this.routingByTopic = new HashMap<>(routingByTopic);
  }

  /** The id given to the record without a key at {@code topic/partition/offset}. */
  public static String missingKeyId(String topic, int partition, long offset) {
    return MISSING_KEY_MARKER + " " + topic + "/" + partition + "/" + offset;
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
    if (key == null) {
      id = missingKeyId(record.topic(), record.partition(), record.offset());
    } else {
      id = new String(key, StandardCharsets.UTF_8);
    }
    ByteString payload = value == null ? ByteString.EMPTY : MoreByteStrings.wrap(value);
    if (key == null || value == null) {
      warnMalformed(record, key == null, value == null);
    }
    return AutoRoutable.newBuilder().setConfig(routing).setId(id).setPayloadBytes(payload).build();
  }

  private void warnMalformed(ConsumerRecord<byte[], byte[]> record, boolean noKey, boolean noValue) {
    long now = System.currentTimeMillis();
    if (lastWarnMillis != 0 && now - lastWarnMillis < WARN_INTERVAL_MS) {
      suppressedWarnings++;
      return;
    }
    String what = noKey && noValue ? "no key and no value" : noKey ? "no key" : "no value";
    LOG.warn(
        "Kafka record {}/{}/{} has {}: passed on to the functions for dead-lettering"
            + " ({} similar records since the previous warning)",
        record.topic(), record.partition(), record.offset(), what, suppressedWarnings);
    lastWarnMillis = now;
    suppressedWarnings = 0;
  }
}
