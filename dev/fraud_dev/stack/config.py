"""Where the stack runs and on which ports, from environment variables with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from fraud_common.settings import env_bool, env_str
from fraud_dev.paths import REPO_ROOT
from fraud_dev.ports import PortSet


@dataclass(frozen=True)
class Ports(PortSet):
    kafka: int = 9092
    kafka_controller: int = 9093
    merchant_service: int = 8090
    functions: int = 8000
    flink_rest: int = 8081
    flink_metrics: int = 9249
    # The telemetry stack (fraud_dev.stack.observability) and the simulator's /metrics.
    simulator: int = 8082
    kafka_metrics: int = 9404
    prometheus: int = 9090
    otel_collector: int = 4318
    otel_collector_metrics: int = 8888
    jaeger_otlp: int = 14318
    jaeger_query: int = 16686
    jaeger_query_grpc: int = 16685
    jaeger_metrics: int = 14269
    grafana: int = 3000

    VARIABLES: ClassVar[Mapping[str, str]] = {
        "kafka": "KAFKA_PORT",
        "kafka_controller": "KAFKA_CONTROLLER_PORT",
        "merchant_service": "MERCHANT_SERVICE_PORT",
        "functions": "FUNCTIONS_PORT",
        "flink_rest": "FLINK_REST_PORT",
        "flink_metrics": "PROMETHEUS_PORT",
        "simulator": "SIMULATOR_METRICS_PORT",
        "kafka_metrics": "KAFKA_METRICS_PORT",
        "prometheus": "PROMETHEUS_SERVER_PORT",
        "otel_collector": "OTEL_COLLECTOR_PORT",
        "otel_collector_metrics": "OTEL_COLLECTOR_METRICS_PORT",
        "jaeger_otlp": "JAEGER_OTLP_PORT",
        "jaeger_query": "JAEGER_QUERY_PORT",
        "jaeger_query_grpc": "JAEGER_QUERY_GRPC_PORT",
        "jaeger_metrics": "JAEGER_METRICS_PORT",
        "grafana": "GRAFANA_PORT",
    }


@dataclass(frozen=True)
class StackConfig:
    run_dir: Path
    ports: Ports
    runtime_heap: str = "768m"
    kafka_heap: str = "512m"
    # Extra environment for the Python services (e.g. a short fraud window in tests).
    service_env: dict[str, str] = field(default_factory=dict)
    # Flink or StateFun keys over runtime/conf (the launcher's -Dkey=value), e.g. a benchmark's checkpoint interval.
    runtime_properties: dict[str, str] = field(default_factory=dict)
    # Prometheus, the OpenTelemetry Collector and Jaeger beside the pipeline (fraud_dev.stack.observability):
    # on for `make run`, off for the private stacks of the end-to-end and reliability tests.
    observability: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        return cls(
            run_dir=Path(env_str("STACK_RUN_DIR", str(REPO_ROOT / ".run"), env)).resolve(),
            ports=Ports.from_env(env),
            runtime_heap=env_str("STATEFUN_HEAP", "768m", env),
            kafka_heap=env_str("KAFKA_HEAP", "512m", env),
            observability=env_bool("STACK_OBSERVABILITY", True, env),
        )

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def bootstrap_servers(self) -> str:
        return f"localhost:{self.ports.kafka}"
