package io.fraudplatform.runtime.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.statefun.extensions.ComponentJsonObject;
import org.apache.flink.statefun.extensions.ExtensionModule;
import org.apache.flink.statefun.flink.io.common.AutoRoutableProtobufRouter;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.FunctionTypeNamespaceMatcher;
import org.apache.flink.statefun.sdk.StatefulFunctionProvider;
import org.apache.flink.statefun.sdk.TypeName;
import org.apache.flink.statefun.sdk.io.EgressSpec;
import org.apache.flink.statefun.sdk.io.IngressIdentifier;
import org.apache.flink.statefun.sdk.io.IngressSpec;
import org.apache.flink.statefun.sdk.io.Router;
import org.apache.flink.statefun.sdk.kafka.KafkaIngressSpec;
import org.apache.flink.statefun.sdk.spi.StatefulFunctionModule;
import org.junit.jupiter.api.Test;

class TolerantKafkaIngressModuleTest {

  /** The module spec's placeholder for the Kafka clients' security properties. */
  private static final String CLIENT_PROPERTIES = "KAFKA_CLIENT_PROPERTIES";

  @Test
  void theServiceFileRegistersTheModuleWhichBindsTheKind() {
    List<ExtensionModule> ours = new ArrayList<>();
    for (ExtensionModule module : ServiceLoader.load(ExtensionModule.class)) {
      if (module instanceof TolerantKafkaIngressModule) {
        ours.add(module);
      }
    }
    assertEquals(1, ours.size(), "META-INF/services must list TolerantKafkaIngressModule once");

    Map<TypeName, Object> bound = new HashMap<>();
    ours.get(0)
        .configure(
            Map.of(),
            new ExtensionModule.Binder() {
              @Override
              public <T> void bindExtension(TypeName typeName, T extension) {
                bound.put(typeName, extension);
              }
            });
    assertEquals(TypeName.parseFrom("io.fraudplatform.kafka.v1/ingress"), TolerantKafkaIngressBinder.KIND);
    assertSame(TolerantKafkaIngressBinder.INSTANCE, bound.get(TolerantKafkaIngressBinder.KIND));
  }

  @Test
  void theBinderBindsTheIngressAndTheAutoRoutingRouter() {
    RecordingBinder binder = new RecordingBinder();
    TolerantKafkaIngressBinder.INSTANCE.bind(
        component("io.fraudplatform.kafka.v1/ingress"), binder);

    assertEquals(1, binder.ingresses.size());
    KafkaIngressSpec<?> ingress = assertInstanceOf(KafkaIngressSpec.class, binder.ingresses.get(0));
    assertInstanceOf(TolerantKafkaIngressDeserializer.class, ingress.deserializer());
    assertEquals(new IngressIdentifier<>(com.google.protobuf.Message.class, "fraud", "transactions"), ingress.id());
    assertEquals(1, binder.routers.size());
    assertEquals(ingress.id(), binder.routers.get(0)[0]);
    assertInstanceOf(AutoRoutableProtobufRouter.class, binder.routers.get(0)[1]);
  }

  @Test
  void theBinderRefusesAnotherKind() {
    assertThrows(
        IllegalStateException.class,
        () -> TolerantKafkaIngressBinder.INSTANCE.bind(
            component("io.statefun.kafka.v1/ingress"), new RecordingBinder()));
  }

  @Test
  void theModuleTemplateUsesTheTolerantKindForEveryIngress() throws Exception {
    Path template = Paths.get("../conf/module.yaml.tmpl"); // surefire runs in runtime/extension/
    // The client properties placeholder stands for flow-sequence entries (fraud_dev.module_spec fills it
    // before the runtime reads the spec); the other placeholders parse as plain strings.
    String spec =
        Files.readString(template)
            .replace("${" + CLIENT_PROPERTIES + "}", "{security.protocol: SASL_SSL}");
    List<JsonNode> ingresses =
        Yaml.documents(spec).stream()
            .filter(d -> d.path("kind").asText().endsWith("/ingress"))
            .collect(Collectors.toList());
    assertTrue(ingresses.size() >= 2, "module.yaml.tmpl should declare the Kafka ingresses");
    for (JsonNode doc : ingresses) {
      assertEquals(TolerantKafkaIngressBinder.KIND_NAME, doc.path("kind").asText(), doc.toString());
      TolerantKafkaIngressSpec parsed = TolerantKafkaIngressSpec.fromJson(doc.get("spec"));
      assertEquals("SASL_SSL", parsed.properties().getProperty("security.protocol"), doc.toString());
      parsed.toKafkaIngressSpec();
    }
  }

  private static ComponentJsonObject component(String kind) {
    return new ComponentJsonObject(
        Yaml.parse(
            "kind: " + kind,
            "spec:",
            "  id: fraud/transactions",
            "  address: localhost:9092",
            "  consumerGroupId: fraud",
            "  topics:",
            "    - topic: transactions",
            "      valueType: fraud/Transaction",
            "      targets: [fraud/transaction-manager]"));
  }

  static final class RecordingBinder implements StatefulFunctionModule.Binder {
    final List<IngressSpec<?>> ingresses = new ArrayList<>();
    final List<Object[]> routers = new ArrayList<>();

    @Override
    public <T> void bindIngress(IngressSpec<T> spec) {
      ingresses.add(spec);
    }

    @Override
    public <T> void bindIngressRouter(IngressIdentifier<T> id, Router<T> router) {
      routers.add(new Object[] {id, router});
    }

    @Override
    public <T> void bindEgress(EgressSpec<T> spec) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void bindFunctionProvider(FunctionType type, StatefulFunctionProvider provider) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void bindFunctionProvider(
        FunctionTypeNamespaceMatcher matcher, StatefulFunctionProvider provider) {
      throw new UnsupportedOperationException();
    }
  }
}
