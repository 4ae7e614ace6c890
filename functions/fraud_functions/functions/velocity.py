"""Velocity: how fast an account is paying, in sliding windows of a minute and an hour.

Every transaction's query is also its event: the account's count and
total amount go into the current bucket of each window (10-second buckets for
the minute, 1-minute buckets for the hour), and the buckets that have left their
window are dropped in the same write. Nothing is scheduled: a delayed expiry per
new bucket (the design before issue 18) cost the runtime a buffered message, a
timer and one more request for about a third of all transactions at 200/s, for
a bucket the next read ignores anyway. State stays bounded per account (at most
7 + 61 buckets); an account that stops paying keeps its dead buckets until the
state's TTL (the hour's span and two buckets after the last write) deletes them,
when every bucket has left its window.

The answer carries the counts and amounts and `spike_1m`: the last minute's
count over the account's usual per-minute count in the rest of the hour (the
time it has been seen, at most 59 minutes), so a card that suddenly pays five
times stands out while an account that always pays often does not. An account
seen for the first time has no usual rate: its spike is its count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from statefun import Message, ValueSpec, make_json_type

from fraud_functions.declarations import ACCOUNT, Resources, feature
from fraud_functions.keys import Answered
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import FeatureQuery, JsonMessage, _require
from fraud_functions.metrics import UNEXPECTED
from fraud_functions.outcomes import read_message

VELOCITY = "velocity"
STATE_TYPE = make_json_type("fraud.state/Velocity")


@dataclass(frozen=True)
class Window:
    name: str
    span_ms: int
    bucket_ms: int


MINUTE = Window("1m", 60_000, 10_000)
HOUR = Window("1h", 3_600_000, 60_000)
WINDOWS = {window.name: window for window in (MINUTE, HOUR)}


@dataclass(frozen=True)
class ExpireVelocity(JsonMessage, typename="fraud/ExpireVelocity"):
    """velocity → itself, delayed, sent before issue 18 only: one bucket of one window leaves it.

    A job upgraded from that version still holds these timers for up to an hour; each one prunes the
    account's windows like a query does (an unknown type would fail the request and restart the job)."""

    window: str
    bucket: int

    def check(self) -> None:
        _require(self.window in WINDOWS, self.TYPENAME, "window must be 1m or 1h")
        _require(isinstance(self.bucket, int), self.TYPENAME, "bucket must be a start time in ms")


def is_live(start_ms: int, window: Window, now_ms: int) -> bool:
    """Whether the bucket starting at `start_ms` still reaches into `window`'s span before `now_ms`."""
    return start_ms + window.bucket_ms + window.span_ms > now_ms


def prune(state: dict[str, Any], now_ms: int) -> dict[str, Any] | None:
    """The state without the buckets that have left their window; None once both windows are empty."""
    for window in WINDOWS.values():
        buckets = state["buckets"][window.name]
        for start in [start for start in buckets if not is_live(int(start), window, now_ms)]:
            del buckets[start]
    return state if any(state["buckets"].values()) else None


def record(state: dict[str, Any] | None, now_ms: int, amount: float) -> dict[str, Any]:
    """The state after one more payment at `now_ms`, the buckets that left their window dropped."""
    state = (state and prune(state, now_ms)) or {"first_seen_ms": now_ms, "buckets": {name: {} for name in WINDOWS}}
    for window in WINDOWS.values():
        bucket = state["buckets"][window.name].setdefault(str(now_ms - now_ms % window.bucket_ms), [0, 0.0])
        bucket[0] += 1
        bucket[1] += amount
    return state


def values(state: dict[str, Any], now_ms: int) -> dict[str, float]:
    """Counts and amounts per window at `now_ms`, and the minute's spike over the account's usual rate."""
    result: dict[str, float] = {}
    for window in WINDOWS.values():
        live = [
            bucket for start, bucket in state["buckets"][window.name].items() if is_live(int(start), window, now_ms)
        ]
        result[f"count_{window.name}"] = sum(bucket[0] for bucket in live)
        result[f"amount_{window.name}"] = round(sum(bucket[1] for bucket in live), 2)
    seen_minutes = min(HOUR.span_ms, now_ms - state["first_seen_ms"]) // MINUTE.span_ms
    earlier = max(0.0, result["count_1h"] - result["count_1m"])
    usual_per_minute = earlier / max(1, seen_minutes)
    result["spike_1m"] = round(result["count_1m"] / (1.0 + usual_per_minute), 4)
    return result


@feature(
    name=VELOCITY,
    key=ACCOUNT,
    summary="an account's payments in the last minute and hour (count, amount) and the minute's spike over its "
    "usual rate, in buckets pruned as they are written",
    provides=("count_1m", "amount_1m", "count_1h", "amount_1h", "spike_1m"),
    fallback=lambda settings: {"count_1m": 1, "amount_1m": 0.0, "count_1h": 1, "amount_1h": 0.0, "spike_1m": 1.0},
    takes=(ExpireVelocity.TYPENAME,),
    # The TTL deletes an idle account's windows, once every bucket has left its window.
    state=lambda settings: [
        ValueSpec(
            name="windows",
            type=STATE_TYPE,
            expire_after_write=timedelta(milliseconds=HOUR.span_ms + 2 * HOUR.bucket_ms),
        )
    ],
)
class Velocity:
    def __init__(self, resources: Resources, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self._clock_ms = clock_ms

    async def answer(self, context: MessageContext, query: FeatureQuery) -> Answered:
        now = self._clock_ms()
        state = record(context.storage.windows, now, float(query.amount))
        context.storage.windows = state
        return Answered(values(state, now))

    async def __call__(self, context: MessageContext, message: Message) -> None:
        function = context.address.typename
        if read_message(function, context, message, ExpireVelocity) is None:
            return
        state = context.storage.windows
        if state is None:
            UNEXPECTED.labels(function, "expire_without_state").inc()
            return
        remaining = prune(state, self._clock_ms())
        if remaining is None:
            del context.storage.windows
        else:
            context.storage.windows = remaining
