package io.fraudplatform.runtime.ingress;

import java.util.Map;
import org.apache.flink.statefun.extensions.ExtensionModule;

/**
 * Registers the {@code io.fraudplatform.kafka.v1/ingress} module component: a Kafka ingress with
 * the same spec and routing as StateFun's {@code io.statefun.kafka.v1/ingress} that lets records
 * without a key or without a value through to the functions instead of failing the job.
 *
 * <p>Found by {@link java.util.ServiceLoader} through {@code
 * META-INF/services/org.apache.flink.statefun.extensions.ExtensionModule}; StateFun configures
 * extension modules before it reads the module.yaml components that use them.
 */
public final class TolerantKafkaIngressModule implements ExtensionModule {

  @Override
  public void configure(Map<String, String> globalConfiguration, Binder universeBinder) {
    universeBinder.bindExtension(TolerantKafkaIngressBinder.KIND, TolerantKafkaIngressBinder.INSTANCE);
  }
}
