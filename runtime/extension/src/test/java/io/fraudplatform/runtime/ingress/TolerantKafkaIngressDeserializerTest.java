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
      new TolerantKafkaIngressDeserializer(Map.of("transactions", TRANSACTIONS));

  static ConsumerRecord<byte[], byte[]> record(int partition, long offset, byte[] key, byte[] value) {
    return new ConsumerRecord<>("transactions", partition, offset, key, value);
  }

  AutoRoutable deserialize(ConsumerRecord<byte[], byte[]> record) {
    return (AutoRoutable) deserializer.deserialize(record);
  }

  @Test
  void aNormalRecordIsRoutedByItsUtf8KeyWithTheValueAsPayload() {
    byte[] value = "{\"account\":\"0x00ABCDEF\"}".getBytes(StandardCharsets.UTF_8);
    AutoRoutable routable = deserialize(record(0, 5, "tm-\u00e9-1".getBytes(StandardCharsets.UTF_8), value));

    assertEquals("tm-\u00e9-1", routable.getId());
    assertArrayEquals(value, routable.getPayloadBytes().toByteArray());
    assertEquals(TRANSACTIONS, routable.getConfig());
  }

  @Test
  void aRecordWithoutKeyGetsTheMissingKeyMarkerAndItsPosition() {
    AutoRoutable routable = deserialize(record(2, 417, null, "x".getBytes(StandardCharsets.UTF_8)));

    assertEquals("(missing key) transactions/2/417", routable.getId());
    assertTrue(routable.getId().startsWith(TolerantKafkaIngressDeserializer.MISSING_KEY_MARKER + " "));
    assertEquals("x", routable.getPayloadBytes().toStringUtf8());
  }

  @Test
  void theMarkerIsThePythonContractValue() {
    // common/fraud_common/contract.py: MISSING_KEY_MARKER = "(missing key)"
    assertEquals("(missing key)", TolerantKafkaIngressDeserializer.MISSING_KEY_MARKER);
    assertEquals(
        "(missing key) in/0/9", TolerantKafkaIngressDeserializer.missingKeyId("in", 0, 9));
  }

  @Test
  void aRecordWithoutValueBecomesAnEmptyPayload() {
    AutoRoutable routable = deserialize(record(0, 6, "tm-1".getBytes(StandardCharsets.UTF_8), null));

    assertEquals("tm-1", routable.getId());
    assertTrue(routable.getPayloadBytes().isEmpty());
  }

  @Test
  void aRecordWithNeitherKeyNorValueIsStillRouted() {
    AutoRoutable routable = deserialize(record(1, 7, null, null));

    assertEquals("(missing key) transactions/1/7", routable.getId());
    assertTrue(routable.getPayloadBytes().isEmpty());
  }

  @Test
  void aKeyThatIsNotUtf8IsDecodedWithoutThrowing() {
    byte[] key = {(byte) 0xC3, (byte) 0x28, 'a', (byte) 0xFF};
    AutoRoutable routable = deserialize(record(0, 8, key, new byte[] {1}));

    assertEquals("\uFFFD(a\uFFFD", routable.getId());
  }

  @Test
  void anEmptyKeyStaysAnEmptyId() {
    // As in the built-in ingress; the functions reject the empty id.
    assertEquals("", deserialize(record(0, 9, new byte[0], new byte[] {1})).getId());
  }

  @Test
  void aTopicWithoutRoutingIsAnError() {
    assertThrows(
        IllegalStateException.class,
        () -> deserializer.deserialize(new ConsumerRecord<>("other", 0, 0L, new byte[] {1}, new byte[] {1})));
  }

  @Test
  void anEmptyRoutingIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new TolerantKafkaIngressDeserializer(Map.of()));
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
    assertTrue(value.getValue().isEmpty());
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
