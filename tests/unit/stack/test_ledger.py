"""LedgerReader.collect: when a scenario's ledger counts as complete (decisions and alerts arrive apart)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC
from fraud_dev.ledger import LedgerReader


class ArrivingKafka:
    """Hands `until` the records one poll at a time, as the real reader's polls would; remembers how many
    polls `until` needed before it held."""

    def __init__(self, polls: list[list[dict[str, Any]]]) -> None:
        self.polls = polls
        self.polled = 0

    def end_offsets(self, topic: str) -> dict[int, int]:
        return {0: 0}

    def read_topics(
        self, since: dict[str, dict[int, int]], until: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for batch in self.polls:
            if until(records):
                break
            records.extend(batch)
            self.polled += 1
        until(records)
        return records


def decision(transaction_id: str, outcome: str) -> dict[str, Any]:
    return {"topic": DECISIONS_TOPIC, "value": {"transaction_id": transaction_id, "outcome": outcome}}


def alert(transaction_id: str) -> dict[str, Any]:
    return {"topic": ALERTS_TOPIC, "value": {"transaction_id": transaction_id}}


def test_an_alert_committed_after_its_decision_is_waited_for() -> None:
    """The alerts sink commits its transaction after the decisions sink: the report must hold the alert."""
    kafka = ArrivingKafka([[decision("tx-1", "alert")], [], [alert("tx-1")]])
    report = LedgerReader(kafka).collect({"tx-1"}, timeout=5, settle_seconds=0)  # type: ignore[arg-type]
    assert kafka.polled == 3
    report.assert_exact()


def test_a_missing_alert_is_reported_once_the_records_run_out() -> None:
    kafka = ArrivingKafka([[decision("tx-1", "alert")], []])
    report = LedgerReader(kafka).collect({"tx-1"}, timeout=5, settle_seconds=0)  # type: ignore[arg-type]
    assert report.unmatched_alerts == ["tx-1"]


def test_a_ledger_without_alerts_is_complete_at_its_last_decision() -> None:
    kafka = ArrivingKafka([[decision("tx-1", "no_alert")], [decision("tx-2", "no_alert")], [alert("tx-9")]])
    report = LedgerReader(kafka).collect({"tx-1", "tx-2"}, timeout=5, settle_seconds=0)  # type: ignore[arg-type]
    assert kafka.polled == 2
    report.assert_exact()
