"""Velocity (on fraud/account): an account's payments per minute and hour, in buckets pruned as they are written,
and the minute's spike."""

from __future__ import annotations

import json

from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import feature_query, transaction
from fraud_functions.addresses import ALERTS_EGRESS, DEAD_LETTERS_EGRESS
from fraud_functions.declarations import ACCOUNT
from fraud_functions.functions.velocity import (
    VELOCITY,
    ExpireVelocity,
    prune,
    record,
    values,
)
from tests.unit.functions.conftest import make_runtime


def payments(times_ms: list[int], amount: float = 10.0):
    state = None
    for now in times_ms:
        state = record(state, now, amount)
    return state


def test_counts_and_amounts_per_window():
    state = payments([0, 5_000, 30_000, 90_000], amount=25.0)
    now = 95_000
    result = values(state, now)
    # The minute window holds the 10-second buckets that reach into the last 60 s: those of 30 s and 90 s.
    assert (result["count_1m"], result["amount_1m"]) == (2, 50.0)
    assert (result["count_1h"], result["amount_1h"]) == (4, 100.0)


def test_a_quiet_card_that_suddenly_pays_five_times_spikes_and_a_busy_account_does_not():
    burst = payments([0, 2_000, 4_000, 6_000, 8_000])
    assert values(burst, 8_000)["spike_1m"] == 5.0  # no usual rate yet: the spike is the count
    steady = payments(list(range(0, 30 * 60_000, 3_000)))  # every 3 s for half an hour: 20 a minute
    assert values(steady, 30 * 60_000)["spike_1m"] < 1.1


def test_a_write_drops_the_buckets_that_left_their_window_and_an_idle_account_starts_afresh():
    state = payments([0, 1_000, 11_000, 75_000])
    # At 75 s the minute buckets of 0 s and 10 s ended at 70 s and 80 s: only the one of 10 s is still live.
    assert sorted(state["buckets"]["1m"]) == ["10000", "70000"]
    assert state["buckets"]["1h"] == {"0": [3, 30.0], "60000": [1, 10.0]}
    later = record(state, 4_000_000, 5.0)  # every bucket has left its window: a new account's state
    assert later == {"first_seen_ms": 4_000_000, "buckets": {"1m": {"4000000": [1, 5.0]}, "1h": {"3960000": [1, 5.0]}}}


def test_state_stays_bounded_whatever_the_rate():
    state = payments(list(range(0, 3_600_000, 100)))  # ten a second for an hour
    assert len(state["buckets"]["1m"]) <= 7 and len(state["buckets"]["1h"]) <= 61


async def test_the_function_answers_every_transaction_without_scheduling_anything(runtime):
    for index in range(3):
        query = feature_query(ACCOUNT.typename, "0xACC", f"t{index}", account="0xACC", amount=100)
        (out,) = await runtime.invoke([query])
        answer = json.loads(out.value)["answers"][VELOCITY]
    assert (answer["count_1m"], answer["amount_1m"], answer["count_1h"]) == (3, 300.0, 3)
    assert runtime.delayed == []  # no timer, no buffered message, no later request


def test_pruning_empties_the_state_once_every_bucket_has_left_its_window():
    assert prune(payments([0, 30_000]), 3_600_000 + 60_000 - 1) is not None  # the hour's bucket of 0 s lives
    assert prune(payments([0, 30_000]), 3_600_000 + 60_000) is None


async def test_an_expiry_left_by_an_upgraded_job_prunes_the_windows_like_a_query(runtime):
    query = feature_query(ACCOUNT.typename, "0xACC", "t0", account="0xACC", amount=100)
    await runtime.invoke([query])
    expiry = Envelope(
        ACCOUNT.typename, "0xACC", ExpireVelocity.TYPENAME, json.dumps({"window": "1m", "bucket": 0}).encode()
    )
    assert await runtime.invoke([expiry]) == []
    stored = runtime.value_of(ACCOUNT.typename, "0xACC", "windows")
    assert len(json.loads(stored.value)["buckets"]["1m"]) == 1, "its buckets are still live"
    stored.value = json.dumps(payments([0, 30_000])).encode()  # buckets of 1970: long out of their windows
    assert await runtime.invoke([expiry]) == []
    assert runtime.value_of(ACCOUNT.typename, "0xACC", "windows") is None
    assert [e for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS] == []


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
