"""Prometheus metrics of the simulator, served on /metrics when SIMULATOR_HEALTH_PORT is set.

The status line's totals (status.Counters) and these counters move together:
each Counters field has its counter here, so a dashboard shows what the
terminal shows. The transaction-to-alert latency is the pipeline's latency as
a client sees it: from producing a transaction to reading its alert.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

COUNTERS = {
    "produced": Counter("fraud_simulator_transactions_produced_total", "Transactions sent to Kafka."),
    "delivery_failures": Counter("fraud_simulator_delivery_failures_total", "Transactions Kafka did not acknowledge."),
    "alerts": Counter("fraud_simulator_alerts_received_total", "Alerts read from the alerts topic."),
    "own_alerts": Counter("fraud_simulator_own_alerts_received_total", "Alerts answering a transaction this run sent."),
    "malformed_alerts": Counter("fraud_simulator_malformed_alerts_total", "Alerts that could not be read."),
    "confirmations": Counter("fraud_simulator_confirmations_sent_total", "Frauds confirmed back to the pipeline."),
    "thresholds": Counter("fraud_simulator_thresholds_sent_total", "Per-account alert thresholds sent."),
}
TRANSACTION_TO_ALERT = Histogram(
    "fraud_simulator_transaction_to_alert_seconds",
    "Time from producing a transaction to reading its alert.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60),
)
