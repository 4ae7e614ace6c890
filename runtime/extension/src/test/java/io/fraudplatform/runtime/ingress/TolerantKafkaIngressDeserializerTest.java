package io.fraudplatform.runtime.ingress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.statefun.flink.io.common.AutoRoutableProtobufRouter;
import org.apache.flink.statefun.flink.io.generated.AutoRoutable;
import org.apache.flink.statefun.flink.io.generated.RoutingConfig;
import org.apache.flink.statefun.flink.io.generated.TargetFunctionType;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.io.Router;
import org.apache.flink.statefun.sdk.reqreply.generated.TypedValue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class TolerantKafkaIngressDeserializerTest {

  static final RoutingConfig TRANSACTIONS =
      RoutingConfig.newBuilder()
          .setTypeUrl("fraud/Transaction")
          .addTargetFunctionTypes(
              TargetFunctionType.newBuilder().setNamespace("fraud").setType("transaction-manager"))
          .build();

  final TolerantKafkaIngressDeserializer deserializer =
      new TolerantKafkaIngressDeserializer(Map.of("transactions", TRANSACTIONS), 64);

  static ConsumerRecord<byte[], byte[]> record(int partition, long offset, byte[] key, byte[] value) {
    return new ConsumerRecord<>("transactions", partition, offset, key, value);
  }

  AutoRoutable deserialize(ConsumerRecord<byte[], byte[]> record) {
    return (AutoRoutable) deserializer.deserialize(record);
  }

  /** The envelope's header line, as text. */
  static String header(AutoRoutable routable) {
    byte[] payload = routable.getPayloadBytes().toByteArray();
    assertEquals(RecordEnvelope.MAGIC, payload[0]);
    int newline = indexOf(payload, (byte) '\n');
    return new String(payload, 1, newline - 1, StandardCharsets.UTF_8);
  }

  /** The envelope's value bytes. */
  static byte[] body(AutoRoutable routable) {
    byte[] payload = routable.getPayloadBytes().toByteArray();
    return Arrays.copyOfRange(payload, indexOf(payload, (byte) '\n') + 1, payload.length);
  }

  static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    throw new AssertionError("no newline in the envelope");
  }

  @Test
  void aNormalRecordIsRoutedByItsUtf8KeyWithItsPositionAndValue() {
    byte[] value = "{\"account\":\"0x00ABCDEF\"}".getBytes(StandardCharsets.UTF_8);
    AutoRoutable routable = deserialize(record(0, 5, "tm-\u00e9-1".getBytes(StandardCharsets.UTF_8), value));

    assertEquals("tm-\u00e9-1", routable.getId());
    assertArrayEquals(value, body(routable));
    assertEquals(
        "{\"v\":1,\"topic\":\"transactions\",\"partition\":0,\"offset\":5,\"timestamp\":-1,"
            + "\"key\":\"ok\",\"value_size\":24,\"truncated\":false}",
        header(routable));
    assertEquals(TRANSACTIONS, routable.getConfig());
  }

  @Test
  void aRecordWithoutKeyGetsAPlaceholderIdWithItsPosition() {
    AutoRoutable routable = deserialize(record(2, 417, null, "x".getBytes(StandardCharsets.UTF_8)));

    assertEquals("(missing key) transactions/2/417", routable.getId());
    assertTrue(header(routable).contains("\"key\":\"missing\""));
    assertArrayEquals("x".getBytes(StandardCharsets.UTF_8), body(routable));
  }

  @Test
  void anEmptyKeyGetsAPlaceholderIdToo() {
    // An empty id makes the Python SDK refuse the request before any project code runs.
    AutoRoutable routable = deserialize(record(0, 9, new byte[0], new byte[] {1}));

    assertEquals("(empty key) transactions/0/9", routable.getId());
    assertTrue(header(routable).contains("\"key\":\"empty\""));
  }

  @Test
  void aRecordWithoutValueIsMarkedAsSuch() {
    AutoRoutable routable = deserialize(record(0, 6, "tm-1".getBytes(StandardCharsets.UTF_8), null));

    assertEquals("tm-1", routable.getId());
    assertTrue(header(routable).contains("\"value_size\":-1"));
    assertEquals(0, body(routable).length);
  }

  @Test
  void aRecordWithNeitherKeyNorValueIsStillRouted() {
    AutoRoutable routable = deserialize(record(1, 7, null, null));

    assertEquals("(missing key) transactions/1/7", routable.getId());
    assertTrue(header(routable).contains("\"value_size\":-1"));
  }

  @Test
  void aKeyThatIsNotUtf8IsDecodedWithoutThrowingAndKeptInTheHeader() {
    byte[] key = {(byte) 0xC3, (byte) 0x28, 'a', (byte) 0xFF};
    AutoRoutable routable = deserialize(record(0, 8, key, new byte[] {1}));

    assertEquals("\uFFFD(a\uFFFD", routable.getId());
    assertTrue(header(routable).contains("\"key\":\"not_utf8\",\"key_base64\":\"wyhh/w==\""));
  }

  @Test
  void aValueAboveTheLimitIsCutShortAndFlagged() {
    byte[] value = new byte[65];
    Arrays.fill(value, (byte) 'a');
    AutoRoutable routable = deserialize(record(0, 10, "tm-2".getBytes(StandardCharsets.UTF_8), value));

    assertTrue(header(routable).endsWith("\"value_size\":65,\"truncated\":true}"));
    assertEquals(64, body(routable).length); // min(limit, RecordEnvelope.TRUNCATED_PREFIX_BYTES)
  }

  @Test
  void aValueAtTheLimitIsPassedWhole() {
    byte[] value = new byte[64];
    AutoRoutable routable = deserialize(record(0, 11, "tm-3".getBytes(StandardCharsets.UTF_8), value));

    assertTrue(header(routable).endsWith("\"truncated\":false}"));
    assertEquals(64, body(routable).length);
  }

  @Test
  void aTopicWithoutRoutingIsAnError() {
    assertThrows(
        IllegalStateException.class,
        () -> deserializer.deserialize(new ConsumerRecord<>("other", 0, 0L, new byte[] {1}, new byte[] {1})));
  }

  @Test
  void anEmptyRoutingIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new TolerantKafkaIngressDeserializer(Map.of(), 64));
  }

  @Test
  void aNonPositiveValueLimitIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new TolerantKafkaIngressDeserializer(Map.of("transactions", TRANSACTIONS), 0));
  }

  @Test
  void theRouterTurnsTheRecordIntoATypedValueOfTheTopicsValueType() {
    Message keyless = deserializer.deserialize(record(0, 3, null, null));
    List<Object[]> forwarded = new ArrayList<>();
    new AutoRoutableProtobufRouter()
        .route(
            keyless,
            new Router.Downstream<Message>() {
              @Override
              public void forward(org.apache.flink.statefun.sdk.Address to, Message message) {
                forwarded.add(new Object[] {to.type(), to.id(), message});
              }

              @Override
              public org.apache.flink.statefun.sdk.metrics.Metrics metrics() {
                throw new UnsupportedOperationException();
              }
            });

    assertEquals(1, forwarded.size());
    assertEquals(new FunctionType("fraud", "transaction-manager"), forwarded.get(0)[0]);
    assertEquals("(missing key) transactions/0/3", forwarded.get(0)[1]);
    TypedValue value = (TypedValue) forwarded.get(0)[2];
    assertEquals("fraud/Transaction", value.getTypename());
    assertEquals(RecordEnvelope.MAGIC, value.getValue().byteAt(0));
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(deserializer);
    }
    TolerantKafkaIngressDeserializer copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (TolerantKafkaIngressDeserializer) in.readObject();
    }
    assertEquals(
        "(missing key) transactions/0/1",
        ((AutoRoutable) copy.deserialize(record(0, 1, null, null))).getId());
  }
}
