"""The conventions platform teams expect (issue 16): labels, names two releases can share a namespace with, the
dashboards' datasource variable, the alerts loaded wherever the pods are scraped, the brokers scraped wherever
monitoring is on. Each check on every ci/ render (and the overlays, skaffold's monitoring path), then on a break."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.deploy import conventions
from tests.deploy.kubeconform import validate
from tests.deploy.skaffold_config import render as skaffold_render
from tests.deploy.tools import CHART, CI_VALUES, KUSTOMIZE, documents, helm_template, run, tool

DEFAULT = next(path for path in CI_VALUES if path.name == "default-values.yaml")
CHART_LABEL = "fraud-platform-{version}".format(**yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8")))
OVERLAYS = sorted(p for p in (KUSTOMIZE / "overlays").iterdir() if (p / "kustomization.yaml").exists())
BOARDS = sorted((CHART / "files" / "dashboards").glob("*.json"))


def overlay(path) -> list[dict]:
    built = run([tool("kustomize"), "build", str(path)])
    assert built.returncode == 0, built.output
    return documents(built.stdout)


def test_every_ci_render_labels_its_objects(renders, ci_values):
    assert conventions.check_labels(renders(ci_values), CHART_LABEL) == []


def test_kustomize_says_what_manages_its_objects():
    generated = [KUSTOMIZE / "base" / "fraud-platform.yaml", KUSTOMIZE / "kafka" / "strimzi.yaml"]
    generated += sorted((KUSTOMIZE / "components").glob("*/resources.yaml"))
    docs = [doc for path in generated for doc in documents(path.read_text(encoding="utf-8"))]
    assert conventions.check_labels(docs, CHART_LABEL, managed_by="kustomize") == []


def test_a_missing_or_misplaced_label_is_caught(renders):
    docs = copy.deepcopy(renders(DEFAULT))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    del deployment["metadata"]["labels"]["helm.sh/chart"]
    deployment["spec"]["template"]["metadata"]["labels"]["helm.sh/chart"] = CHART_LABEL
    next(d for d in docs if d["kind"] == "Kafka")["metadata"]["labels"]["helm.sh/chart"] = CHART_LABEL
    problems = conventions.check_labels(docs, CHART_LABEL)
    name = deployment["metadata"]["name"]
    assert f"Deployment/{name}: helm.sh/chart is None, not '{CHART_LABEL}'" in problems
    assert f"Deployment/{name}: the pod template carries helm.sh/chart (a chart upgrade would roll it)" in problems
    assert "Kafka/fraud-kafka: helm.sh/chart would be copied onto the brokers' pods" in problems


@pytest.fixture(scope="module")
def two_releases() -> dict[str, list[dict]]:
    """Releases `fraud` and `payments` of the default values, rendered for one namespace."""
    releases = {}
    for release in ("fraud", "payments"):
        result = helm_template(release=release, namespace="shared")
        assert result.returncode == 0, result.output
        releases[release] = documents(result.stdout)
    return releases


def test_two_releases_render_into_one_namespace_without_a_shared_name(two_releases):
    assert conventions.check_unique_names([d for docs in two_releases.values() for d in docs]) == []


def test_two_releases_in_one_namespace_validate_together(two_releases):
    result = validate(yaml.safe_dump_all([d for docs in two_releases.values() for d in docs]))
    assert result.returncode == 0, result.output
    assert "Invalid: 0, Errors: 0" in result.stdout


def test_no_selector_of_one_release_selects_the_others_pods(two_releases):
    assert conventions.check_releases_apart(two_releases) == []


def test_names_or_selectors_shared_by_two_releases_are_caught(two_releases):
    """0.1.0's fixed names come back; a Service loses its release label."""
    broken = copy.deepcopy(two_releases)
    for docs in broken.values():
        for doc in docs:
            if doc["kind"] == "KafkaNodePool":
                doc["metadata"]["name"] = "dual-role"
    service = next(d for d in broken["payments"] if d["kind"] == "Service")
    del service["spec"]["selector"]["app.kubernetes.io/instance"]
    assert conventions.check_unique_names([d for docs in broken.values() for d in docs]) == [
        "KafkaNodePool/dual-role is rendered 2 times"
    ]
    assert any(
        p.startswith(f"payments: Service/{service['metadata']['name']} selects fraud's")
        for p in conventions.check_releases_apart(broken)
    )


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.name)
def test_every_dashboard_query_goes_through_the_datasource_variable(board):
    assert conventions.check_dashboard(json.loads(board.read_text(encoding="utf-8")), board.name) == []


def test_a_query_with_a_fixed_datasource_is_caught():
    board = json.loads(BOARDS[0].read_text(encoding="utf-8"))
    panel = next(p for p in board["panels"] if p["type"] != "row")
    panel["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    board["templating"]["list"] = [v for v in board["templating"]["list"] if v["type"] != "datasource"]
    problems = conventions.check_dashboard(board, "board")
    assert "board: no datasource variable `datasource` of type prometheus" in problems
    assert any(p.startswith(f"board / {panel['title']}: query A uses") for p in problems)


def test_the_rendered_dashboards_are_the_files(renders):
    """The ConfigMaps Grafana's sidecar reads carry the checked files unchanged."""
    docs = renders(next(path for path in CI_VALUES if path.name == "observability-values.yaml"))
    boards = {k: v for d in docs if d["kind"] == "ConfigMap" for k, v in d["data"].items() if k.endswith(".json")}
    assert boards == {path.name: path.read_text(encoding="utf-8").rstrip("\n") for path in BOARDS}


def monitoring_renders(renders) -> dict[str, list[dict]]:
    """Every render with PodMonitors: the ci/ files with monitoring on, the overlays, and skaffold's monitoring path."""
    found = {path.name: renders(path) for path in CI_VALUES if any(d["kind"] == "PodMonitor" for d in renders(path))}
    found.update({f"overlay {path.name}": overlay(path) for path in OVERLAYS})
    rendered = skaffold_render("kind", "monitoring")
    assert rendered.returncode == 0, rendered.output
    found["skaffold -p kind,monitoring"] = documents(rendered.stdout)
    return {name: docs for name, docs in found.items() if any(d["kind"] == "PodMonitor" for d in docs)}


def test_wherever_pods_are_scraped_the_alerts_are_loaded_and_the_brokers_scraped(renders):
    found = monitoring_renders(renders)
    assert {"overlay prod", "skaffold -p kind,monitoring", "observability-values.yaml"} <= set(found)
    for name, docs in found.items():
        assert conventions.check_rules_selected_like_monitors(docs) == [], name
        assert conventions.check_kafka_scraped(docs) == [], name


def test_a_rule_the_prometheus_would_not_load_is_caught():
    """The prod overlay as 0.1.0 had it: only the PodMonitors labelled for kube-prometheus-stack."""
    docs = overlay(KUSTOMIZE / "overlays" / "prod")
    for rule in (d for d in docs if d["kind"] == "PrometheusRule"):
        del rule["metadata"]["labels"]["release"]
    assert conventions.check_rules_selected_like_monitors(docs) == [
        "PrometheusRule/fraud-alerts lacks release=kube-prometheus-stack, which every PodMonitor has"
    ]


def test_brokers_left_unscraped_are_caught():
    """0.1.0's overlays and skaffold path: monitoring on, the brokers without an exporter or a PodMonitor."""
    docs = overlay(KUSTOMIZE / "overlays" / "prod")
    kafka = next(d for d in docs if d["kind"] == "Kafka")
    del kafka["spec"]["kafka"]["metricsConfig"]
    without_monitor = [d for d in docs if not (d["kind"] == "PodMonitor" and d["metadata"]["name"] == "fraud-kafka")]
    assert conventions.check_kafka_scraped(without_monitor) == [
        "Kafka/fraud-kafka has no metricsConfig",
        "no PodMonitor scrapes Kafka/fraud-kafka's brokers on tcp-prometheus",
    ]
