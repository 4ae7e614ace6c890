"""Where the stack runs and on which ports, from environment variables with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from fraud_common.settings import read_settings, setting
from fraud_dev.paths import REPO_ROOT
from fraud_dev.ports import PortSet, port


@dataclass(frozen=True)
class Ports(PortSet):
    kafka: int = port("KAFKA_PORT", 9092, "the Kafka broker")
    kafka_controller: int = port("KAFKA_CONTROLLER_PORT", 9093, "the broker's KRaft controller")
    merchant_service: int = port("MERCHANT_SERVICE_PORT", 8090, "merchant-service")
    functions: int = port("FUNCTIONS_PORT", 8000, "the function server")
    flink_rest: int = port("FLINK_REST_PORT", 8081, "Flink's web UI and REST API")
    flink_metrics: int = port("PROMETHEUS_PORT", 9249, "the runtime's Prometheus reporter")
    # The telemetry stack (fraud_dev.stack.observability) and the simulator's /metrics.
    simulator: int = port(
        "SIMULATOR_METRICS_PORT", 8082, "the simulator's `/metrics` (the stack sets its SIMULATOR_HEALTH_PORT)"
    )
    kafka_metrics: int = port("KAFKA_METRICS_PORT", 9404, "the broker's metrics (the JMX exporter's agent)")
    prometheus: int = port("PROMETHEUS_SERVER_PORT", 9090, "the local Prometheus")
    otel_collector: int = port("OTEL_COLLECTOR_PORT", 4318, "the OpenTelemetry Collector's OTLP/HTTP receiver")
    otel_collector_metrics: int = port("OTEL_COLLECTOR_METRICS_PORT", 8888, "the collector's own metrics")
    jaeger_otlp: int = port("JAEGER_OTLP_PORT", 14318, "Jaeger's OTLP/HTTP receiver (the collector sends there)")
    jaeger_query: int = port("JAEGER_QUERY_PORT", 16686, "Jaeger's query API and UI (HTTP)")
    jaeger_query_grpc: int = port("JAEGER_QUERY_GRPC_PORT", 16685, "Jaeger's query API (gRPC)")
    jaeger_metrics: int = port("JAEGER_METRICS_PORT", 14269, "Jaeger's own metrics")
    grafana: int = port("GRAFANA_PORT", 3000, "Grafana, started only when a `grafana` binary is on PATH")


@dataclass(frozen=True)
class StackConfig:
    run_dir: Path = setting(
        "STACK_RUN_DIR",
        REPO_ROOT / ".run",
        "logs, Kafka data, checkpoints, the rendered module spec, Prometheus data",
        shown_default="`.run` in the repository",
    )
    ports: Ports = field(default_factory=Ports)
    runtime_heap: str = setting("STATEFUN_HEAP", "768m", "the StateFun runtime's JVM heap")
    kafka_heap: str = setting("KAFKA_HEAP", "512m", "the Kafka broker's JVM heap")
    # Extra environment for the Python services (e.g. a short fraud window in tests).
    service_env: dict[str, str] = field(default_factory=dict)
    # Flink or StateFun keys over runtime/conf (the launcher's -Dkey=value), e.g. a benchmark's checkpoint interval.
    runtime_properties: dict[str, str] = field(default_factory=dict)
    # Prometheus, the OpenTelemetry Collector and Jaeger beside the pipeline (fraud_dev.stack.observability):
    # on for `make run` (the variable's default), off for the private stacks of the end-to-end and reliability tests.
    observability: bool = setting(
        "STACK_OBSERVABILITY",
        True,
        "start Prometheus, the OpenTelemetry Collector and Jaeger beside the pipeline (docs/observability.md)",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        config = read_settings(cls, env)
        return replace(config, run_dir=config.run_dir.resolve(), ports=Ports.from_env(env))

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def bootstrap_servers(self) -> str:
        return f"localhost:{self.ports.kafka}"
