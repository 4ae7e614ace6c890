"""The decisions ledger: one decision per transaction id, whatever happens to the transaction."""

from __future__ import annotations

import json

import pytest

from fraud_common.contract import Outcome
from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import ScriptedMerchantClient, transaction
from fraud_functions.addresses import (
    DEAD_LETTERS_EGRESS,
    DECISIONS_EGRESS,
    TRANSACTION_MANAGER,
)
from fraud_functions.declarations import ACCOUNT, MERCHANT, features
from fraud_functions.messages import FeatureAnswers, FeatureQuery
from fraud_functions.metrics import DECISIONS, UNEXPECTED
from tests.unit.counters import counted
from tests.unit.functions.conftest import make_runtime


def decisions(runtime) -> list[dict]:
    return [e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS]


def dead_letter_reasons(runtime) -> list[str]:
    return [e.json()["reason"] for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]


def decided(outcome: Outcome, degraded: bool) -> float:
    return counted(DECISIONS, outcome, "true" if degraded else "false")


async def test_an_alert_and_a_pass_each_get_one_decision_keyed_by_transaction_id(runtime):
    await runtime.deliver(
        transaction("tx-alert", merchant="Hypergrid", amount=950), transaction("tx-pass", merchant="Calmshop", amount=3)
    )
    by_id = {e.key: e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS}
    assert set(by_id) == {"tx-alert", "tx-pass"} and len(decisions(runtime)) == 2
    alert, passed = by_id["tx-alert"], by_id["tx-pass"]
    assert (alert["outcome"], alert["threshold"], alert["degraded"]) == (Outcome.ALERT, 0.8, [])
    assert alert["score"] >= 0.8 and alert["model_version"] and alert["merchant"] == "Hypergrid"
    assert passed["outcome"] == Outcome.NO_ALERT and passed["score"] < 0.8 and passed["reason"] is None
    assert [d for d in runtime.delayed if d.envelope.target == TRANSACTION_MANAGER] == [], (
        "the decision cancels the deadline"
    )


async def test_a_degraded_decision_that_suppressed_an_alert_is_visible_and_counted(settings):
    runtime = make_runtime(settings, ScriptedMerchantClient({}), merchant_fallback_score=50.0)
    before = decided(Outcome.NO_ALERT, degraded=True)
    await runtime.deliver(transaction("tx-deg", merchant="Down", amount=5))
    (decision,) = decisions(runtime)
    assert (decision["outcome"], decision["degraded"]) == (Outcome.NO_ALERT, ["merchant"])
    assert decided(Outcome.NO_ALERT, degraded=True) == before + 1


async def test_a_malformed_transaction_is_decided_dead_letter_with_its_reason(runtime):
    await runtime.deliver(transaction("tx-bad", raw=b"{nope"))
    (decision,) = decisions(runtime)
    assert (decision["transaction_id"], decision["outcome"], decision["reason"]) == (
        "tx-bad",
        Outcome.DEAD_LETTER,
        "invalid_json",
    )
    assert "account" not in decision and decision["score"] is None
    assert dead_letter_reasons(runtime) == ["invalid_json"]


async def test_features_that_never_answer_are_scored_with_their_fallbacks_at_the_deadline(runtime):
    (query,) = await runtime.invoke([transaction("tx-slow")])  # the query is never answered
    assert (query.target, query.typename) == (ACCOUNT.typename, FeatureQuery.TYPENAME)
    (deadline,) = runtime.delayed
    assert deadline.delay_ms == 120_000 and deadline.envelope.id == "tx-slow"
    before = decided(Outcome.NO_ALERT, degraded=True) + decided(Outcome.ALERT, degraded=True)
    assert await runtime.invoke([deadline.envelope]) == [], "scored in transaction-manager: no model round trip"
    (decision,) = decisions(runtime)
    assert decision["outcome"] in (Outcome.ALERT, Outcome.NO_ALERT) and decision["reason"] is None
    assert sorted(decision["degraded"]) == sorted(item.name for item in features())
    assert decision["inputs"]["merchant.score"] == 50.0 and decision["inputs"]["fraud_count.count"] == 0
    assert decided(Outcome.NO_ALERT, degraded=True) + decided(Outcome.ALERT, degraded=True) == before + 1
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-slow", "pending") is None


async def test_a_merchant_answer_later_than_the_deadline_is_decided_with_fallbacks_and_the_late_answer_dropped(
    runtime,
):
    (to_account,) = await runtime.invoke([transaction("tx-late")])
    (to_merchant,) = await runtime.invoke([to_account])  # the account answers; the merchant is late
    assert (to_merchant.target, to_merchant.id) == (MERCHANT.typename, "Hypergrid")
    deadline = runtime.delayed.pop(0)
    assert deadline.envelope.target == TRANSACTION_MANAGER
    await runtime.invoke([deadline.envelope])
    (decision,) = decisions(runtime)
    # The account's values travel with the query, so a merchant later than the deadline takes them along.
    assert sorted(decision["degraded"]) == sorted(item.name for item in features())
    assert decision["inputs"]["merchant.score"] == 50.0 and decision["inputs"]["velocity.spike_1m"] == 1.0
    before = counted(UNEXPECTED, TRANSACTION_MANAGER, "late_reply")
    (answers,) = await runtime.invoke([to_merchant])  # the merchant answers at last
    assert answers.typename == FeatureAnswers.TYPENAME
    await runtime.deliver(answers)
    assert len(decisions(runtime)) == 1
    assert counted(UNEXPECTED, TRANSACTION_MANAGER, "late_reply") == before + 1


async def test_a_stale_deadline_is_ignored(runtime):
    await runtime.invoke([transaction("tx-stale")])
    (deadline,) = runtime.delayed
    stale = Envelope(TRANSACTION_MANAGER, "tx-stale", deadline.envelope.typename, b'{"token": "someone-else"}')
    before = counted(UNEXPECTED, TRANSACTION_MANAGER, "stale_deadline")
    await runtime.invoke([stale])
    assert decisions(runtime) == [] and runtime.value_of(TRANSACTION_MANAGER, "tx-stale", "pending") is not None
    assert counted(UNEXPECTED, TRANSACTION_MANAGER, "stale_deadline") == before + 1


async def test_a_transaction_sent_again_after_its_decision_is_a_duplicate_not_a_second_score(runtime):
    await runtime.deliver(transaction("tx-twice"))
    await runtime.deliver(transaction("tx-twice"))
    assert [d["outcome"] for d in decisions(runtime)] == [Outcome.ALERT]
    assert dead_letter_reasons(runtime) == ["duplicate_transaction_id"]
    (letter,) = [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]
    assert "already decided (alert" in letter["detail"]


async def test_a_corrected_record_replayed_after_a_dead_letter_is_decided_and_supersedes(runtime):
    await runtime.deliver(transaction("tx-fixed", raw=b"{broken"))
    await runtime.deliver(transaction("tx-fixed"))
    assert [d["outcome"] for d in decisions(runtime)] == [Outcome.DEAD_LETTER, Outcome.ALERT]


async def test_further_malformed_records_of_a_dead_lettered_id_are_not_decided_again(runtime):
    for _ in range(3):
        await runtime.deliver(transaction("tx-junk", raw=b"x" * 70_000))
    assert [d["outcome"] for d in decisions(runtime)] == [Outcome.DEAD_LETTER]
    assert dead_letter_reasons(runtime) == ["too_large"] * 3


async def test_the_decided_id_is_remembered_for_the_retention_period(settings, merchants):
    runtime = make_runtime(settings, merchants, decided_retention_seconds=7200)
    await runtime.deliver(transaction("tx-r"))
    spec = runtime.registered[TRANSACTION_MANAGER]["decided"]
    assert spec.expiration_spec.expire_after_millis == 7_200_000
    assert json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-r", "decided").value)["outcome"] == Outcome.ALERT


async def test_decisions_can_be_switched_off_but_alerts_and_metrics_stay(settings, merchants):
    runtime = make_runtime(settings, merchants, decisions_enabled=False)
    before = decided(Outcome.ALERT, degraded=False)
    await runtime.deliver(transaction("tx-quiet"))
    assert decisions(runtime) == []
    assert [e.key for e in runtime.egress if e.egress != DEAD_LETTERS_EGRESS] == ["0x00F3CD51"]
    assert decided(Outcome.ALERT, degraded=False) == before + 1


@pytest.mark.parametrize("key", [None, b""])
async def test_a_record_without_a_usable_key_is_decided_under_its_placeholder_id(runtime, key):
    await runtime.deliver(transaction(key))
    (decision,) = decisions(runtime)
    assert decision["outcome"] == Outcome.DEAD_LETTER and decision["transaction_id"].startswith("(")
