"""The fraud count (on fraud/account): the sliding window built from delayed self-messages, in every answer."""

from __future__ import annotations

import json

from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import confirmation
from fraud_functions.declarations import ACCOUNT
from fraud_functions.functions.fraud_count import FRAUD_COUNT
from fraud_functions.messages import ExpireFraud
from fraud_functions.metrics import UNEXPECTED
from tests.unit.counters import counted
from tests.unit.functions.conftest import feature_values, make_runtime

ACCOUNTS = ACCOUNT.typename


async def query(runtime, account: str) -> int:
    return (await feature_values(runtime, ACCOUNT, account, FRAUD_COUNT, account=account))["count"]


async def test_confirmations_count_and_schedule_an_expiry_after_the_window(settings, merchants):
    runtime = make_runtime(settings, merchants, fraud_window_seconds=90)
    await runtime.deliver(confirmation("acc"), confirmation("acc"))
    assert await query(runtime, "acc") == 2
    expiries = [d for d in runtime.delayed if d.envelope.typename == ExpireFraud.TYPENAME]  # velocity has its own
    assert [(d.envelope.target, d.envelope.id, d.delay_ms) for d in expiries] == [(ACCOUNTS, "acc", 90_000)] * 2


async def test_expiry_decrements_and_deletes_at_zero(runtime):
    await runtime.deliver(confirmation("acc"), confirmation("acc"))
    first, second = runtime.delayed
    runtime.delayed = [first]
    await runtime.fire_delayed()
    assert await query(runtime, "acc") == 1
    runtime.delayed = [second]
    await runtime.fire_delayed()
    assert await query(runtime, "acc") == 0
    assert runtime.value_of(ACCOUNTS, "acc", "count") is None  # deleted, not stored as 0


async def test_expiry_without_state_never_goes_negative_or_raises(runtime):
    before = counted(UNEXPECTED, ACCOUNTS, "expire_without_count")
    # The shape an earlier version scheduled (its fields are ignored now): still an expiry.
    expire = Envelope(
        ACCOUNTS,
        "ghost",
        ExpireFraud.TYPENAME,
        json.dumps({"account": "ghost", "confirmed_at_ms": 1}).encode(),
        caller=(ACCOUNTS, "ghost"),
    )
    await runtime.deliver(expire, expire)
    assert await query(runtime, "ghost") == 0
    assert runtime.value_of(ACCOUNTS, "ghost", "count") is None
    assert counted(UNEXPECTED, ACCOUNTS, "expire_without_count") == before + 2
