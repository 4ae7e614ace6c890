"""Checks of the conventions platform teams expect of a chart, over rendered manifests (issue 16).

Like wiring.py, each check takes parsed documents and returns a list of problems, empty when the convention
holds; the tests run each on real renders and on deliberately broken copies, so a check that cannot fail is caught.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from tests.deploy.wiring import Doc, Problems, of_kind, pod_templates, selects

CHART_LABEL = "helm.sh/chart"
MANAGED_BY = "app.kubernetes.io/managed-by"
# Strimzi copies these custom resources' labels onto the brokers' pods (all but app.kubernetes.io/* other than
# part-of): a chart version in them would roll the brokers on every chart upgrade.
LABELS_COPIED_TO_PODS = {("kafka.strimzi.io/v1", "Kafka"), ("kafka.strimzi.io/v1", "KafkaNodePool")}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def owner(doc: Doc) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def check_labels(docs: Iterable[Doc], chart: str, managed_by: str = "Helm") -> Problems:
    """Every object says which chart made it and what manages it; no pod template carries the chart's version."""
    docs = list(docs)
    problems = []
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        if labels.get(MANAGED_BY) != managed_by:
            problems.append(f"{owner(doc)}: {MANAGED_BY} is {labels.get(MANAGED_BY)!r}, not {managed_by!r}")
        copied = (doc["apiVersion"], doc["kind"]) in LABELS_COPIED_TO_PODS
        if copied and CHART_LABEL in labels:
            problems.append(f"{owner(doc)}: {CHART_LABEL} would be copied onto the brokers' pods")
        elif not copied and labels.get(CHART_LABEL) != chart:
            problems.append(f"{owner(doc)}: {CHART_LABEL} is {labels.get(CHART_LABEL)!r}, not {chart!r}")
    for name, template in pod_templates(docs):
        # A bare Pod (the helm test's) is an object of its own, made anew each run: its labels are an object's.
        if not name.startswith("Pod/") and CHART_LABEL in template.get("metadata", {}).get("labels", {}):
            problems.append(f"{name}: the pod template carries {CHART_LABEL} (a chart upgrade would roll it)")
    return problems


def check_unique_names(docs: Iterable[Doc]) -> Problems:
    """No two objects of one namespace share kind and name (a second release's install would fail on it)."""
    counts = Counter((doc["apiVersion"].split("/")[0], doc["kind"], doc["metadata"]["name"]) for doc in docs)
    return [f"{kind}/{name} is rendered {n} times" for (_, kind, name), n in counts.items() if n > 1]


def _selectors(doc: Doc) -> list[Mapping[str, str]]:
    """The pod selectors of a Service, PodDisruptionBudget, workload or PodMonitor (matchLabels only)."""
    spec = doc.get("spec", {})
    if doc["kind"] == "Service":
        return [spec.get("selector", {})]
    selector = spec.get("selector", {})
    return [selector.get("matchLabels", {})] if "matchLabels" in selector else []


def check_releases_apart(releases: Mapping[str, list[Doc]]) -> Problems:
    """No selector of one release selects the pods of another (Services, PDBs, Deployments, PodMonitors)."""
    problems = []
    for name, docs in releases.items():
        for other, other_docs in releases.items():
            if other == name:
                continue
            pods = pod_templates(other_docs)
            for doc in docs:
                for selector in _selectors(doc):
                    for template_owner, template in pods:
                        if selects(selector, template.get("metadata", {}).get("labels", {})):
                            problems.append(f"{name}: {owner(doc)} selects {other}'s {template_owner}")
    return problems


def check_dashboard(board: Mapping[str, Any], name: str) -> Problems:
    """A dashboard picks its Prometheus with a `datasource` variable, and every query goes through it."""
    problems = []
    variables = board.get("templating", {}).get("list", [])
    pickers = [v for v in variables if v.get("type") == "datasource" and v.get("name") == "datasource"]
    if [p.get("query") for p in pickers] != ["prometheus"]:
        problems.append(f"{name}: no datasource variable `datasource` of type prometheus")
    for variable in variables:
        if variable.get("type") == "query" and variable.get("datasource") != DATASOURCE:
            problems.append(f"{name}: variable {variable.get('name')} queries {variable.get('datasource')}")
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            continue
        title = panel.get("title")
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"{name} / {title}: panel datasource {panel.get('datasource')}")
        for target in panel.get("targets", []):
            if target.get("datasource") != DATASOURCE:
                problems.append(f"{name} / {title}: query {target.get('refId')} uses {target.get('datasource')}")
    return problems


def check_rules_selected_like_monitors(docs: Iterable[Doc]) -> Problems:
    """Every label all PodMonitors share (the Prometheus' selector among them) is on every PrometheusRule too,
    so the Prometheus that scrapes the pods also loads the alerts."""
    docs = list(docs)
    monitors, rules = of_kind(docs, "PodMonitor"), of_kind(docs, "PrometheusRule")
    if not monitors or not rules:
        return []
    shared = set(monitors[0]["metadata"].get("labels", {}).items())
    for monitor in monitors[1:]:
        shared &= set(monitor["metadata"].get("labels", {}).items())
    return [
        f"{owner(rule)} lacks {key}={value}, which every PodMonitor has"
        for rule in rules
        for key, value in sorted(shared - set(rule["metadata"].get("labels", {}).items()))
    ]


def check_kafka_scraped(docs: Iterable[Doc]) -> Problems:
    """Where PodMonitors are rendered with a Strimzi Kafka, the brokers export metrics (metricsConfig with its
    ConfigMap rendered) and a PodMonitor scrapes them, so the Kafka dashboard is never empty."""
    docs = list(docs)
    if not of_kind(docs, "PodMonitor"):
        return []
    problems = []
    for kafka in of_kind(docs, "Kafka"):
        name = kafka["metadata"]["name"]
        ref = kafka["spec"]["kafka"].get("metricsConfig", {}).get("valueFrom", {}).get("configMapKeyRef")
        if ref is None:
            problems.append(f"Kafka/{name} has no metricsConfig")
        elif ref["key"] not in next(
            (c.get("data", {}) for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"] == ref["name"]), {}
        ):
            problems.append(f"Kafka/{name}: the exporter's ConfigMap {ref['name']} (key {ref['key']}) is not rendered")
        brokers = {"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka"}
        scraping = [
            m
            for m in of_kind(docs, "PodMonitor")
            if selects(m["spec"]["selector"].get("matchLabels", {}), brokers)
            and any(e.get("port") == "tcp-prometheus" for e in m["spec"]["podMetricsEndpoints"])
        ]
        if not scraping:
            problems.append(f"no PodMonitor scrapes Kafka/{name}'s brokers on tcp-prometheus")
    return problems
