"""transaction-manager: the join, the decision, the alert, the dead letters, the TTL and late replies."""

from __future__ import annotations

import json

from fraud_functions.addresses import ALERTS_EGRESS, DEAD_LETTERS_EGRESS, FRAUD_COUNT, MERCHANT, MODEL, TRANSACTION_MANAGER
from fraud_functions.messages import FraudCount, MerchantScore, ModelScore, QueryFraud, QueryMerchant
from fraud_functions.metrics import UNEXPECTED
from tests.unit.functions.conftest import confirmation, make_runtime, transaction
from tests.unit.functions.harness import Envelope


def reply(message, caller: str, tx_id: str) -> Envelope:
    return Envelope(TRANSACTION_MANAGER, tx_id, message.TYPENAME, json.dumps(message.to_dict()).encode(),
                    caller=(caller, "x"))


async def test_high_risk_transaction_raises_an_alert_with_explanation(runtime):
    await runtime.deliver(transaction("tx-1", merchant="Hypergrid", amount=950))

    alerts = [e for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.topic == "alerts" and alert.key == "0x00F3CD51"
    value = alert.json()
    assert list(value)[:4] == ["account", "merchant", "amount", "timestamp"]
    assert value["amount"] == 950 and value["merchant"] == "Hypergrid"
    assert value["transaction_id"] == "tx-1"
    assert value["score"] >= value["threshold"] == 0.8
    assert value["model_version"] == "logistic-2026.11.1"
    assert "merchant_risk=95" in value["reasons"]
    assert value["degraded"] == []


async def test_low_risk_transaction_passes_and_state_is_cleared(runtime):
    await runtime.deliver(transaction("tx-2", merchant="Calmshop", amount=3))

    assert [e for e in runtime.egress if e.egress == ALERTS_EGRESS] == []
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-2", "pending") is None


async def test_state_is_cleared_after_an_alert_too(runtime):
    await runtime.deliver(transaction("tx-3"))
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-3", "pending") is None


async def test_first_request_goes_through_the_missing_state_round_trip(runtime):
    await runtime.deliver(transaction("tx-4"))
    # transaction-manager, fraud-count and merchant declare state; the model has none.
    assert runtime.missing_state_round_trips == 3
    assert set(runtime.registered) == {TRANSACTION_MANAGER, FRAUD_COUNT, MERCHANT}
    pending_spec = runtime.registered[TRANSACTION_MANAGER]["pending"]
    assert pending_spec.expiration_spec.expire_after_millis == 600_000


async def _start(runtime, tx_id: str) -> list[Envelope]:
    """Deliver only the transaction; return the two queries it sends."""
    return await runtime.invoke([transaction(tx_id)])


async def test_queries_go_to_the_account_and_the_merchant(runtime):
    queries = await _start(runtime, "tx-5")
    assert {(q.target, q.id, q.typename) for q in queries} == {
        (FRAUD_COUNT, "0x00F3CD51", QueryFraud.TYPENAME),
        (MERCHANT, "Hypergrid", QueryMerchant.TYPENAME),
    }


async def test_replies_join_in_either_order(runtime):
    for tx_id, order in (("tx-a", "count-first"), ("tx-b", "merchant-first")):
        await _start(runtime, tx_id)
        count = reply(FraudCount(tx_id, "0x00F3CD51", 2), FRAUD_COUNT, tx_id)
        score = reply(MerchantScore(tx_id, "Hypergrid", 40.0, False, "service"), MERCHANT, tx_id)
        first, second = (count, score) if order == "count-first" else (score, count)
        assert await runtime.invoke([first]) == []  # nothing to do until both features are in
        sent = await runtime.invoke([second])
        assert [(m.target, m.typename) for m in sent] == [(MODEL, "fraud/FeatureVector")]
        vector = json.loads(sent[0].value)
        assert vector["fraud_count"] == 2 and vector["merchant_score"] == 40.0 and vector["amount"] == 950


async def test_score_exactly_at_the_threshold_alerts_and_just_below_does_not(settings, merchants):
    runtime = make_runtime(settings, merchants, alert_threshold=0.5)
    for tx_id, score in (("at", 0.5), ("below", 0.499999)):
        await _start(runtime, tx_id)
        await runtime.invoke([reply(FraudCount(tx_id, "0x00F3CD51", 0), FRAUD_COUNT, tx_id)])
        await runtime.invoke([reply(MerchantScore(tx_id, "Hypergrid", 50.0, False, "service"), MERCHANT, tx_id)])
        await runtime.invoke([reply(ModelScore(tx_id, score, "test", []), MODEL, tx_id)])
    alerted = [e.json()["transaction_id"] for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert alerted == ["at"]


async def test_degraded_merchant_score_is_flagged_on_the_alert(settings):
    from tests.unit.functions.conftest import ScriptedMerchantClient

    runtime = make_runtime(settings, ScriptedMerchantClient({}), merchant_fallback_score=100.0)
    await runtime.deliver(transaction("tx-6", amount=1000))
    alerts = [e.json() for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert len(alerts) == 1 and alerts[0]["degraded"] == ["merchant_score"]


def _unexpected(reason: str) -> float:
    return UNEXPECTED.labels(TRANSACTION_MANAGER, reason)._value.get()


async def test_late_reply_after_the_decision_is_counted_not_raised(runtime):
    await runtime.deliver(transaction("tx-7"))
    before = _unexpected("late_reply")
    out = await runtime.invoke([reply(FraudCount("tx-7", "0x00F3CD51", 1), FRAUD_COUNT, "tx-7")])
    assert out == [] and _unexpected("late_reply") == before + 1
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-7", "pending") is None


async def test_duplicate_reply_is_counted_and_ignored(runtime):
    await _start(runtime, "tx-8")
    first = reply(FraudCount("tx-8", "0x00F3CD51", 1), FRAUD_COUNT, "tx-8")
    await runtime.invoke([first])
    before = _unexpected("duplicate_reply")
    await runtime.invoke([reply(FraudCount("tx-8", "0x00F3CD51", 7), FRAUD_COUNT, "tx-8")])
    assert _unexpected("duplicate_reply") == before + 1
    pending = json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-8", "pending").value)
    assert pending["fraud_count"] == 1


async def test_score_before_features_is_not_taken_as_a_decision(runtime):
    await _start(runtime, "tx-9")
    await runtime.invoke([reply(ModelScore("tx-9", 0.99, "test", []), MODEL, "tx-9")])
    assert [e for e in runtime.egress if e.egress == ALERTS_EGRESS] == []
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-9", "pending") is not None


async def test_unreadable_internal_reply_is_counted_not_raised(runtime):
    await _start(runtime, "tx-10")
    before = _unexpected("malformed_message")
    bad = Envelope(TRANSACTION_MANAGER, "tx-10", FraudCount.TYPENAME, b"{not json", caller=(FRAUD_COUNT, "x"))
    assert await runtime.invoke([bad]) == []
    bad_count = Envelope(TRANSACTION_MANAGER, "tx-10", FraudCount.TYPENAME,
                         json.dumps({"transaction_id": "tx-10", "account": "a", "count": -1}).encode())
    assert await runtime.invoke([bad_count]) == []
    assert _unexpected("malformed_message") == before + 2


async def test_duplicate_transaction_id_is_dead_lettered(runtime):
    await _start(runtime, "tx-11")
    await runtime.invoke([transaction("tx-11", amount=1)])
    letters = [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]
    assert [(d["reason"], d["key"]) for d in letters] == [("duplicate_transaction_id", "tx-11")]
    pending = json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-11", "pending").value)
    assert pending["transaction"]["amount"] == 950  # the first one is kept


async def test_confirmed_frauds_raise_the_score_of_later_transactions(runtime):
    await runtime.deliver(transaction("before", merchant="Calmshop", amount=500))
    await runtime.deliver(confirmation("0x00F3CD51"), confirmation("0x00F3CD51"), confirmation("0x00F3CD51"),
                          confirmation("0x00F3CD51"))
    await runtime.deliver(transaction("after", merchant="Calmshop", amount=500))
    alerts = [e.json()["transaction_id"] for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert alerts == ["after"]
