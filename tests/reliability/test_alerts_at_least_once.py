"""Alerts for consumers that cannot read transactional topics: ALERTS_DELIVERY=at-least-once.

The exactly-once egress writes Kafka transaction markers, which old clients
(kafka-python 2.0.2, pinned by the StateFun workshop's own tools) cannot read.
With the setting, `alerts` is written without transactions and such a client
reads it; the other egresses stay exactly-once. This module runs a stack of its
own with the setting.
"""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, TopicPartition

from fraud_common.contract import ALERTS_TOPIC, Transaction
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import Kafka, merchant_with_risk, new_id, transaction_record
from fraud_dev.stack.private import private_stack


def alert_transaction() -> Transaction:
    return Transaction(new_id("tx-"), new_id("acct-"), merchant_with_risk(97, 100), 1000, "2026-11-28T10:00:00")


def read_with_kafka_python(bootstrap: str, partitions: dict[int, int], wanted: str) -> list[dict]:
    """Read `alerts` from `partitions` offsets with kafka-python 2.0.2 until the wanted transaction shows up."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=20_000, value_deserializer=json.loads
    )
    try:
        assigned = [TopicPartition(ALERTS_TOPIC, p) for p in partitions]
        consumer.assign(assigned)
        for tp in assigned:
            consumer.seek(tp, partitions[tp.partition])
        found = []
        for message in consumer:
            found.append(message.value)
            if message.value.get("transaction_id") == wanted:
                break
        return found
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def at_least_once(tmp_path_factory):
    with private_stack(tmp_path_factory.mktemp("alerts-at-least-once"), {"ALERTS_DELIVERY": "at-least-once"}) as stack:
        yield stack


def test_a_client_without_transaction_support_reads_at_least_once_alerts(at_least_once):
    kafka = Kafka(at_least_once.config.kafka_connection())
    transaction = alert_transaction()
    since = kafka.end_offsets(ALERTS_TOPIC)
    reader = LedgerReader(kafka)
    kafka.produce("transactions", [transaction_record(transaction)])
    report = reader.collect({transaction.transaction_id}, timeout=90, settle_seconds=0)
    report.assert_exact()

    alerts = read_with_kafka_python(at_least_once.config.bootstrap_servers, since, transaction.transaction_id)
    assert [a["transaction_id"] for a in alerts] == [transaction.transaction_id]


def test_the_same_client_cannot_read_the_exactly_once_default(stack, kafka):
    """Why the setting exists: on the default (transactional) alerts topic this client fails."""
    transaction = alert_transaction()
    since = kafka.end_offsets(ALERTS_TOPIC)
    reader = LedgerReader(kafka)
    kafka.produce("transactions", [transaction_record(transaction)])
    reader.collect({transaction.transaction_id}, timeout=90, settle_seconds=0).assert_exact()

    # kafka-python 2.0.2 hands the transaction markers over as if they were records; their bytes are no JSON.
    with pytest.raises(ValueError):
        read_with_kafka_python(stack.config.bootstrap_servers, since, transaction.transaction_id)
