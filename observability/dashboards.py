"""The Grafana dashboards as code: the one source of observability/dashboards/*.json.

`make generate` writes the JSON (checked in: Grafana, the chart's ConfigMaps and the local checks read it),
and `make test` fails when it is out of date (fraud_dev.generate). Built with grafana-foundation-sdk,
Grafana's own typed builders, so a field Grafana does not know fails here rather than in a browser.

Every panel must show data on the local stack (tests/observability/test_stack_signals.py runs each
query against the real Prometheus), except panels whose description starts with KUBERNETES_ONLY:
they read kube-state-metrics or cAdvisor, which exist only in a cluster, and the reason is in the text.
Counters with labels exist only once incremented; panels on them add `or <traffic> * 0` so a quiet
system shows zero, not "No data".

Every query names its Prometheus through the dashboard's `$datasource` variable (a datasource picker whose
default is the UID `prometheus`, the local Grafana's and kube-prometheus-stack's): a Grafana whose Prometheus has
another UID, or several, still shows every panel once the picker names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableOption

from fraud_common.contract import Outcome

OUT = Path(__file__).resolve().parent / "dashboards"
# The UID the local Grafana provisions (fraud_dev.stack.observability, tests/observability/test_sources.py checks
# they agree) and kube-prometheus-stack gives its Prometheus: the picker's default.
PROMETHEUS_UID = "prometheus"
DATASOURCE_VARIABLE = "datasource"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
KUBERNETES_ONLY = "Kubernetes only"
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    description: str
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    width: int = 12


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    function_variable: bool = False
    tags: tuple[str, ...] = field(default=("fraud-platform",))


def rate(metric: str, by: str = "", selector: str = "") -> str:
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({metric}{selector}[{RATE}]))"


def quantile(q: float, histogram: str, by: str = "", selector: str = "") -> str:
    labels = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket{selector}[{RATE}])))"


def or_zero(expr: str, traffic: str, on: str | None = None, label: str = "") -> str:
    """A labelled counter that has not counted yet has no series: show zero while `traffic` flows.

    `on`: the labels that decide whether a zero is still needed (None: all of them; "": a zero only while
    `expr` is empty); `label`: the grouping label `traffic` lacks, shown as "none".
    """
    zero = f"{traffic} * 0"
    if label:
        zero = f'label_replace({zero}, "{label}", "none", "", "")'
    return f"{expr} or {zero}" if on is None else f"{expr} or on({on}) {zero}"


FN = '{function=~"$function"}'
MESSAGES_BY_FUNCTION = rate("fraud_function_messages_total", "function", FN)
ALL_DECISIONS = rate("fraud_decisions_total")
ALERT_DECISIONS = rate("fraud_decisions_total", selector=f'{{outcome="{Outcome.ALERT}"}}')
SCORED_DECISIONS = rate("fraud_decisions_total", selector=f'{{outcome=~"{Outcome.ALERT}|{Outcome.NO_ALERT}"}}')
DEGRADED_DECISIONS = rate("fraud_decisions_total", selector='{degraded="true"}')
ALL_LOOKUPS = rate("fraud_merchant_lookups_total")
CACHE_LOOKUPS = rate("fraud_merchant_lookups_total", selector='{source="cache"}')
FALLBACK_LOOKUPS = rate("fraud_merchant_lookups_total", selector='{source="fallback"}')
ALL_REQUESTS = rate("merchant_service_requests_total")
SERVER_ERRORS = rate("merchant_service_requests_total", selector='{code=~"5.."}')
MODEL_DECISIONS = rate("fraud_model_decisions_total", "role, version")
MODEL_ALERTS = rate("fraud_model_decisions_total", "role, version", '{alert="true"}')
ALL_AGREEMENT = rate("fraud_model_agreement_total", "champion, challenger")
AGREEMENTS = rate("fraud_model_agreement_total", "champion, challenger", '{agree="true"}')

OVERVIEW = Dashboard(
    "fraud-overview",
    "Fraud platform: pipeline overview",
    "Transactions in, decisions and alerts out, and how healthy the answers are.",
    (
        Row(
            "Throughput",
            (
                Panel(
                    "Transactions in",
                    (
                        (rate("fraud_transactions_started_total"), "accepted by transaction-manager"),
                        (rate("fraud_simulator_transactions_produced_total"), "produced by the simulator"),
                    ),
                    "Transactions per second: produced to `transactions` and accepted by transaction-manager.",
                    "reqps",
                ),
                Panel(
                    "Decisions by outcome",
                    ((rate("fraud_decisions_total", "outcome"), "{{outcome}}"),),
                    "Every transaction gets exactly one decision: alert, no_alert, dead_letter or expired.",
                    "reqps",
                ),
                Panel(
                    "Alerts",
                    (
                        (ALERT_DECISIONS, "alert decisions"),
                        (rate("fraud_simulator_alerts_received_total"), "alerts read by the simulator"),
                    ),
                    "Alerts decided by the functions and alerts a client read from `alerts` (visible after the "
                    "checkpoint that commits them).",
                    "reqps",
                ),
                Panel(
                    "Dead letters by reason",
                    (
                        (
                            or_zero(
                                rate("fraud_dead_letters_total", "reason"),
                                rate("fraud_transactions_started_total"),
                                "",
                                "reason",
                            ),
                            "{{reason}}",
                        ),
                    ),
                    "Records that broke the contract, by reason (docs/runbooks/dead-letters.md).",
                    "reqps",
                ),
            ),
        ),
        Row(
            "Quality",
            (
                Panel(
                    "Fraud ratio",
                    ((f"{ALERT_DECISIONS} / {SCORED_DECISIONS}", "alerts / scored"),),
                    "Share of scored transactions that alerted.",
                    "percentunit",
                    width=8,
                ),
                Panel(
                    "Degraded share",
                    ((f"{DEGRADED_DECISIONS} / {ALL_DECISIONS}", "degraded / all"),),
                    "Share of decisions made with a fallback merchant score (merchant-service slow or failing).",
                    "percentunit",
                    width=8,
                ),
                Panel(
                    "Transaction-to-alert latency",
                    (
                        (quantile(0.5, "fraud_simulator_transaction_to_alert_seconds"), "p50 produce -> alert read"),
                        (quantile(0.95, "fraud_simulator_transaction_to_alert_seconds"), "p95 produce -> alert read"),
                        (
                            quantile(0.95, "fraud_transaction_decision_seconds"),
                            "p95 in the functions (received -> decided)",
                        ),
                    ),
                    "As a client sees it (the simulator), and the part spent between transaction-manager's first and "
                    "last message. The difference is Kafka and the checkpoint that publishes the alert.",
                    "s",
                    width=8,
                ),
            ),
        ),
    ),
)

FUNCTIONS = Dashboard(
    "fraud-functions",
    "Fraud platform: functions",
    "The function server per function type, and the StateFun runtime's view of each function.",
    (
        Row(
            "Function server",
            (
                Panel(
                    "Messages handled",
                    ((MESSAGES_BY_FUNCTION, "{{function}}"),),
                    "Messages per second handled by each function (the function server's count).",
                    "reqps",
                ),
                Panel(
                    "Request latency",
                    (
                        (quantile(0.5, "fraud_function_request_seconds", "function", FN), "p50 {{function}}"),
                        (quantile(0.95, "fraud_function_request_seconds", "function", FN), "p95 {{function}}"),
                    ),
                    "Time to handle one request-reply batch from the runtime.",
                    "s",
                ),
                Panel(
                    "Errors",
                    (
                        (
                            or_zero(rate("fraud_function_errors_total", "function", FN), MESSAGES_BY_FUNCTION),
                            "{{function}}",
                        ),
                    ),
                    "Bugs caught by the invocation guard (each message dead-lettered as internal_error).",
                    "reqps",
                ),
                Panel(
                    "Batch size",
                    (
                        (
                            f"{rate('fraud_function_batch_size_sum', 'function', FN)} / "
                            f"{rate('fraud_function_batch_size_count', 'function', FN)}",
                            "mean {{function}}",
                        ),
                        (quantile(0.95, "fraud_function_batch_size", "function", FN), "p95 {{function}}"),
                    ),
                    "Messages per request: the runtime batches messages for an address while one call is in flight.",
                    "short",
                ),
                Panel(
                    "Dead letters by function and reason",
                    (
                        (
                            or_zero(
                                rate("fraud_dead_letters_total", "function, reason", FN),
                                MESSAGES_BY_FUNCTION,
                                "function",
                                "reason",
                            ),
                            "{{function}} {{reason}}",
                        ),
                    ),
                    "Records dead-lettered by each function, by reason.",
                    "reqps",
                ),
                Panel(
                    "Dropped internal messages and rejected requests",
                    (
                        (
                            or_zero(
                                rate("fraud_unexpected_messages_total", "function, reason", FN),
                                MESSAGES_BY_FUNCTION,
                                "function",
                                "reason",
                            ),
                            "{{function}} {{reason}}",
                        ),
                        (
                            or_zero(
                                rate("fraud_rejected_requests_total", "reason"),
                                rate("fraud_transactions_started_total"),
                                "",
                                "reason",
                            ),
                            "rejected {{reason}}",
                        ),
                    ),
                    "Late, duplicate or unreadable replies dropped; requests answered before reaching a function.",
                    "reqps",
                ),
                Panel(
                    "Model score",
                    ((quantile(0.5, "fraud_model_score"), "p50"), (quantile(0.95, "fraud_model_score"), "p95")),
                    "Distribution of the champion model's scores (its threshold is in its model file).",
                    "percentunit",
                ),
            ),
        ),
        Row(
            "Models: champion and challenger",
            (
                Panel(
                    "Alert rate by model version",
                    (
                        (
                            f"{or_zero(MODEL_ALERTS, MODEL_DECISIONS, 'role, version')} / {MODEL_DECISIONS}",
                            "{{role}} {{version}}",
                        ),
                    ),
                    "Share of scored transactions each model alerts on (the challenger: would alert; it never "
                    "does). A challenger far from the champion here is what a backtest explains (docs/model.md).",
                    "percentunit",
                ),
                Panel(
                    "Agreement with the champion",
                    (
                        (
                            f"{or_zero(AGREEMENTS, ALL_AGREEMENT, 'champion, challenger')} / {ALL_AGREEMENT}",
                            "{{challenger}} vs {{champion}}",
                        ),
                    ),
                    "Share of transactions on which the challenger reaches the champion's outcome.",
                    "percentunit",
                ),
                Panel(
                    "Score by model version",
                    (
                        (quantile(0.5, "fraud_model_version_score", "role, version"), "p50 {{role}} {{version}}"),
                        (quantile(0.95, "fraud_model_version_score", "role, version"), "p95 {{role}} {{version}}"),
                    ),
                    "Distribution of each model's scores on the same transactions.",
                    "percentunit",
                ),
                Panel(
                    "Running model versions",
                    (("max by (role, version) (fraud_model_info)", "{{role}} {{version}}"),),
                    "Which version runs in each role (1) on some function server; two versions of one role at "
                    "once: a promotion in progress, or pods that disagree.",
                    "short",
                    "stat",
                ),
            ),
        ),
        Row(
            "StateFun runtime",
            (
                Panel(
                    "Messages in (runtime)",
                    (("sum by (function) (statefun_function_inRate" + FN + ")", "{{function}}"),),
                    "StateFun's per-function inbound rate (statefun_function_inRate, relabelled from the Flink "
                    "reporter).",
                    "reqps",
                ),
                Panel(
                    "Backlog",
                    (("sum by (function) (statefun_function_numBacklog" + FN + ")", "{{function}}"),),
                    "Messages waiting because their address already has a call in flight.",
                    "short",
                ),
                Panel(
                    "In-flight calls",
                    (
                        ("sum by (function) (statefun_function_inflightAsyncOps" + FN + ")", "{{function}}"),
                        ("max(statefun_inflight_async_ops)", "all functions, busiest task (limit 512)"),
                    ),
                    "Remote calls in flight per function, and per task for all functions (bounded by "
                    "statefun.async.max-per-task).",
                    "short",
                ),
                Panel(
                    "Remote invocation failures",
                    ((rate("statefun_function_remoteInvocationFailures", "function", FN), "{{function}}"),),
                    "Calls from the runtime to the function server that failed.",
                    "reqps",
                ),
                Panel(
                    "Remote invocation latency",
                    (
                        (
                            "max by (function) "
                            '(statefun_function_remoteInvocationLatency{function=~"$function",quantile="0.95"})',
                            "p95 {{function}}",
                        ),
                    ),
                    "As the runtime measures it (a lifetime histogram: for SLOs use the function server's request "
                    "latency).",
                    "ms",
                ),
                Panel(
                    "Messages out (runtime)",
                    (
                        (rate("statefun_function_outLocal", "function", FN), "local {{function}}"),
                        (rate("statefun_function_outEgress", "function", FN), "egress {{function}}"),
                    ),
                    "Messages each function sent to other functions and to the Kafka egresses.",
                    "reqps",
                ),
            ),
        ),
    ),
    function_variable=True,
)

MERCHANT = Dashboard(
    "fraud-merchant",
    "Fraud platform: merchant-service and resilience",
    "The merchant client's timeouts, retries, fallbacks and cache, and merchant-service itself.",
    (
        Row(
            "Merchant client (function server)",
            (
                Panel(
                    "Lookups by source",
                    ((rate("fraud_merchant_lookups_total", "source"), "{{source}}"),),
                    "Where each merchant score came from: the cache, merchant-service or the degraded fallback.",
                    "reqps",
                ),
                Panel(
                    "Cache hit ratio and fallback share",
                    (
                        (f"{CACHE_LOOKUPS} / {ALL_LOOKUPS}", "cache hits"),
                        (f"({or_zero(FALLBACK_LOOKUPS, ALL_LOOKUPS)}) / {ALL_LOOKUPS}", "fallbacks"),
                    ),
                    "Share of lookups answered from the cache, and share answered by the fallback.",
                    "percentunit",
                ),
                Panel(
                    "Attempts by outcome",
                    ((rate("fraud_merchant_service_attempts_total", "outcome"), "{{outcome}}"),),
                    "HTTP attempts to merchant-service by outcome (ok, timeouts, errors).",
                    "reqps",
                ),
                Panel(
                    "Retries",
                    ((rate("fraud_merchant_service_retries_total"), "retries"),),
                    "Attempts after the first of a lookup.",
                    "reqps",
                ),
                Panel(
                    "Lookup time",
                    (
                        (quantile(0.5, "fraud_merchant_service_lookup_seconds"), "p50"),
                        (quantile(0.95, "fraud_merchant_service_lookup_seconds"), "p95"),
                    ),
                    "One merchant score lookup, retries and backoff included.",
                    "s",
                ),
            ),
        ),
        Row(
            "merchant-service",
            (
                Panel(
                    "Requests by status",
                    ((rate("merchant_service_requests_total", "code"), "{{code}}"),),
                    "merchant-service's requests by HTTP status.",
                    "reqps",
                ),
                Panel(
                    "Error ratio",
                    ((f"({or_zero(SERVER_ERRORS, ALL_REQUESTS)}) / {ALL_REQUESTS}", "5xx / all"),),
                    "Share of merchant-service answers that were server errors.",
                    "percentunit",
                ),
                Panel(
                    "Latency",
                    (
                        (quantile(0.95, "merchant_service_request_duration_seconds", "route"), "p95 {{route}}"),
                        (quantile(0.5, "merchant_service_request_duration_seconds", "route"), "p50 {{route}}"),
                    ),
                    "merchant-service's request duration, injected latency included.",
                    "s",
                ),
                Panel(
                    "Injected faults",
                    (
                        ("max(merchant_service_fault_error_rate)", "error rate"),
                        (rate("merchant_service_injected_failures_total"), "injected failures/s"),
                    ),
                    "Fault injection in effect (PUT /admin/faults): why errors or latency moved.",
                    "short",
                ),
            ),
        ),
    ),
)

FLINK = Dashboard(
    "fraud-flink",
    "Fraud platform: Flink job health",
    "The StateFun job as Flink runs it: restarts, checkpoints, back-pressure, consumer lag.",
    (
        Row(
            "Job",
            (
                Panel(
                    "Running jobs",
                    (("sum(flink_jobmanager_numRunningJobs)", "running"),),
                    "Jobs the JobManager runs: 1 when healthy.",
                    "short",
                    kind="stat",
                    width=6,
                ),
                Panel(
                    "TaskManagers",
                    (("sum(flink_jobmanager_numRegisteredTaskManagers)", "registered"),),
                    "TaskManagers registered (reactive mode: the job's parallelism).",
                    "short",
                    kind="stat",
                    width=6,
                ),
                Panel(
                    "Restarts",
                    (("max(flink_jobmanager_job_numRestarts)", "since the job started"),),
                    "Restarts of the job from its last checkpoint.",
                    "short",
                    kind="stat",
                    width=6,
                ),
                Panel(
                    "Uptime",
                    (("max(flink_jobmanager_job_uptime) / 1000", "uptime"),),
                    "Time since the job last (re)started.",
                    "s",
                    kind="stat",
                    width=6,
                ),
            ),
        ),
        Row(
            "Checkpoints",
            (
                Panel(
                    "Checkpoint duration",
                    (("max(flink_jobmanager_job_lastCheckpointDuration)", "last checkpoint"),),
                    "Duration of the last completed checkpoint (timeout 2 minutes).",
                    "ms",
                    width=8,
                ),
                Panel(
                    "Checkpoint size",
                    (
                        ("max(flink_jobmanager_job_lastCheckpointSize)", "incremental"),
                        ("max(flink_jobmanager_job_lastCheckpointFullSize)", "full"),
                    ),
                    "Size of the last checkpoint: what it wrote (incremental RocksDB) and the whole state.",
                    "bytes",
                    width=8,
                ),
                Panel(
                    "Checkpoints completed and failed",
                    (
                        (rate("flink_jobmanager_job_numberOfCompletedCheckpoints"), "completed/s"),
                        (rate("flink_jobmanager_job_numberOfFailedCheckpoints"), "failed/s"),
                    ),
                    "Checkpoints per second (one every 5 s when healthy).",
                    "short",
                    width=8,
                ),
            ),
        ),
        Row(
            "Flow",
            (
                Panel(
                    "Back-pressure",
                    (
                        (
                            "max by (task_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond)",
                            "{{task_name}}",
                        ),
                    ),
                    "Milliseconds per second each task was back-pressured.",
                    "ms",
                ),
                Panel(
                    "Busy time",
                    (("max by (task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond)", "{{task_name}}"),),
                    "Milliseconds per second each task was busy (NaN for sources, which Flink 1.16 does not measure).",
                    "ms",
                ),
                Panel(
                    "Consumer lag of the ingresses",
                    (("max by (ingress) (statefun_kafka_ingress_records_lag_max)", "{{ingress}}"),),
                    "Records between each ingress consumer's position and the end of its partitions (records-lag-max).",
                    "short",
                ),
                Panel(
                    "JVM heap and CPU",
                    (
                        ("sum(flink_taskmanager_Status_JVM_Memory_Heap_Used)", "TaskManager heap"),
                        ("sum(flink_jobmanager_Status_JVM_Memory_Heap_Used)", "JobManager heap"),
                    ),
                    "Heap in use (locally one JVM runs both).",
                    "bytes",
                ),
            ),
        ),
    ),
)

KAFKA = Dashboard(
    "fraud-kafka",
    "Fraud platform: Kafka",
    "Kafka from the broker (JMX exporter) and from the pipeline's clients: produced, consumed, lag, offsets.",
    (
        Row(
            "Broker",
            (
                Panel(
                    "Records in per topic",
                    ((rate("kafka_server_brokertopicmetrics_messagesin_total", "topic"), "{{topic}}"),),
                    "Records the broker appended to each topic's log.",
                    "reqps",
                    width=8,
                ),
                Panel(
                    "Bytes in and out per topic",
                    (
                        (rate("kafka_server_brokertopicmetrics_bytesin_total", "topic"), "in {{topic}}"),
                        (rate("kafka_server_brokertopicmetrics_bytesout_total", "topic"), "out {{topic}}"),
                    ),
                    "Bytes producers wrote and consumers read, per topic.",
                    "Bps",
                    width=8,
                ),
                Panel(
                    "Under-replicated partitions and active controllers",
                    (
                        ("sum(kafka_server_replicamanager_underreplicatedpartitions)", "under-replicated"),
                        ("sum(kafka_controller_kafkacontroller_activecontrollercount)", "active controllers"),
                    ),
                    "0 under-replicated and exactly 1 active controller in a healthy cluster.",
                    "short",
                    width=8,
                ),
                Panel(
                    "Lag per partition (log end - committed)",
                    (
                        (
                            "max by (topic, partition) (kafka_log_log_logendoffset) - on (topic, partition) "
                            "max by (topic, partition) (statefun_kafka_ingress_committed_offset)",
                            "{{topic}}/{{partition}}",
                        ),
                    ),
                    "Records past the offset the ingresses last committed (on a completed checkpoint), per "
                    "partition: what a restart would read again.",
                    "short",
                    width=24,
                ),
            ),
        ),
        Row(
            "Clients",
            (
                Panel(
                    "Produced by the simulator",
                    (
                        (rate("fraud_simulator_transactions_produced_total"), "transactions"),
                        (rate("fraud_simulator_confirmations_sent_total"), "confirmed"),
                        (rate("fraud_simulator_delivery_failures_total"), "delivery failures"),
                    ),
                    "Records the simulator wrote to `transactions` and `confirmed`.",
                    "reqps",
                ),
                Panel(
                    "Consumed by the ingresses",
                    (("sum by (ingress) (statefun_kafka_ingress_records_consumed_rate)", "{{ingress}}"),),
                    "Records per second each StateFun Kafka ingress read.",
                    "reqps",
                ),
                Panel(
                    "Consumer lag",
                    (("max by (ingress) (statefun_kafka_ingress_records_lag_max)", "{{ingress}}"),),
                    "Records behind the end of the partitions, per ingress.",
                    "short",
                ),
                Panel(
                    "Committed offsets",
                    (("sum by (topic) (statefun_kafka_ingress_committed_offset)", "{{topic}}"),),
                    "Offsets the ingresses committed to Kafka on completed checkpoints, summed over partitions.",
                    "short",
                ),
                Panel(
                    "Offsets committed per second",
                    ((rate("statefun_kafka_ingress_committed_offset", "topic"), "{{topic}}"),),
                    "How fast the committed offsets move: progress that survives a restart.",
                    "reqps",
                ),
                Panel(
                    "Fetch latency",
                    (("max by (ingress) (statefun_kafka_ingress_fetch_latency_avg)", "{{ingress}}"),),
                    "Average fetch request latency of each ingress consumer.",
                    "ms",
                ),
                Panel(
                    "Records to the egresses",
                    ((rate("statefun_function_outEgress", "function"), "{{function}}"),),
                    "Records each function sent to the Kafka egresses (alerts, decisions, dead-letters), as StateFun "
                    "counts them.",
                    "reqps",
                ),
                Panel(
                    "Alerts read from Kafka",
                    (
                        (rate("fraud_simulator_alerts_received_total"), "alerts"),
                        (rate("fraud_simulator_malformed_alerts_total"), "malformed"),
                    ),
                    "What a consumer of `alerts` reads.",
                    "reqps",
                ),
            ),
        ),
    ),
)

PODS = Dashboard(
    "fraud-pods",
    "Fraud platform: pods and autoscaling",
    "Resources of each process, the telemetry path itself and, in Kubernetes, replicas and autoscalers.",
    (
        Row(
            "Processes",
            (
                Panel(
                    "CPU of the Python services",
                    ((rate("process_cpu_seconds_total", "job"), "{{job}}"),),
                    "CPU seconds per second of each Python process (function server, merchant-service, simulator).",
                    "short",
                ),
                Panel(
                    "Memory of the Python services",
                    (("sum by (job) (process_resident_memory_bytes)", "{{job}}"),),
                    "Resident memory of each Python process.",
                    "bytes",
                ),
                Panel(
                    "JVM CPU load",
                    (("max(flink_taskmanager_Status_JVM_CPU_Load)", "TaskManager"),),
                    "CPU load of the TaskManager JVM (0..1).",
                    "percentunit",
                ),
            ),
        ),
        Row(
            "Telemetry",
            (
                Panel(
                    "Scrape targets up",
                    (("sum by (job) (up)", "{{job}}"),),
                    "Targets Prometheus scrapes successfully, by job (FraudMetricsTargetDown fires on a platform "
                    "target down).",
                    "short",
                    width=8,
                ),
                Panel(
                    "Samples per scrape",
                    (("sum by (job) (scrape_samples_scraped)", "{{job}}"),),
                    "Series each target exposes: a jump means a new label value (cardinality).",
                    "short",
                    width=8,
                ),
                Panel(
                    "Spans through the trace path",
                    (
                        (rate("otelcol_receiver_accepted_spans_total", "job"), "accepted {{job}}"),
                        (rate("otelcol_exporter_sent_spans_total", "job"), "sent {{job}}"),
                        (rate("otelcol_exporter_send_failed_spans_total", "job"), "failed {{job}}"),
                    ),
                    "Spans the OpenTelemetry Collector and Jaeger accepted and passed on (Jaeger: to its storage).",
                    "short",
                    width=8,
                ),
            ),
        ),
        Row(
            "Kubernetes",
            (
                Panel(
                    "Function server replicas",
                    (
                        (
                            "max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas)",
                            "current {{horizontalpodautoscaler}}",
                        ),
                        (
                            "max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_desired_replicas)",
                            "desired {{horizontalpodautoscaler}}",
                        ),
                    ),
                    f"{KUBERNETES_ONLY}: HPA replicas from kube-state-metrics (functions and TaskManagers).",
                    "short",
                ),
                Panel(
                    "Pod CPU",
                    (
                        (
                            'sum by (pod) (rate(container_cpu_usage_seconds_total{container!=""}[$__rate_interval]))',
                            "{{pod}}",
                        ),
                    ),
                    f"{KUBERNETES_ONLY}: container CPU from cAdvisor (the kubelet).",
                    "short",
                ),
                Panel(
                    "Pod memory",
                    (('sum by (pod) (container_memory_working_set_bytes{container!=""})', "{{pod}}"),),
                    f"{KUBERNETES_ONLY}: container working set from cAdvisor, against the limits of "
                    "docs/kubernetes.md.",
                    "bytes",
                ),
                Panel(
                    "Pod restarts",
                    (("sum by (pod) (increase(kube_pod_container_status_restarts_total[1h]))", "{{pod}}"),),
                    f"{KUBERNETES_ONLY}: container restarts in the last hour from kube-state-metrics.",
                    "short",
                ),
            ),
        ),
    ),
)

DASHBOARDS = (OVERVIEW, FUNCTIONS, MERCHANT, FLINK, KAFKA, PODS)


def _panel(spec: Panel, panel_id: int):
    builder = stat.Panel() if spec.kind == "stat" else timeseries.Panel()
    builder = (
        builder.id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .datasource(PROMETHEUS)
        .unit(spec.unit)
        .height(8)
        .span(spec.width)
    )
    for index, (expr, legend) in enumerate(spec.queries):
        builder = builder.with_target(
            prometheus.Dataquery().datasource(PROMETHEUS).ref_id(chr(ord("A") + index)).expr(expr).legend_format(legend)
        )
    return builder


def build(spec: Dashboard) -> dict:
    builder = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(list(spec.tags))
        .time("now-30m", "now")
        .refresh("10s")
        .editable()
        .with_variable(
            dashboard.DatasourceVariable(DATASOURCE_VARIABLE)
            .label("Prometheus")
            .type("prometheus")
            .current(VariableOption(selected=True, text=PROMETHEUS_UID, value=PROMETHEUS_UID))
        )
    )
    if spec.function_variable:
        builder = builder.with_variable(
            dashboard.QueryVariable("function")
            .label("function")
            .datasource(PROMETHEUS)
            .query("label_values(fraud_function_messages_total, function)")
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    panel_id = 1
    for row in spec.rows:
        builder = builder.with_row(dashboard.Row(row.title).id(panel_id))
        panel_id += 1
        for panel in row.panels:
            builder = builder.with_panel(_panel(panel, panel_id))
            panel_id += 1
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))


def rendered() -> dict[Path, str]:
    """Each dashboard's file and its JSON text."""
    return {OUT / f"{spec.uid}.json": json.dumps(build(spec), indent=2, sort_keys=True) + "\n" for spec in DASHBOARDS}
