package io.fraudplatform.runtime.ingress;

import org.apache.flink.statefun.extensions.ComponentBinder;
import org.apache.flink.statefun.extensions.ComponentJsonObject;
import org.apache.flink.statefun.flink.io.common.AutoRoutableProtobufRouter;
import org.apache.flink.statefun.sdk.TypeName;
import org.apache.flink.statefun.sdk.spi.StatefulFunctionModule;

/**
 * Binds a module.yaml document of kind {@code io.fraudplatform.kafka.v1/ingress}: parses its spec
 * ({@link TolerantKafkaIngressSpec}, the shape of {@code io.statefun.kafka.v1/ingress}), binds the
 * Kafka ingress with a {@link TolerantKafkaIngressDeserializer} and the auto-routing router, so
 * each record reaches its target functions as a {@code TypedValue} of the topic's {@code
 * valueType}, addressed by the record key.
 */
public final class TolerantKafkaIngressBinder implements ComponentBinder {

  /** The {@code kind:} of the module.yaml documents this binder handles. */
  public static final String KIND_NAME = "io.fraudplatform.kafka.v1/ingress";

  /** {@link #KIND_NAME} as a {@link TypeName}. */
  public static final TypeName KIND = TypeName.parseFrom(KIND_NAME);

  static final TolerantKafkaIngressBinder INSTANCE = new TolerantKafkaIngressBinder();

  private TolerantKafkaIngressBinder() {}

  @Override
  public void bind(ComponentJsonObject component, StatefulFunctionModule.Binder moduleBinder) {
    if (!KIND.equals(component.binderTypename())) {
      throw new IllegalStateException(
          "The "
              + KIND_NAME
              + " binder was handed a component of kind "
              + component.binderTypename().canonicalTypenameString());
    }
    TolerantKafkaIngressSpec spec = TolerantKafkaIngressSpec.fromJson(component.specJsonNode());
    moduleBinder.bindIngress(spec.toKafkaIngressSpec());
    moduleBinder.bindIngressRouter(spec.id(), new AutoRoutableProtobufRouter());
  }
}
