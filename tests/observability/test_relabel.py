"""observability/relabel.yaml, applied the way Prometheus applies metric_relabel_configs, to names the
StateFun runtime's reporter really writes (the real Prometheus proves the same in test_stack_signals.py).

Prometheus anchors each regex and uses RE2; these patterns mean the same in Python's re.
"""

from __future__ import annotations

import re

from fraud_dev.stack.observability import relabel_rules

PREFIX = "flink_taskmanager_job_task_operator_"


def relabel(labels: dict[str, str]) -> dict[str, str] | None:
    """Apply the rules (replace and drop, the actions the file uses); None when the series is dropped."""
    labels = dict(labels)
    for rule in relabel_rules():
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule["source_labels"])
        match = re.fullmatch(rule["regex"], value)
        action = rule.get("action", "replace")
        if action == "drop":
            if match:
                return None
            continue
        assert action == "replace", action
        if match:
            template = re.sub(
                r"\$\{(\d+)\}|\$(\d+)", lambda ref: f"\\g<{ref.group(1) or ref.group(2)}>", rule["replacement"]
            )
            labels[rule["target_label"]] = match.expand(template)
    return labels


def flink_name(function_type: str, metric: str) -> str:
    """The reporter's name: '/' and '-' become '_'."""
    return PREFIX + "functions_" + function_type.replace("/", "_").replace("-", "_") + "_" + metric


def test_every_statefun_function_metric_gets_a_stable_name_and_the_function_servers_label():
    for function in (
        "fraud/transaction-manager",
        "fraud/account",
        "fraud/merchant",
        "ns/three-word-name",
    ):
        for metric in (
            "in",
            "inRate",
            "outLocal",
            "outRemote",
            "outEgress",
            "inflightAsyncOps",
            "numBacklog",
            "numBlockedAddress",
            "remoteInvocationFailures",
            "remoteInvocationLatency",
            "remoteInvocationLatency_count",
            "outLocalRate",
        ):
            out = relabel({"__name__": flink_name(function, metric), "operator_name": "functions"})
            assert out["__name__"] == f"statefun_function_{metric}", (function, metric)
            assert out["function"] == function, (function, metric)


def test_the_operators_own_in_flight_total_gets_a_stable_name():
    out = relabel({"__name__": PREFIX + "functions_inflightAsyncOps", "operator_name": "functions"})
    assert out == {"__name__": "statefun_inflight_async_ops", "operator_name": "functions"}


def test_ingress_consumer_metrics_get_short_names_and_the_ingress():
    base = {"operator_name": "Source:_fraud_transactions_ingress"}
    lag = relabel({**base, "__name__": PREFIX + "KafkaConsumer_records_lag_max"})
    assert (lag["__name__"], lag["ingress"]) == ("statefun_kafka_ingress_records_lag_max", "fraud/transactions")
    offset = relabel(
        {
            **base,
            "__name__": PREFIX + "KafkaConsumer_topic_partition_committedOffsets",
            "topic": "transactions",
            "partition": "3",
        }
    )
    assert offset["__name__"] == "statefun_kafka_ingress_committed_offset" and offset["partition"] == "3"
    assert relabel({**base, "__name__": PREFIX + "KafkaConsumer_committed_offsets_transactions_3"}) is None


def test_other_series_pass_unchanged():
    for labels in (
        {"__name__": "flink_jobmanager_job_numRestarts", "job_name": "fraud_statefun"},
        {"__name__": PREFIX + "KafkaProducer_record_send_total", "operator_name": "Sink:_fraud_alerts_egress"},
        {"__name__": "flink_taskmanager_job_task_backPressuredTimeMsPerSecond", "task_name": "feedback"},
    ):
        assert relabel(labels) == labels
