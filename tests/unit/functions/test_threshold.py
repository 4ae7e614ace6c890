"""Per-account thresholds (on fraud/account): set from the thresholds topic, in every answer, deciding instead of
the model's."""

from __future__ import annotations

import json

import pytest

from fraud_common.contract import THRESHOLD_RECORD, Outcome
from fraud_dev.ingress_records import ingress_record
from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import transaction
from fraud_functions.addresses import (
    ALERTS_EGRESS,
    DEAD_LETTERS_EGRESS,
    DECISIONS_EGRESS,
)
from fraud_functions.declarations import ACCOUNT
from fraud_functions.functions.threshold import THRESHOLD
from tests.unit.functions.conftest import feature_values


def threshold_record(account: str, value: bytes) -> Envelope:
    address, payload = ingress_record("thresholds", account.encode(), value)
    return Envelope(ACCOUNT.typename, address, THRESHOLD_RECORD, payload)


def set_threshold(account: str, threshold) -> Envelope:
    return threshold_record(account, json.dumps({"account": account, "threshold": threshold}).encode())


async def answer(runtime, account: str) -> dict:
    return await feature_values(runtime, ACCOUNT, account, THRESHOLD, account=account)


async def test_an_account_without_a_threshold_answers_nothing_and_the_latest_one_counts(runtime):
    assert await answer(runtime, "0xACC") == {}
    await runtime.deliver(set_threshold("0xACC", 90), set_threshold("0xACC", 35))
    assert await answer(runtime, "0xACC") == {"threshold": 35.0}


async def test_the_threshold_is_kept_for_its_ttl(runtime):
    await runtime.deliver(set_threshold("0xACC", 50))
    assert (
        runtime.registered[ACCOUNT.typename]["threshold"].expiration_spec.expire_after_millis == 30 * 24 * 3600 * 1000
    )


async def test_an_accounts_own_threshold_decides_instead_of_the_models(runtime, merchants):
    # A merchant scored 50 and 300 USD: about 0.07, below the model's 0.8, above an account's own 1 (0.01).
    merchants.scores["Mildshop"] = 50
    await runtime.deliver(set_threshold("0xLOW", 1))
    await runtime.deliver(
        transaction("tx-custom", account="0xLOW", merchant="Mildshop", amount=300),
        transaction("tx-default", account="0xOTHER", merchant="Mildshop", amount=300),
    )
    decisions = {e.key: e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS}
    custom, default = decisions["tx-custom"], decisions["tx-default"]
    assert (Outcome(custom["outcome"]), custom["threshold"], custom["threshold_source"]) == (
        Outcome.ALERT,
        0.01,
        "account",
    )
    assert (Outcome(default["outcome"]), default["threshold"], default["threshold_source"]) == (
        Outcome.NO_ALERT,
        0.8,
        "model",
    )
    assert [e.json()["threshold"] for e in runtime.egress if e.egress == ALERTS_EGRESS] == [0.01]


@pytest.mark.parametrize(
    "value, reason",
    [
        (b'{"account": "0xACC"}', "missing_field"),
        (b'{"account": "0xACC", "threshold": "90"}', "wrong_type"),
        (b'{"account": "0xACC", "threshold": true}', "wrong_type"),
        (b'{"account": "0xACC", "threshold": 0}', "threshold_out_of_range"),
        (b'{"account": "0xACC", "threshold": 101}', "threshold_out_of_range"),
        (b'{"account": "0xACC", "threshold": NaN}', "non_finite_number"),
        (b'{"account": "0xOTHER", "threshold": 50}', "key_mismatch"),
        (b"{nope", "invalid_json"),
    ],
)
async def test_a_malformed_threshold_record_is_dead_lettered_and_changes_nothing(runtime, value, reason):
    await runtime.deliver(set_threshold("0xACC", 60))
    await runtime.deliver(threshold_record("0xACC", value))
    letters = [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]
    assert [(d["reason"], d["source"], d["topic"]) for d in letters] == [(reason, "kafka:thresholds", "thresholds")]
    assert await answer(runtime, "0xACC") == {"threshold": 60.0}
