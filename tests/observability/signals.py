"""Every dashboard panel's query and every alert expression, asked of a real Prometheus.

A panel fails when its query errors, returns no series over the window, or names a metric no
target exports; an alert fails when its expression errors or names a metric no target exports (an
alert that does not fire returns nothing, which is right). "Exports" means Prometheus holds a
series of that name, or a target announced it (HELP/TYPE) without a sample yet: a labelled
counter that has not counted, e.g. fraud_function_errors_total on a system without bugs.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from observability.dashboards import KUBERNETES_ONLY

# What Grafana would put in for the template variables: every function, and a rate window of four
# scrapes of the local Prometheus (5 s), as Grafana's $__rate_interval rule gives.
VARIABLES = {"$__rate_interval": "20s", "$function": ".*"}
KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


@dataclass(frozen=True)
class Query:
    source: str  # "<dashboard uid> / <panel title>" or "alert <name>"
    expr: str
    kubernetes_only: str = ""  # the reason, for panels that can only have data in a cluster


def substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and
    grouping lists that are neither functions nor keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        word = match.group(0)
        if following.startswith("(") or word.lower() in KEYWORDS:
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number literal
        names.add(word)
    return names


def dashboard_queries(directory: Path) -> list[Query]:
    queries = []
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            description = panel.get("description", "")
            reason = description if description.startswith(KUBERNETES_ONLY) else ""
            for target in panel.get("targets", []):
                queries.append(Query(f"{board['uid']} / {panel['title']}", target["expr"], reason))
    return queries


def alert_queries(rules: Path) -> list[Query]:
    groups = yaml.safe_load(rules.read_text(encoding="utf-8"))["groups"]
    return [Query(f"alert {rule['alert']}", rule["expr"]) for group in groups for rule in group["rules"]]


class Prometheus:
    """The HTTP API of one Prometheus server."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as err:
            body = json.loads(err.read())
        if body.get("status") != "success":
            raise QueryError(body.get("error", str(body)))
        return body["data"]

    def exported_names(self) -> set[str]:
        return set(self.get("label/__name__/values")) | set(self.get("metadata"))

    def range_query(self, expr: str, start: float, end: float, step: str = "5s") -> list[dict]:
        return self.get("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=step)["result"]

    def targets(self) -> list[dict]:
        return self.get("targets")["activeTargets"]


class QueryError(RuntimeError):
    """Prometheus refused a query (a syntax error, an unknown function)."""


def problems(
    prometheus: Prometheus, queries: list[Query], start: float, end: float | None = None, need_data: bool = True
) -> list[str]:
    """What is wrong with each query (its source named), empty when every one is fine."""
    end = end or time.time()
    exported = prometheus.exported_names()
    found = []
    for query in queries:
        if query.kubernetes_only:
            continue
        expr = substitute(query.expr)
        missing = sorted(metric_names(expr) - exported)
        if missing:
            found.append(f"{query.source}: no target exports {', '.join(missing)} ({expr})")
            continue
        try:
            result = prometheus.range_query(expr, start, end)
        except QueryError as err:
            found.append(f"{query.source}: error {err} ({expr})")
            continue
        if need_data and not any(series["values"] for series in result):
            found.append(f"{query.source}: no data ({expr})")
    return found
