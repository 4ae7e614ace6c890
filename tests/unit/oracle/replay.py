"""Recorded input streams replayed through the real functions in process, on a clock the replay sets.

The mini runtime (fraud_dev.mini_runtime) speaks the request-reply protocol to the real handler; here it
gets each record of tests/unit/oracle/recorded_streams.json at its recorded time, fires every delayed
message (decision deadlines, velocity buckets and confirmations leaving their windows) when it falls due,
and the functions read that clock instead of the machine's. So the oracle knows exactly when each
transaction was handled, and a mutation of the code under test shows within a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fraud_common.contract import DECISIONS_TOPIC, Transaction
from fraud_dev.mini_runtime import Delayed, MiniRuntime
from fraud_dev.scripted import confirmation, transaction
from fraud_functions.functions import merchant, transaction_manager, velocity
from tests.support.oracle import Confirmation, Inputs, ThresholdRecord
from tests.unit.functions.test_threshold import set_threshold

STREAMS = Path(__file__).with_name("recorded_streams.json")


def recorded_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(STREAMS.read_text(encoding="utf-8"))["events"]
    return events


def recorded_inputs(events: list[dict[str, Any]]) -> Inputs:
    """What the oracle is told: the records and the times the replay hands them to the runtime."""
    transactions, confirmations, thresholds, handled = [], [], [], {}
    for event in events:
        record, at = event["record"], event["at_ms"]
        if event["topic"] == "transactions":
            transactions.append(Transaction.from_record(record["transaction_id"], record))
            handled[record["transaction_id"]] = at
        elif event["topic"] == "confirmed":
            confirmations.append(Confirmation(record["account"], at))
        else:
            thresholds.append(ThresholdRecord(record["account"], record["threshold"], at))
    return Inputs(transactions, confirmations, thresholds, handled_at_ms=handled)


@dataclass
class Clock:
    now_ms: int = 0

    def time(self) -> float:
        return self.now_ms / 1000


@dataclass
class Replay:
    runtime: MiniRuntime
    clock: Clock
    due_ms: dict[int, int] = field(default_factory=dict)  # id(Delayed) → when it fires

    async def run(self, events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Every record at its time; returns the decisions by transaction id."""
        for event in events:
            await self._fire_until(event["at_ms"])
            self.clock.now_ms = event["at_ms"]
            await self._deliver(envelope(event))
        decisions: dict[str, list[dict[str, Any]]] = {}
        for egress in self.runtime.egress:
            if egress.topic == DECISIONS_TOPIC:
                decisions.setdefault(egress.key, []).append(egress.json())
        return decisions

    async def _deliver(self, item: Any) -> None:
        await self.runtime.deliver(item, max_steps=1000)
        for delayed in self.runtime.delayed:
            self.due_ms.setdefault(id(delayed), self.clock.now_ms + delayed.delay_ms)

    async def _fire_until(self, until_ms: int) -> None:
        while due := [d for d in self.runtime.delayed if self.due_ms[id(d)] <= until_ms]:
            first: Delayed = min(due, key=lambda d: self.due_ms[id(d)])
            self.runtime.delayed.remove(first)
            self.clock.now_ms = self.due_ms.pop(id(first))
            await self._deliver(first.envelope)


def envelope(event: dict[str, Any]) -> Any:
    record = event["record"]
    if event["topic"] == "transactions":
        fields = {name: record[name] for name in ("account", "merchant", "amount", "timestamp")}
        return transaction(record["transaction_id"], **fields)
    if event["topic"] == "confirmed":
        return confirmation(record["account"])
    return set_threshold(record["account"], record["threshold"])


def use_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The functions that read the time read the replay's clock."""
    clock = Clock()
    for module in (merchant, transaction_manager, velocity):
        monkeypatch.setattr(module, "time", SimpleNamespace(time=clock.time))
    return clock
