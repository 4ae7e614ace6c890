"""Throughput, alert rate and transaction-to-alert latency for the status line.

Latency is measured by remembering when each transaction id was produced and
looking it up when an alert carrying that `transaction_id` arrives. A live run
produces forever and most transactions never alert, so that bookkeeping is an
LRU map bounded both in size and in age; latencies themselves are kept in a
fixed-size window. Memory therefore stays flat however long the tool runs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from fraud_simulator.metrics import COUNTERS, TRANSACTION_TO_ALERT


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile (`fraction` in 0..1); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class LatencyTracker:
    """Produce times of recent transactions and a window of measured latencies."""

    def __init__(self, max_pending: int = 100_000, ttl: float = 300.0, window: int = 1000) -> None:
        self.max_pending = max_pending
        self.ttl = ttl
        self._pending: OrderedDict[str, float] = OrderedDict()
        self._latencies: deque[float] = deque(maxlen=window)

    def __len__(self) -> int:
        return len(self._pending)

    def produced(self, transaction_id: str, at: float) -> None:
        """Remember when a transaction was sent; evicts the oldest beyond the bounds."""
        self._pending[transaction_id] = at
        self._pending.move_to_end(transaction_id)
        self._evict(at)

    def _evict(self, now: float) -> None:
        while len(self._pending) > self.max_pending:
            self._pending.popitem(last=False)
        # Insertion order is time order, so expired entries are at the front.
        while self._pending:
            oldest_id, oldest_at = next(iter(self._pending.items()))
            if now - oldest_at <= self.ttl:
                break
            del self._pending[oldest_id]

    def alerted(self, transaction_id: object, at: float) -> float | None:
        """Record the latency of an alert; None when the id is unknown, evicted or already measured."""
        if not isinstance(transaction_id, str):
            return None
        sent = self._pending.pop(transaction_id, None)
        if sent is None:
            return None
        latency = max(0.0, at - sent)
        self._latencies.append(latency)
        TRANSACTION_TO_ALERT.observe(latency)
        return latency

    def percentile(self, fraction: float) -> float | None:
        """A latency percentile over the window, in seconds."""
        return percentile(self._latencies, fraction)


@dataclass
class Counters:
    """Totals since start; mutated by the producer and consumer loops."""

    produced: int = 0
    delivery_failures: int = 0
    alerts: int = 0
    # Alerts for transactions this run sent; the rest are older (a backlog from before a restart) or foreign.
    own_alerts: int = 0
    malformed_alerts: int = 0
    confirmations: int = 0
    thresholds: int = 0

    def add(self, name: str, amount: int = 1) -> None:
        """Add to one total, and to its Prometheus counter."""
        setattr(self, name, getattr(self, name) + amount)
        COUNTERS[name].inc(amount)


def _millis(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}ms"


class StatusReporter:
    """Renders one status line; produced/s is measured since the previous line."""

    def __init__(
        self, counters: Counters, latency: LatencyTracker, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.counters = counters
        self.latency = latency
        self._clock = clock
        self._last_time = clock()
        self._last_produced = counters.produced

    def line(self) -> str:
        """The status line, e.g.
        'produced/s=10.0 produced=50 alerts=2 alert_rate=4.00% confirmations=0 latency_p50=120ms latency_p95=300ms'.
        """
        now = self._clock()
        c = self.counters
        elapsed = now - self._last_time
        per_second = (c.produced - self._last_produced) / elapsed if elapsed > 0 else 0.0
        self._last_time, self._last_produced = now, c.produced
        alert_rate = 100.0 * c.own_alerts / c.produced if c.produced else 0.0
        parts = [
            f"produced/s={per_second:.1f}",
            f"produced={c.produced}",
            f"alerts={c.own_alerts}",
            f"alert_rate={alert_rate:.2f}%",
            f"confirmations={c.confirmations}",
            f"latency_p50={_millis(self.latency.percentile(0.50))}",
            f"latency_p95={_millis(self.latency.percentile(0.95))}",
        ]
        if c.alerts > c.own_alerts:
            parts.append(f"earlier_alerts={c.alerts - c.own_alerts}")
        if c.malformed_alerts:
            parts.append(f"malformed_alerts={c.malformed_alerts}")
        if c.delivery_failures:
            parts.append(f"delivery_failures={c.delivery_failures}")
        return "[status] " + " ".join(parts)


async def report_periodically(
    reporter: StatusReporter,
    interval: float,
    out: TextIO,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Write a status line every `interval` seconds until cancelled; 0 disables it."""
    if interval <= 0:
        return
    while True:
        await sleep(interval)
        print(reporter.line(), file=out, flush=True)
