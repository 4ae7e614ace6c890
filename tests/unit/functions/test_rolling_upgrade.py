"""A job upgraded across ADR 0016: what it still holds for the retired function types is dropped, never failed.

Its checkpoint holds fraud-count's and velocity's timers, and queries and model
inputs in flight, addressed to types that no longer answer features. A type the
server did not serve would fail the request and restart the job in a loop; the
retired types count and drop such messages instead and delete the old state
they are handed. The messages are written out by hand, in the shapes the
earlier versions sent.
"""

from __future__ import annotations

import json

import pytest
from statefun.request_reply_pb2 import TypedValue

from fraud_dev.mini_runtime import Envelope
from fraud_functions.addresses import DEAD_LETTERS_EGRESS, TRANSACTION_MANAGER
from fraud_functions.functions.retired import RETIRED
from fraud_functions.metrics import UNEXPECTED
from tests.unit.counters import counted

QUERY = {
    "transaction_id": "tx-old",
    "account": "0xACC",
    "merchant": "Hypergrid",
    "amount": 10,
    "timestamp": "2026-11-27T10:00:00",
}


@pytest.mark.parametrize(
    "target, address_id, typename, value",
    [
        ("fraud/fraud-count", "0xACC", "fraud/ExpireFraud", {}),
        ("fraud/fraud-count", "0xACC", "fraud/LookupQuery", QUERY),
        ("fraud/velocity", "0xACC", "fraud/ExpireVelocity", {"window": "1h", "bucket": 60_000}),
        ("fraud/velocity", "0xACC", "fraud/LookupQuery", QUERY),
        ("fraud/threshold", "0xACC", "fraud/LookupQuery", QUERY),
        ("fraud/model", "tx-old", "fraud/ModelInput", {"transaction_id": "tx-old", "values": {}}),
    ],
)
async def test_a_message_for_a_retired_type_is_counted_and_dropped(runtime, target, address_id, typename, value):
    before = counted(UNEXPECTED, target, RETIRED)
    message = Envelope(target, address_id, typename, json.dumps(value).encode(), caller=(TRANSACTION_MANAGER, "tx-old"))
    assert await runtime.invoke([message]) == []
    assert counted(UNEXPECTED, target, RETIRED) == before + 1
    assert [e for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS] == []


async def test_the_old_fraud_count_is_deleted_by_its_last_timer(runtime):
    expire = Envelope("fraud/fraud-count", "0xACC", "fraud/ExpireFraud", b"{}")
    await runtime.invoke([expire])  # registers the old state spec
    typed = TypedValue(typename="io.statefun.types/int", has_value=True)
    typed.value = b"\x08\x02"  # IntType's protobuf wrapper of 2
    runtime.state[("fraud/fraud-count", "0xACC")] = {"count": typed}
    await runtime.invoke([expire])
    assert runtime.value_of("fraud/fraud-count", "0xACC", "count") is None, "kept without a TTL: deleted here"
