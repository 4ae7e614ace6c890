"""fraud-count: the sliding window built from delayed self-messages, answered to every transaction."""

from __future__ import annotations

import json

from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import confirmation, lookup_query
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.functions.fraud_count import FRAUD_COUNT
from fraud_functions.messages import ExpireFraud, LookupAnswer
from fraud_functions.metrics import UNEXPECTED
from tests.unit.counters import counted
from tests.unit.functions.conftest import make_runtime


async def query(runtime, account: str) -> int:
    out = await runtime.invoke([lookup_query(FRAUD_COUNT, account, "t1", account=account)])
    assert [(m.target, m.id, m.typename) for m in out] == [(TRANSACTION_MANAGER, "t1", LookupAnswer.TYPENAME)]
    answer = json.loads(out[0].value)
    assert answer["lookup"] == "fraud_count"
    return answer["values"]["count"]


async def test_confirmations_count_and_schedule_an_expiry_after_the_window(settings, merchants):
    runtime = make_runtime(settings, merchants, fraud_window_seconds=90)
    await runtime.deliver(confirmation("acc"), confirmation("acc"))
    assert await query(runtime, "acc") == 2
    assert [(d.envelope.target, d.envelope.id, d.envelope.typename, d.delay_ms) for d in runtime.delayed] == [
        (FRAUD_COUNT, "acc", ExpireFraud.TYPENAME, 90_000)
    ] * 2


async def test_expiry_decrements_and_deletes_at_zero(runtime):
    await runtime.deliver(confirmation("acc"), confirmation("acc"))
    first, second = runtime.delayed
    runtime.delayed = [first]
    await runtime.fire_delayed()
    assert await query(runtime, "acc") == 1
    runtime.delayed = [second]
    await runtime.fire_delayed()
    assert await query(runtime, "acc") == 0
    assert runtime.value_of(FRAUD_COUNT, "acc", "count") is None  # deleted, not stored as 0


async def test_expiry_without_state_never_goes_negative_or_raises(runtime):
    before = counted(UNEXPECTED, FRAUD_COUNT, "expire_without_count")
    # The shape an earlier version scheduled (its fields are ignored now): still an expiry.
    expire = Envelope(
        FRAUD_COUNT,
        "ghost",
        ExpireFraud.TYPENAME,
        json.dumps({"account": "ghost", "confirmed_at_ms": 1}).encode(),
        caller=(FRAUD_COUNT, "ghost"),
    )
    await runtime.deliver(expire, expire)
    assert await query(runtime, "ghost") == 0
    assert runtime.value_of(FRAUD_COUNT, "ghost", "count") is None
    assert counted(UNEXPECTED, FRAUD_COUNT, "expire_without_count") == before + 2


async def test_query_without_a_caller_is_counted_not_answered(runtime):
    before = counted(UNEXPECTED, FRAUD_COUNT, "no_caller")
    orphan = lookup_query(FRAUD_COUNT, "acc")
    orphan.caller = None
    assert await runtime.invoke([orphan]) == []
    assert counted(UNEXPECTED, FRAUD_COUNT, "no_caller") == before + 1
