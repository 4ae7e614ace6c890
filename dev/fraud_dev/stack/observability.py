"""The local telemetry stack: Prometheus scraping every process, an OpenTelemetry Collector and Jaeger.

Started before the pipeline (so the first spans and scrapes have somewhere to go), all on 127.0.0.1:

- Prometheus (Debian's package, dev/scripts/ensure-observability-tools.sh) scrapes the function server,
  merchant-service, the simulator, the StateFun runtime's reporter (with observability/relabel.yaml as
  its metric relabelling), the collector, Jaeger and itself, and loads observability/alerts.yaml;
- the collector (dev/tools/modules/otelcol) receives OTLP/HTTP from the Python services and sends it to
- Jaeger v2 (dev/tools/modules/jaeger), in memory, with its query API on loopback;
- the Kafka broker with the Prometheus JMX exporter's agent (observability/kafka: the agent from Maven
  Central, the rules in jmx-exporter.yaml), for the broker's side of the Kafka dashboard;
- Grafana only when a Grafana binary is on PATH (Debian does not package it: ADR 0006), with the
  dashboards of observability/dashboards provisioned.

The Python services find the collector through the standard OTEL_* variables (service_env).
Configuration files are written into the run directory from the stack's ports, so a private stack
on free ports (the tests) never meets a `make run`.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import yaml

from fraud_dev.maven import classpath
from fraud_dev.prerequisites import PrerequisiteError
from fraud_dev.process import Service
from fraud_dev.readiness import http_ok
from fraud_dev.stack.config import REPO_ROOT, StackConfig

OBSERVABILITY = REPO_ROOT / "observability"
RELABEL_RULES = OBSERVABILITY / "relabel.yaml"
ALERT_RULES = OBSERVABILITY / "alerts.yaml"
DASHBOARDS = OBSERVABILITY / "dashboards"
KAFKA_AGENT = OBSERVABILITY / "kafka"
TOOLS_BIN = REPO_ROOT / ".cache" / "tools" / "bin"
# Every scrape target carries this label, so the platform's alerts (FraudMetricsTargetDown) select
# its targets only; the chart's PodMonitors add the same.
PLATFORM_LABEL = {"platform": "fraud-platform"}
# Service names of the Python processes, as the tracing contract names them (docs/observability.md).
SERVICE_NAMES = {"functions": "fraud-functions", "merchant-service": "merchant-service", "simulator": "fraud-simulator"}
# Datasource UIDs the dashboards refer to (kube-prometheus-stack's Grafana uses the same Prometheus UID).
PROMETHEUS_UID, JAEGER_UID = "prometheus", "jaeger"
LOOPBACK = "127.0.0.1"


class Launch(NamedTuple):
    """A service of the telemetry stack with its readiness check and how long it may take."""

    service: Service
    ready: Callable[[], bool]
    timeout: float


def scrape_jobs(config: StackConfig, simulator: bool) -> dict[str, int]:
    """Prometheus job name -> metrics port on loopback, for every process of the stack."""
    ports = config.ports
    jobs = {
        "functions": ports.functions,
        "merchant-service": ports.merchant_service,
        "statefun-runtime": ports.flink_metrics,
        "kafka": ports.kafka_metrics,
        "otel-collector": ports.otel_collector_metrics,
        "jaeger": ports.jaeger_metrics,
        "prometheus": ports.prometheus,
    }
    if simulator:
        jobs["simulator"] = ports.simulator
    return jobs


def relabel_rules() -> list[dict]:
    return yaml.safe_load(RELABEL_RULES.read_text(encoding="utf-8"))


def prometheus_config(config: StackConfig, simulator: bool) -> dict:
    """Every process scraped every 5 s (a local stack wants quick feedback), the alert rules loaded."""
    scrapes = []
    for job, port in scrape_jobs(config, simulator).items():
        scrape: dict = {
            "job_name": job,
            "static_configs": [{"targets": [f"{LOOPBACK}:{port}"], "labels": dict(PLATFORM_LABEL)}],
        }
        if job == "statefun-runtime":
            scrape["metric_relabel_configs"] = relabel_rules()
        scrapes.append(scrape)
    return {
        "global": {"scrape_interval": "5s", "scrape_timeout": "4s", "evaluation_interval": "5s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": scrapes,
    }


def collector_config(config: StackConfig) -> dict:
    """OTLP/HTTP in, batched, OTLP/HTTP out to Jaeger; the collector's own metrics for Prometheus."""
    ports = config.ports
    return {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"{LOOPBACK}:{ports.otel_collector}"}}}},
        "processors": {"batch": {"timeout": "1s"}},
        "exporters": {
            "otlphttp/jaeger": {"endpoint": f"http://{LOOPBACK}:{ports.jaeger_otlp}", "tls": {"insecure": True}},
            "debug": {"verbosity": "basic"},
        },
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlphttp/jaeger", "debug"]}
            },
            "telemetry": {
                "metrics": {
                    "readers": [
                        {"pull": {"exporter": {"prometheus": {"host": LOOPBACK, "port": ports.otel_collector_metrics}}}}
                    ]
                }
            },
        },
    }


def jaeger_config(config: StackConfig) -> dict:
    """Jaeger v2: OTLP/HTTP in, memory storage, the query API (and UI) on loopback."""
    ports = config.ports
    return {
        "extensions": {
            "jaeger_storage": {"backends": {"memory": {"memory": {"max_traces": 100000}}}},
            "jaeger_query": {
                "storage": {"traces": "memory"},
                "http": {"endpoint": f"{LOOPBACK}:{ports.jaeger_query}"},
                "grpc": {"endpoint": f"{LOOPBACK}:{ports.jaeger_query_grpc}"},
            },
        },
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"{LOOPBACK}:{ports.jaeger_otlp}"}}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "memory"}},
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["jaeger_storage_exporter"]}
            },
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {
                    "readers": [
                        {"pull": {"exporter": {"prometheus": {"host": LOOPBACK, "port": ports.jaeger_metrics}}}}
                    ]
                },
            },
        },
    }


def service_env(config: StackConfig, name: str) -> dict[str, str]:
    """The OTEL_* variables of one Python service, plus the simulator's metrics port."""
    if not config.observability or name not in SERVICE_NAMES:
        return {}
    env = {
        "OTEL_SERVICE_NAME": SERVICE_NAMES[name],
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{LOOPBACK}:{config.ports.otel_collector}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # Export within a second rather than five, so a trace is complete soon after its alert.
        "OTEL_BSP_SCHEDULE_DELAY": "1000",
    }
    if name == "simulator":
        env["SIMULATOR_HEALTH_PORT"] = str(config.ports.simulator)
    return env


def instrument_broker(config: StackConfig, broker: Service) -> Service:
    """The broker with the JMX exporter's agent serving its metrics on loopback (unchanged when observability is
    off)."""
    if not config.observability:
        return broker
    agent = classpath(KAFKA_AGENT, KAFKA_AGENT / "target" / "classpath.txt", config.logs / "maven.log")
    option = f"-javaagent:{agent}={LOOPBACK}:{config.ports.kafka_metrics}:{KAFKA_AGENT / 'jmx-exporter.yaml'}"
    return dataclasses.replace(broker, argv=[broker.argv[0], option, *broker.argv[1:]])


def grafana_executable() -> str | None:
    """Grafana when installed (it is not a Debian package, and its Go module is AGPL: ADR 0006)."""
    return shutil.which("grafana") or shutil.which("grafana-server")


def grafana_provisioning(config: StackConfig, directory: Path) -> None:
    """Datasources with the dashboards' fixed UIDs and a provider for observability/dashboards."""
    ports = config.ports
    datasources = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": PROMETHEUS_UID,
                "access": "proxy",
                "isDefault": True,
                "url": f"http://{LOOPBACK}:{ports.prometheus}",
            },
            {
                "name": "Jaeger",
                "type": "jaeger",
                "uid": JAEGER_UID,
                "access": "proxy",
                "url": f"http://{LOOPBACK}:{ports.jaeger_query}",
            },
        ],
    }
    dashboards = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "fraud-platform",
                "folder": "Fraud platform",
                "type": "file",
                "disableDeletion": True,
                "options": {"path": str(DASHBOARDS)},
            }
        ],
    }
    for kind, content in (("datasources", datasources), ("dashboards", dashboards)):
        (directory / kind).mkdir(parents=True, exist_ok=True)
        (directory / kind / "fraud-platform.yaml").write_text(
            yaml.safe_dump(content, sort_keys=False), encoding="utf-8"
        )


def _binary(name: str, how: str) -> str:
    path = TOOLS_BIN / name if (TOOLS_BIN / name).exists() else shutil.which(name)
    if not path:
        raise PrerequisiteError(f"{name} not found: {how}")
    return str(path)


def _write(path: Path, content: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def launches(config: StackConfig, simulator: bool) -> list[Launch]:
    """The telemetry services in start order: Jaeger, the collector that sends to it, Prometheus, Grafana."""
    conf, logs, ports = config.run_dir / "observability", config.logs, config.ports
    jaeger = _binary("jaeger", "run `make tools-observability` (builds it from the Go module proxy)")
    collector = _binary("otelcol", "run `make tools-observability` (builds it from the Go module proxy)")
    prometheus = _binary("prometheus", "run dev/scripts/ensure-observability-tools.sh (Debian's prometheus package)")
    out = [
        Launch(
            Service(
                "jaeger",
                [jaeger, "--config", f"file:{_write(conf / 'jaeger.yaml', jaeger_config(config))}"],
                logs / "jaeger.log",
                stop_timeout=15,
            ),
            lambda: http_ok(f"http://{LOOPBACK}:{ports.jaeger_query}/api/services"),
            60,
        ),
        Launch(
            Service(
                "otel-collector",
                [collector, "--config", f"file:{_write(conf / 'otel-collector.yaml', collector_config(config))}"],
                logs / "otel-collector.log",
                stop_timeout=15,
            ),
            lambda: http_ok(f"http://{LOOPBACK}:{ports.otel_collector_metrics}/metrics"),
            60,
        ),
        Launch(
            Service(
                "prometheus",
                [
                    prometheus,
                    f"--config.file={_write(conf / 'prometheus.yaml', prometheus_config(config, simulator))}",
                    f"--storage.tsdb.path={config.run_dir / 'prometheus'}",
                    "--storage.tsdb.retention.time=2d",
                    f"--web.listen-address={LOOPBACK}:{ports.prometheus}",
                ],
                logs / "prometheus.log",
                stop_timeout=15,
            ),
            lambda: http_ok(f"http://{LOOPBACK}:{ports.prometheus}/-/ready"),
            60,
        ),
    ]
    grafana = grafana_executable()
    if grafana:
        grafana_provisioning(config, conf / "grafana" / "provisioning")
        env = {
            "GF_SERVER_HTTP_ADDR": LOOPBACK,
            "GF_SERVER_HTTP_PORT": str(ports.grafana),
            "GF_PATHS_PROVISIONING": str(conf / "grafana" / "provisioning"),
            "GF_PATHS_DATA": str(config.run_dir / "grafana"),
            "GF_AUTH_ANONYMOUS_ENABLED": "true",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
            "GF_NEWS_NEWS_FEED_ENABLED": "false",
        }
        argv = [grafana, "server"] if Path(grafana).name == "grafana" else [grafana]
        out.append(
            Launch(
                Service("grafana", argv, logs / "grafana.log", env=env, stop_timeout=15),
                lambda: http_ok(f"http://{LOOPBACK}:{ports.grafana}/api/health"),
                90,
            )
        )
    return out


def summary(config: StackConfig) -> str:
    """Where to look, for the line `make run` prints once everything is up."""
    ports = config.ports
    grafana = f", Grafana http://localhost:{ports.grafana}" if grafana_executable() else ""
    return (
        f"Prometheus http://localhost:{ports.prometheus} (alerts: /alerts), "
        f"Jaeger http://localhost:{ports.jaeger_query}{grafana}"
    )
