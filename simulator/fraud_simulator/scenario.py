"""Scenario mode: a fixed, seeded set of transactions and a machine-readable verdict.

End-to-end tests and benchmarks need to know exactly what went in (the same
seed gives byte-identical records) and exactly what came out: which of *our*
transactions alerted, whether any alert was delivered twice (an exactly-once
violation) and whether alerts arrived for transactions we never sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from fraud_common.contract import ContractError, Transaction, parse_alert
from fraud_simulator.kafka_io import RecordSink, RecordSource
from fraud_simulator.loops import Metrics, finish, produce_transactions
from fraud_simulator.rate_limiter import TokenBucket

log = logging.getLogger(__name__)

ALERT_FIELDS = ("transaction_id", "account", "merchant", "amount", "score")


def alert_entry(alert: dict[str, Any]) -> dict[str, Any]:
    """The summary's view of one alert (missing fields become null)."""
    return {name: alert.get(name) for name in ALERT_FIELDS}


class ScenarioCollector:
    """Classifies alerts against the scenario's transaction ids."""

    def __init__(self, transactions: Sequence[Transaction], metrics: Metrics | None = None) -> None:
        self._order = {t.transaction_id: index for index, t in enumerate(transactions)}
        self._metrics = metrics
        self._alerts: dict[str, dict[str, Any]] = {}
        self.duplicates: list[str] = []
        self.unknown: list[dict[str, Any]] = []
        self.malformed = 0

    def handle(self, raw: bytes | None) -> None:
        """Record one alert value; unreadable values are counted, never raised."""
        try:
            alert = parse_alert(raw)
        except ContractError as err:
            self.malformed += 1
            if self._metrics:
                self._metrics.counters.add("malformed_alerts")
            log.warning("unreadable alert skipped", extra={"reason": err.reason, "detail": err.detail})
            return
        if self._metrics:
            self._metrics.alert_received(alert)
        transaction_id = alert.get("transaction_id")
        if not isinstance(transaction_id, str) or transaction_id not in self._order:
            self.unknown.append(alert_entry(alert))
        elif transaction_id in self._alerts:
            self.duplicates.append(transaction_id)
        else:
            self._alerts[transaction_id] = alert_entry(alert)

    def summary(self, produced: int) -> dict[str, Any]:
        """The JSON summary; alerts in scenario order so equal runs print equal summaries."""
        alerts = sorted(self._alerts.values(), key=lambda entry: self._order[entry["transaction_id"]])
        return {
            "produced": produced,
            "alerts": alerts,
            "duplicates": list(self.duplicates),
            "unknown": list(self.unknown),
            "malformed": self.malformed,
        }


async def collect(source: RecordSource, collector: ScenarioCollector) -> None:
    """Feed every alert of `source` to `collector` until the source ends or is cancelled."""
    async for record in source:
        collector.handle(record.value)


async def run_scenario(
    transactions: Sequence[Transaction],
    sink: RecordSink,
    source: RecordSource,
    limiter: TokenBucket,
    timeout: float,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
) -> dict[str, Any]:
    """Produce all `transactions`, then keep collecting alerts for `timeout` seconds; return the summary.

    The alert source must already be positioned (at the end of `alerts`)
    before this is called, so alerts are collected while producing too. No
    confirmations are sent: they would change later scores and make runs
    incomparable. A stop request ends both phases early; the summary is still returned.
    """
    metrics = metrics or Metrics()
    collector = ScenarioCollector(transactions, metrics)
    collecting = asyncio.create_task(collect(source, collector))
    stopped = asyncio.create_task(stop.wait())
    try:
        produced = await produce_transactions(transactions, sink, limiter, metrics, stop)
        await sink.flush()
        if not stop.is_set():
            done, _ = await asyncio.wait({collecting, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if collecting in done and not collecting.cancelled() and collecting.exception() is not None:
                raise collecting.exception()  # type: ignore[misc]
    finally:
        await finish(collecting, stopped)
    return collector.summary(produced)


def summary_json(summary: dict[str, Any]) -> str:
    """One line of JSON, stable key order, for stdout."""
    return json.dumps(summary, ensure_ascii=False, separators=(",", ":"))
