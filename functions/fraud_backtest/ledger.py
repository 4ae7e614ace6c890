"""The backtest's input: scored decisions and the confirmed frauds, read from Kafka or from a file it exported.

A decision records the values its model was given (`inputs`, by source), so any candidate whose features read
those sources can be rescored exactly. The `confirmed` topic labels accounts, not transactions: a decision is
labelled fraud when its account was confirmed at or after the start of the range (a confirmation comes after
the payments it is about). Decisions without `inputs` (written before they were recorded) or without a score
(`dead_letter`, `expired`) are counted and left out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraud_common.contract import CONFIRMED_TOPIC, DECISIONS_TOPIC, Outcome
from fraud_common.kafka import read_to_end
from fraud_common.kafka_security import KafkaConnection


class LedgerError(ValueError):
    """The ledger cannot be read, or holds nothing to backtest."""


@dataclass(frozen=True)
class Entry:
    """One record as the export file keeps it: its topic, its Kafka timestamp (ms) and its JSON value."""

    topic: str
    timestamp_ms: int
    value: dict[str, Any]

    def to_line(self) -> str:
        return json.dumps({"topic": self.topic, "timestamp_ms": self.timestamp_ms, "value": self.value})


@dataclass(frozen=True)
class Ledger:
    """The scored decisions in the range, the accounts confirmed as fraud, and what was left out and why."""

    decisions: list[dict[str, Any]]
    confirmed: set[str]
    left_out: dict[str, int] = field(default_factory=dict)

    def label(self, decision: dict[str, Any]) -> bool:
        return decision.get("account") in self.confirmed

    def sources(self) -> set[str]:
        """The sources every decision records (a candidate may read only these)."""
        recorded = [set(d["inputs"]) for d in self.decisions]
        return set.intersection(*recorded) if recorded else set()


def select(entries: Iterable[Entry], since_ms: int, until_ms: int) -> Ledger:
    """The ledger of a time range: decisions decided in [since, until], confirmations from `since` on."""
    decisions: dict[str, dict[str, Any]] = {}
    confirmed: set[str] = set()
    left_out: dict[str, int] = {}
    for entry in entries:
        if entry.topic == CONFIRMED_TOPIC:
            if entry.timestamp_ms >= since_ms and isinstance(entry.value.get("account"), str):
                confirmed.add(entry.value["account"])
            continue
        value = entry.value
        if not since_ms <= int(value.get("decided_at_ms", -1)) <= until_ms:
            continue
        why = _unusable(value)
        if why:
            left_out[why] = left_out.get(why, 0) + 1
            continue
        decisions[value["transaction_id"]] = value  # a replayed dead letter's later decision supersedes it
    return Ledger(list(decisions.values()), confirmed, left_out)


def _unusable(value: dict[str, Any]) -> str | None:
    if value.get("outcome") not in (Outcome.ALERT.value, Outcome.NO_ALERT.value):
        return "not scored (dead_letter, expired)"
    if not isinstance(value.get("inputs"), dict) or not value["inputs"]:
        return "no recorded inputs (written before decisions recorded them)"
    return None


def read_file(path: Path) -> list[Entry]:
    """The entries of a file written by `export` (one JSON object a line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise LedgerError(f"cannot read ledger file {path}: {err}") from None
    entries = []
    for number, line in enumerate(lines, 1):
        try:
            item = json.loads(line)
            entries.append(Entry(str(item["topic"]), int(item["timestamp_ms"]), dict(item["value"])))
        except (ValueError, KeyError, TypeError) as err:
            raise LedgerError(f"ledger file {path}, line {number}: not an exported record ({err})") from None
    return entries


def write_file(path: Path, entries: Iterable[Entry]) -> int:
    lines = [entry.to_line() for entry in entries]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def read_kafka(connection: KafkaConnection, timeout: float = 120) -> list[Entry]:
    """Every committed record of `decisions` and `confirmed`, as entries (unreadable values are skipped)."""

    async def read() -> list[Entry]:
        entries = []
        for topic in (DECISIONS_TOPIC, CONFIRMED_TOPIC):
            for record in await read_to_end(connection, topic, timeout):
                try:
                    value = json.loads(record.value)
                except (TypeError, ValueError):
                    continue  # a poison record on `confirmed` is the functions' to dead-letter, not a label
                if isinstance(value, dict):
                    entries.append(Entry(topic, int(record.timestamp), value))
        return entries

    return asyncio.run(read())
