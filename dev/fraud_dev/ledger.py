"""What the reliability tests hold the pipeline to, read from Kafka with read_committed consumers.

For a set of transaction ids: every id has exactly one decision on `decisions`,
and `alerts` holds exactly one alert for each id decided `alert` and none for
any other. `LedgerReader` pins the topics' end offsets before a scenario starts,
so it reads only what the scenario caused.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fraud_common.contract import ALERTS_TOPIC, DEAD_LETTERS_TOPIC, DECISIONS_TOPIC, Outcome
from fraud_dev.pipeline import Kafka


@dataclass
class LedgerReport:
    """The decisions, alerts and dead letters that a scenario's transaction ids got."""

    ids: set[str]
    decisions: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    alerts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lost(self) -> list[str]:
        """Ids without any decision."""
        return sorted(self.ids - {tx for tx, found in self.decisions.items() if found})

    @property
    def duplicate_decisions(self) -> list[str]:
        return sorted(tx for tx, found in self.decisions.items() if len(found) > 1)

    @property
    def duplicate_alerts(self) -> list[str]:
        return sorted(tx for tx, found in self.alerts.items() if len(found) > 1)

    @property
    def alerted(self) -> set[str]:
        return {
            tx for tx, found in self.decisions.items() if any(Outcome(d["outcome"]) is Outcome.ALERT for d in found)
        }

    @property
    def unmatched_alerts(self) -> list[str]:
        """Alerts whose transaction was not decided `alert`, and alert decisions without an alert."""
        return sorted(set(self.alerts) ^ self.alerted)

    def outcomes(self) -> dict[Outcome, int]:
        """How many decisions of each outcome (a value that is not an Outcome fails here, loudly)."""
        counts: dict[Outcome, int] = defaultdict(int)
        for found in self.decisions.values():
            for decision in found:
                counts[Outcome(decision["outcome"])] += 1
        return dict(sorted(counts.items()))

    def degraded(self) -> int:
        return sum(1 for found in self.decisions.values() for d in found if d["degraded"])

    def assert_exact(self) -> None:
        """Exactly one decision per id, and alerts one-to-one with `alert` decisions."""
        assert not self.lost, f"{len(self.lost)} transactions have no decision, e.g. {self.lost[:5]}"
        assert not self.duplicate_decisions, f"decided more than once: {self.duplicate_decisions[:5]}"
        assert not self.duplicate_alerts, f"alerted more than once: {self.duplicate_alerts[:5]}"
        assert not self.unmatched_alerts, f"alerts and alert decisions differ: {self.unmatched_alerts[:5]}"


class LedgerReader:
    """Reads what happened to a set of transactions after the moment it was made."""

    TOPICS = (DECISIONS_TOPIC, ALERTS_TOPIC, DEAD_LETTERS_TOPIC)

    def __init__(self, kafka: Kafka) -> None:
        self.kafka = kafka
        self.since = {topic: kafka.end_offsets(topic) for topic in self.TOPICS}

    def collect(self, ids: set[str], timeout: float, settle_seconds: float = 12.0) -> LedgerReport:
        """Read until every id has a decision and every `alert` decision its alert (or `timeout`), then
        `settle_seconds` more.

        Alerts and decisions are committed by different Kafka sinks at the same checkpoint, each when its
        own transaction commits, so a decision can be readable before its alert: completion waits for both.
        A duplicate would come later still: reading on for two checkpoint intervals after that catches it.
        """
        report = LedgerReport(ids=set(ids))
        seen = 0
        complete_at: float | None = None

        def until(records: list[dict[str, Any]]) -> bool:
            nonlocal seen, complete_at
            for record in records[seen:]:
                self._file(report, record)
            seen = len(records)
            if report.lost or report.unmatched_alerts:
                return False
            complete_at = complete_at or time.monotonic()
            return time.monotonic() - complete_at >= settle_seconds

        self.kafka.read_topics(self.since, until, timeout + settle_seconds)
        return report

    @staticmethod
    def _file(report: LedgerReport, record: dict[str, Any]) -> None:
        value = record["value"]
        if record["topic"] == DEAD_LETTERS_TOPIC:
            report.dead_letters.append(value)
            return
        transaction_id = value.get("transaction_id")
        if transaction_id not in report.ids:
            return
        target = report.decisions if record["topic"] == DECISIONS_TOPIC else report.alerts
        target[transaction_id].append(value)
