"""One source for each observability artefact, and every copy of it says the same.

observability/relabel.yaml -> the local Prometheus (metric_relabel_configs) and the chart's PodMonitor
(files/metric-relabelings.yaml, camelCase); observability/alerts.yaml -> the local Prometheus and the
chart's PrometheusRule (files/alerts.yaml); observability/dashboards.py -> observability/dashboards/*.json
-> the chart's ConfigMaps (files/dashboards/) and the local Grafana's provider. Rendered through helm
where the chart is involved, so a template that drops or changes a rule fails too. That the generated
files themselves (the JSON, the chart's copies) are up to date is `make generate`'s check
(tests/unit/generate/test_generated.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from fraud_dev.stack.config import REPO_ROOT, Ports, StackConfig
from fraud_dev.stack.observability import (
    ALERT_RULES,
    DASHBOARDS,
    KAFKA_AGENT,
    PROMETHEUS_UID,
    grafana_provisioning,
    launches,
    prometheus_config,
    relabel_rules,
)
from tests.observability.signals import metric_names
from tests.support.required_tools import missing_tool

CHART = REPO_ROOT / "charts" / "fraud-platform"
HELM = REPO_ROOT / ".cache" / "tools" / "bin" / "helm"
SNAKE_CASE = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
KAFKA_RULES = KAFKA_AGENT / "jmx-exporter.yaml"


def test_every_panel_queries_prometheus_through_the_datasource_variable_whose_default_is_the_local_uid():
    variable = {"type": "prometheus", "uid": "${datasource}"}
    for path in DASHBOARDS.glob("*.json"):
        board = json.loads(path.read_text(encoding="utf-8"))
        (picker,) = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
        assert (picker["name"], picker["query"], picker["current"]["value"]) == (
            "datasource",
            "prometheus",
            PROMETHEUS_UID,
        )
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == variable, (path.name, panel["title"])
            assert panel["targets"] and all(t["datasource"] == variable for t in panel["targets"])
            assert panel["description"], (path.name, panel["title"])


def test_the_local_prometheus_uses_the_relabel_rules_and_alerts_as_they_are(tmp_path):
    config = StackConfig(run_dir=tmp_path, ports=Ports(), observability=True)
    prometheus = prometheus_config(config, simulator=True)
    runtime = next(job for job in prometheus["scrape_configs"] if job["job_name"] == "statefun-runtime")
    assert runtime["metric_relabel_configs"] == yaml.safe_load(
        (REPO_ROOT / "observability" / "relabel.yaml").read_text()
    )
    assert prometheus["rule_files"] == [str(ALERT_RULES)]


def test_the_local_grafana_is_provisioned_with_the_dashboards_and_fixed_datasource_uids(tmp_path):
    grafana_provisioning(StackConfig(run_dir=tmp_path, ports=Ports(), observability=True), tmp_path)
    sources = yaml.safe_load((tmp_path / "datasources" / "fraud-platform.yaml").read_text())["datasources"]
    assert {source["uid"] for source in sources} == {PROMETHEUS_UID, "jaeger"}
    provider = yaml.safe_load((tmp_path / "dashboards" / "fraud-platform.yaml").read_text())["providers"][0]
    assert provider["options"]["path"] == str(DASHBOARDS)


def test_the_chart_files_are_the_sources_copied():
    assert (CHART / "files" / "alerts.yaml").read_bytes() == ALERT_RULES.read_bytes()
    assert (CHART / "files" / "kafka-jmx-exporter.yaml").read_bytes() == KAFKA_RULES.read_bytes()
    for board in DASHBOARDS.glob("*.json"):
        assert (CHART / "files" / "dashboards" / board.name).read_bytes() == board.read_bytes(), board.name
    copied = yaml.safe_load((CHART / "files" / "metric-relabelings.yaml").read_text())
    assert [{SNAKE_CASE.get(key, key): value for key, value in rule.items()} for rule in copied] == relabel_rules()


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    if not HELM.exists():
        missing_tool("helm", "make tools")
    done = subprocess.run(
        [
            str(HELM),
            "template",
            "fraud",
            str(CHART),
            "--namespace",
            "fraud",
            "--kube-version",
            "1.34.0",
            "--set",
            "monitoring.enabled=true,tracing.enabled=true",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_the_charts_podmonitor_relabels_like_the_local_prometheus(rendered):
    monitor = next(
        d for d in rendered if d["kind"] == "PodMonitor" and d["metadata"]["name"] == "fraud-statefun-runtime"
    )
    rules = monitor["spec"]["podMetricsEndpoints"][0]["metricRelabelings"]
    assert [{SNAKE_CASE.get(key, key): value for key, value in rule.items()} for rule in rules] == relabel_rules()


def test_the_charts_prometheusrule_carries_the_alerts_unchanged(rendered):
    rule = next(d for d in rendered if d["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(ALERT_RULES.read_text())["groups"]


def test_the_charts_dashboard_configmaps_are_the_dashboards(rendered):
    maps = {
        d["metadata"]["name"]: d
        for d in rendered
        if d["kind"] == "ConfigMap" and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    }
    assert sorted(maps) == sorted(f"fraud-dashboard-{path.stem}" for path in DASHBOARDS.glob("*.json"))
    for path in DASHBOARDS.glob("*.json"):
        data = maps[f"fraud-dashboard-{path.stem}"]["data"]
        assert json.loads(data[path.name]) == json.loads(path.read_text(encoding="utf-8"))


def test_the_strimzi_brokers_export_with_the_local_brokers_rules(rendered):
    kafka = next(d for d in rendered if d["kind"] == "Kafka")
    reference = kafka["spec"]["kafka"]["metricsConfig"]["valueFrom"]["configMapKeyRef"]
    rules = next(d for d in rendered if d["kind"] == "ConfigMap" and d["metadata"]["name"] == reference["name"])
    assert yaml.safe_load(rules["data"][reference["key"]]) == yaml.safe_load(KAFKA_RULES.read_text())


@pytest.mark.parametrize(
    "expr, names",
    [
        ('sum by (outcome) (rate(fraud_decisions_total{outcome=~"alert|no_alert"}[5m]))', {"fraud_decisions_total"}),
        ("histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket[$__rate_interval])))", {"a_seconds_bucket"}),
        ("sum(x) < 1 or absent(y) and on() sum(z) > 1e3", {"x", "y", "z"}),
        ('max by (function) (s{function=~"$function",quantile="0.95"}) / 1000', {"s"}),
        ("increase(a[10m]) > 0 unless ignoring(job) b offset 5m", {"a", "b"}),
    ],
)
def test_metric_names_are_read_from_promql(expr, names):
    assert metric_names(expr) == names


def test_an_installed_grafana_is_started_on_loopback_with_the_provisioning_and_nothing_phoning_home(
    tmp_path, monkeypatch
):
    """Grafana cannot be installed here (ADR 0006): a stand-in `grafana` on PATH shows how the stack would start one."""
    binary = tmp_path / "bin" / "grafana"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{binary.parent}:{os.environ['PATH']}")
    config = StackConfig(run_dir=tmp_path / "run", ports=Ports(), observability=True)

    grafana = next(launch.service for launch in launches(config, simulator=False) if launch.service.name == "grafana")

    assert list(grafana.argv) == [str(binary), "server"]
    env = grafana.env
    assert (env["GF_SERVER_HTTP_ADDR"], env["GF_SERVER_HTTP_PORT"]) == ("127.0.0.1", str(config.ports.grafana))
    assert all(
        env[key] == "false"
        for key in (
            "GF_ANALYTICS_REPORTING_ENABLED",
            "GF_ANALYTICS_CHECK_FOR_UPDATES",
            "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
        )
    )
    provisioning = Path(env["GF_PATHS_PROVISIONING"])
    assert (provisioning / "datasources" / "fraud-platform.yaml").exists()
    assert (provisioning / "dashboards" / "fraud-platform.yaml").exists()
