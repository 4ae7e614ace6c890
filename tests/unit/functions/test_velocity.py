"""Velocity (on fraud/account): an account's payments per minute and hour, from delayed self-messages, and the
minute's spike."""

from __future__ import annotations

import json

from fraud_dev.scripted import feature_query, transaction
from fraud_functions.addresses import ALERTS_EGRESS
from fraud_functions.declarations import ACCOUNT
from fraud_functions.functions.velocity import (
    VELOCITY,
    ExpireVelocity,
    expire,
    record,
    values,
)
from tests.unit.functions.conftest import make_runtime


def payments(times_ms: list[int], amount: float = 10.0):
    state = None
    opened_all = []
    for now in times_ms:
        state, opened = record(state, now, amount)
        opened_all.extend(opened)
    return state, opened_all


def test_counts_and_amounts_per_window():
    state, _ = payments([0, 5_000, 30_000, 90_000], amount=25.0)
    now = 95_000
    result = values(state, now)
    # The minute window holds the 10-second buckets that reach into the last 60 s: those of 30 s and 90 s.
    assert (result["count_1m"], result["amount_1m"]) == (2, 50.0)
    assert (result["count_1h"], result["amount_1h"]) == (4, 100.0)


def test_a_quiet_card_that_suddenly_pays_five_times_spikes_and_a_busy_account_does_not():
    burst, _ = payments([0, 2_000, 4_000, 6_000, 8_000])
    assert values(burst, 8_000)["spike_1m"] == 5.0  # no usual rate yet: the spike is the count
    steady, _ = payments(list(range(0, 30 * 60_000, 3_000)))  # every 3 s for half an hour: 20 a minute
    assert values(steady, 30 * 60_000)["spike_1m"] < 1.1


def test_each_new_bucket_schedules_its_expiry_and_expiries_empty_the_state():
    state, opened = payments([0, 1_000, 11_000])
    assert [(e.window, e.bucket) for e in opened] == [("1m", 0), ("1h", 0), ("1m", 10_000)]
    for expiry in opened:
        state = expire(state, expiry)
    assert state is None


def test_state_stays_bounded_whatever_the_rate():
    state, _ = payments(list(range(0, 3_600_000, 100)))  # ten a second for an hour
    assert len(state["buckets"]["1m"]) <= 360 and len(state["buckets"]["1h"]) <= 61


async def test_the_function_answers_every_transaction_and_expires_its_buckets(runtime):
    for index in range(3):
        query = feature_query(ACCOUNT.typename, "0xACC", f"t{index}", account="0xACC", amount=100)
        (out,) = await runtime.invoke([query])
        answer = json.loads(out.value)["answers"][VELOCITY]
    assert (answer["count_1m"], answer["amount_1m"], answer["count_1h"]) == (3, 300.0, 3)
    assert {d.envelope.typename for d in runtime.delayed} == {ExpireVelocity.TYPENAME}
    await runtime.fire_delayed()
    assert runtime.value_of(ACCOUNT.typename, "0xACC", "windows") is None


async def test_a_burst_from_one_card_alerts_where_single_payments_do_not(settings, merchants):
    merchants.scores["Middleshop"] = 50  # with 800 USD: 0.13 alone, over the threshold from the fifth in a minute
    runtime = make_runtime(settings, merchants)
    for index in range(6):
        await runtime.deliver(transaction(f"burst-{index}", account="0xBURST", merchant="Middleshop", amount=800))
    await runtime.deliver(transaction("single", account="0xQUIET", merchant="Middleshop", amount=800))
    alerted = [e.json() for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert "single" not in {a["transaction_id"] for a in alerted}
    assert {a["transaction_id"] for a in alerted} >= {"burst-4", "burst-5"}
    assert all("velocity_spike=" in " ".join(a["reasons"]) for a in alerted)
