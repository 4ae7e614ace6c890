"""Who may do what on Kafka, listed by hand from what each component does (issue 17's least-privilege set).

The one oracle both the declaration (tests/unit/common/test_kafka_access.py) and the chart's rendered KafkaUsers
(tests/deploy/test_kafka_security.py) are held to, never read from fraud_common.contract. A topic the runtime
reads or writes is a new right: adding one means adding it here, by hand, where a reviewer sees it
(docs/architecture.md, "Adding a topic").
"""

from __future__ import annotations

# The runtime reads every ingress topic through its consumer group and writes every egress topic in Kafka
# transactions: together, every topic the pipeline has.
RUNTIME_READS = ("transactions", "confirmed", "thresholds")
RUNTIME_WRITES = ("alerts", "decisions", "dead-letters")
# Flink's exactly-once producer: transactional ids `<task name>-<operator>-<n>` of StateFun's chain.
TRANSACTIONAL_PREFIX = "feedback-union -> functions -> "
# The simulator produces the pipeline's inputs and reads the alerts it prints and confirms, with its group.
SIMULATOR_WRITES = ("transactions", "confirmed", "thresholds")
SIMULATOR_READS = ("alerts",)
# `helm test` sends one transaction and waits for its decision or alert, without a group.
SMOKE_TEST_WRITES = ("transactions",)
SMOKE_TEST_READS = ("decisions", "alerts")
# KEDA only describes the runtime's group and the topic whose lag it reads.
KEDA_LAG_OF = ("transactions",)
