"""Every dashboard panel and every alert, asked of the real Prometheus of a running local stack.

A panel with no data, an error, or a metric name no target exports fails (tests/observability/signals.py);
panels that need Kubernetes are skipped with their reason, and listed. The renaming test proves the
check bites: the same check on a dashboard with one metric renamed fails.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess

from fraud_dev.stack.observability import ALERT_RULES, DASHBOARDS, scrape_jobs
from tests.observability.signals import alert_queries, dashboard_queries, problems

FUNCTIONS = ("fraud/transaction-manager", "fraud/account", "fraud/merchant")


def test_prometheus_scrapes_every_process_of_the_stack(scenario):
    targets = {target["labels"]["job"]: target for target in scenario.prometheus.targets()}
    assert set(targets) == set(scrape_jobs(scenario.stack.config, simulator=True))
    down = {job: target["lastError"] for job, target in targets.items() if target["health"] != "up"}
    assert not down, f"targets not up: {down}"


def test_every_dashboard_panel_shows_data(scenario, capsys):
    queries = dashboard_queries(DASHBOARDS)
    skipped = sorted({f"{query.source}: {query.kubernetes_only}" for query in queries if query.kubernetes_only})
    assert len(queries) - len([q for q in queries if q.kubernetes_only]) >= 60
    found = problems(scenario.prometheus, queries, scenario.started, scenario.ended)
    assert not found, "panels without data:\n" + "\n".join(found)
    with capsys.disabled():
        print("\nKubernetes-only panels, not checked locally:\n  " + "\n  ".join(skipped))


def test_every_alert_expression_runs_on_metrics_the_stack_exports(scenario):
    found = problems(scenario.prometheus, alert_queries(ALERT_RULES), scenario.started, scenario.ended, need_data=False)
    assert not found, "alert expressions that cannot work:\n" + "\n".join(found)


def test_a_renamed_metric_fails_the_panel_check(scenario, tmp_path):
    board = json.loads((DASHBOARDS / "fraud-overview.json").read_text(encoding="utf-8"))
    renamed = copy.deepcopy(board)
    target = next(panel for panel in renamed["panels"] if panel["title"] == "Decisions by outcome")["targets"][0]
    target["expr"] = target["expr"].replace("fraud_decisions_total", "fraud_decision_total")
    (tmp_path / "fraud-overview.json").write_text(json.dumps(renamed), encoding="utf-8")

    found = problems(scenario.prometheus, dashboard_queries(tmp_path), scenario.started, scenario.ended)

    assert found == [
        f"fraud-overview / Decisions by outcome: no target exports fraud_decision_total ({target['expr']})".replace(
            "$__rate_interval", "20s"
        )
    ]


def test_a_renamed_metric_fails_the_alert_check(scenario, tmp_path):
    rules = ALERT_RULES.read_text(encoding="utf-8").replace(
        "fraud_merchant_lookups_total", "fraud_merchant_lookup_total"
    )
    (tmp_path / "alerts.yaml").write_text(rules, encoding="utf-8")

    found = problems(
        scenario.prometheus, alert_queries(tmp_path / "alerts.yaml"), scenario.started, scenario.ended, need_data=False
    )

    assert [problem.split(":")[0] for problem in found] == ["alert FraudMerchantFallbacks"]
    assert "no target exports fraud_merchant_lookup_total" in found[0]


def test_a_query_without_data_fails_the_panel_check(scenario, tmp_path):
    """A metric that exists but a selector nothing matches: the panel would say "No data"."""
    board = json.loads((DASHBOARDS / "fraud-overview.json").read_text(encoding="utf-8"))
    board["panels"] = [panel for panel in board["panels"] if panel["title"] == "Alerts"]
    board["panels"][0]["targets"] = [{"expr": 'sum(rate(fraud_decisions_total{outcome="misspelt"}[5m]))'}]
    (tmp_path / "fraud-overview.json").write_text(json.dumps(board), encoding="utf-8")

    found = problems(scenario.prometheus, dashboard_queries(tmp_path), scenario.started, scenario.ended)

    assert len(found) == 1 and found[0].startswith("fraud-overview / Alerts: no data")


def test_statefun_metrics_are_relabelled_to_stable_names_with_the_function_servers_labels(scenario):
    """The runtime's function label is the function server's: the two join on it in the dashboards."""
    result = scenario.prometheus.get("query", query="sum by (function) (statefun_function_in)")["result"]
    served = scenario.prometheus.get("query", query="sum by (function) (fraud_function_messages_total)")["result"]
    runtime_functions = {series["metric"]["function"] for series in result}
    assert runtime_functions == {series["metric"]["function"] for series in served}
    assert runtime_functions >= set(FUNCTIONS)
    lag = scenario.prometheus.get("query", query="max by (ingress) (statefun_kafka_ingress_records_lag_max)")["result"]
    offsets = scenario.prometheus.get("query", query="sum by (topic) (statefun_kafka_ingress_committed_offset)")[
        "result"
    ]
    topics = {series["metric"]["topic"] for series in offsets}
    assert topics >= {"transactions", "confirmed"}
    assert {series["metric"]["ingress"] for series in lag} == {f"fraud/{topic}" for topic in topics}
    leftovers = scenario.prometheus.get(
        "query", query='count({__name__=~"flink_taskmanager_job_task_operator_functions_.+"})'
    )
    assert leftovers["result"] == [], "per-function names left after relabelling"


def test_the_alert_rules_are_loaded_and_healthy(scenario):
    groups = scenario.prometheus.get("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["name"] for rule in rules} == {
        query.source.removeprefix("alert ") for query in alert_queries(ALERT_RULES)
    }
    assert all(rule["health"] == "ok" for rule in rules), [(r["name"], r.get("lastError")) for r in rules]


def test_the_telemetry_listens_on_loopback_only(scenario):
    """Prometheus, the collector and Jaeger (and the broker's exporter agent) bind nothing but 127.0.0.1."""
    names = ("prometheus", "otel-collector", "jaeger", "kafka")
    pids = {scenario.stack.service(name).pid: name for name in names}
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    sockets = [(line.split()[3], int(pid)) for line in listening for pid in re.findall(r"pid=(\d+)", line)]
    ours = [(address, pids[pid]) for address, pid in sockets if pid in pids]
    assert {name for _, name in ours} == set(names), ours
    loopback = ("127.0.0.1:", "[::ffff:127.0.0.1]:", "[::1]:")
    assert all(address.startswith(loopback) for address, _ in ours), ours
