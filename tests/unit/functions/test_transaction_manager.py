"""transaction-manager: asking every lookup, the join, the decision, the alert, dead letters and late replies."""

from __future__ import annotations

import json

from statefun.request_reply_pb2 import TypedValue

from fraud_common.contract import Transaction
from fraud_dev.mini_runtime import Envelope
from fraud_dev.pipeline import shipped_model
from fraud_dev.scripted import confirmation, transaction
from fraud_functions.addresses import (
    ALERTS_EGRESS,
    DEAD_LETTERS_EGRESS,
    DECISIONS_EGRESS,
    TRANSACTION_MANAGER,
)
from fraud_functions.declarations import lookups
from fraud_functions.functions.fraud_count import FRAUD_COUNT
from fraud_functions.functions.merchant import MERCHANT
from fraud_functions.functions.model import MODEL
from fraud_functions.functions.transaction_manager import PENDING_TYPE
from fraud_functions.messages import LookupAnswer, LookupQuery, ModelInput, ModelScore
from fraud_functions.metrics import UNEXPECTED
from tests.support.reference_model import Raw
from tests.unit.counters import counted
from tests.unit.functions.conftest import make_runtime


def reply(message, caller: str, tx_id: str) -> Envelope:
    return Envelope(
        TRANSACTION_MANAGER, tx_id, message.TYPENAME, json.dumps(message.to_dict()).encode(), caller=(caller, "x")
    )


def answer(tx_id: str, lookup: str, values: dict, degraded: bool = False, caller: str = FRAUD_COUNT) -> Envelope:
    return reply(LookupAnswer(tx_id, lookup, values, degraded), caller, tx_id)


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
    # The oracle's literal-weight model: Hypergrid scores 95 in the scripted merchant-service; a first payment.
    assert value["score"] == round(Raw(0, 95, 950, 1).probability(), 6) and value["threshold"] == 0.8
    assert value["model_version"] == shipped_model().version
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
    # Every function that declares state asks the runtime to register it on first use; the model has none.
    stateful = {name for name, specs in runtime.registered.items() if specs}
    assert TRANSACTION_MANAGER in stateful and FRAUD_COUNT in stateful and MERCHANT in stateful
    assert MODEL not in runtime.registered
    assert runtime.registered[TRANSACTION_MANAGER]["pending"].expiration_spec.expire_after_millis == 600_000


async def _start(runtime, tx_id: str) -> list[Envelope]:
    """Deliver only the transaction; return the queries it sends."""
    return await runtime.invoke([transaction(tx_id)])


async def test_every_declared_lookup_is_asked_at_its_key(runtime):
    queries = await _start(runtime, "tx-5")
    sent = Transaction("tx-5", "0x00F3CD51", "Hypergrid", 950, "2026-11-27T10:00:00")
    expected = {(typename, lookup.key(sent)) for typename, lookup in lookups()}
    assert {(q.target, q.id) for q in queries} == expected
    assert {q.typename for q in queries} == {LookupQuery.TYPENAME}
    assert (FRAUD_COUNT, "0x00F3CD51") in expected and (MERCHANT, "Hypergrid") in expected
    query = json.loads(queries[0].value)
    assert (query["transaction_id"], query["amount"], query["merchant"]) == ("tx-5", 950, "Hypergrid")


async def answer_all(
    runtime, tx_id: str, merchant_score: float = 40.0, count: int = 2, skip: str | None = None
) -> list[Envelope]:
    """Answer every lookup (merchant and fraud-count with the given values, the rest empty); the last reply's output."""
    sent: list[Envelope] = []
    for typename, lookup in lookups():
        if lookup.name == skip:
            continue
        answers: dict[str, dict[str, float]] = {"fraud_count": {"count": count}, "merchant": {"score": merchant_score}}
        values = answers.get(lookup.name, {})
        sent = await runtime.invoke([answer(tx_id, lookup.name, values, caller=typename)])
    return sent


async def test_answers_join_in_any_order_and_then_the_model_gets_every_value(runtime):
    await _start(runtime, "tx-a")
    assert await runtime.invoke([answer("tx-a", "merchant", {"score": 40.0}, caller=MERCHANT)]) == []
    sent = await answer_all(runtime, "tx-a", skip="merchant")
    assert [(m.target, m.typename) for m in sent] == [(MODEL, ModelInput.TYPENAME)]
    values = json.loads(sent[0].value)["values"]
    assert (values["fraud_count.count"], values["merchant.score"], values["transaction.amount"]) == (2, 40.0, 950)


async def test_score_exactly_at_the_threshold_alerts_and_just_below_does_not(runtime):
    for tx_id, score in (("at", 0.5), ("below", 0.499999)):
        await _start(runtime, tx_id)
        await answer_all(runtime, tx_id)
        await runtime.invoke([reply(ModelScore(tx_id, score, "test", [], threshold=0.5), MODEL, tx_id)])
    alerted = [e.json()["transaction_id"] for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert alerted == ["at"]


async def test_alert_threshold_setting_overrides_the_model_files(settings, merchants):
    runtime = make_runtime(settings, merchants, alert_threshold=0.99)
    await runtime.deliver(transaction("tx-strict", merchant="Hypergrid", amount=950))
    assert [e for e in runtime.egress if e.egress == ALERTS_EGRESS] == []


async def test_degraded_merchant_score_is_flagged_on_the_alert(settings):
    from fraud_dev.scripted import ScriptedMerchantClient

    runtime = make_runtime(settings, ScriptedMerchantClient({}), merchant_fallback_score=100.0)
    await runtime.deliver(transaction("tx-6", amount=1000))
    alerts = [e.json() for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert len(alerts) == 1 and alerts[0]["degraded"] == ["merchant"]


def _unexpected(reason: str) -> float:
    return counted(UNEXPECTED, TRANSACTION_MANAGER, reason)


async def test_late_reply_after_the_decision_is_counted_not_raised(runtime):
    await runtime.deliver(transaction("tx-7"))
    before = _unexpected("late_reply")
    out = await runtime.invoke([answer("tx-7", "fraud_count", {"count": 1})])
    assert out == [] and _unexpected("late_reply") == before + 1
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-7", "pending") is None


async def test_duplicate_and_unasked_answers_are_counted_and_ignored(runtime):
    await _start(runtime, "tx-8")
    await runtime.invoke([answer("tx-8", "fraud_count", {"count": 1})])
    duplicates, unasked = _unexpected("duplicate_reply"), _unexpected("unasked_lookup")
    await runtime.invoke([answer("tx-8", "fraud_count", {"count": 7})])
    await runtime.invoke([answer("tx-8", "horoscope", {"stars": 5})])
    assert (_unexpected("duplicate_reply"), _unexpected("unasked_lookup")) == (duplicates + 1, unasked + 1)
    pending = json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-8", "pending").value)
    assert pending["answers"] == {"fraud_count": {"count": 1}}


async def test_score_before_the_lookups_is_not_taken_as_a_decision(runtime):
    await _start(runtime, "tx-9")
    await runtime.invoke([reply(ModelScore("tx-9", 0.99, "test", []), MODEL, "tx-9")])
    assert [e for e in runtime.egress if e.egress == ALERTS_EGRESS] == []
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-9", "pending") is not None


async def test_unreadable_internal_reply_is_counted_not_raised(runtime):
    await _start(runtime, "tx-10")
    before = _unexpected("malformed_message")
    bad = Envelope(TRANSACTION_MANAGER, "tx-10", LookupAnswer.TYPENAME, b"{not json", caller=(FRAUD_COUNT, "x"))
    assert await runtime.invoke([bad]) == []
    bad_values = Envelope(
        TRANSACTION_MANAGER,
        "tx-10",
        LookupAnswer.TYPENAME,
        json.dumps({"transaction_id": "tx-10", "lookup": "fraud_count", "values": {"count": "many"}}).encode(),
    )
    assert await runtime.invoke([bad_values]) == []
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
    await runtime.deliver(
        confirmation("0x00F3CD51"), confirmation("0x00F3CD51"), confirmation("0x00F3CD51"), confirmation("0x00F3CD51")
    )
    await runtime.deliver(transaction("after", merchant="Calmshop", amount=500))
    alerts = [e.json()["transaction_id"] for e in runtime.egress if e.egress == ALERTS_EGRESS]
    assert alerts == ["after"]


# The pending state exactly as the version that kept the transaction as a plain dict stored it: what
# running jobs hold in their checkpoints. Written out by hand, not produced by the code under test.
STORED_PENDING = {
    "transaction": {
        "account": "0x00F3CD51",
        "merchant": "Hypergrid",
        "amount": 950,
        "timestamp": "2026-11-27T10:00:00",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    },
    "received_ms": 1,
    "deadline_token": "token-from-a-checkpoint",
    "asked": ["fraud_count", "merchant"],
    "answers": {"fraud_count": {"count": 0}},
    "degraded": [],
    "scoring": False,
}


async def test_pending_state_is_stored_in_the_shape_checkpoints_already_hold(runtime):
    await runtime.invoke([transaction("tx-shape", merchant="Hypergrid", amount=950)])
    stored = json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-shape", "pending").value)
    assert set(stored) == set(STORED_PENDING)
    assert stored["transaction"] == {name: STORED_PENDING["transaction"][name] for name in stored["transaction"]}
    assert set(stored["transaction"]) <= set(STORED_PENDING["transaction"])


async def test_a_pending_transaction_from_a_checkpoint_is_finished(runtime):
    await runtime.invoke([transaction("warm-up")])  # registers the state specs
    typed = TypedValue(typename=PENDING_TYPE.typename, has_value=True)
    typed.value = PENDING_TYPE.serializer().serialize(STORED_PENDING)
    runtime.state[(TRANSACTION_MANAGER, "tx-old")] = {"pending": typed}

    sent = await runtime.invoke([answer("tx-old", "merchant", {"score": 95.0}, caller=MERCHANT)])
    assert [(m.target, m.typename) for m in sent] == [(MODEL, ModelInput.TYPENAME)]
    assert json.loads(sent[0].value)["values"]["transaction.amount"] == 950
    await runtime.deliver(*sent)
    (decision,) = [e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS and e.key == "tx-old"]
    assert {name: decision[name] for name in ("account", "merchant", "amount", "timestamp")} == {
        name: STORED_PENDING["transaction"][name] for name in ("account", "merchant", "amount", "timestamp")
    }
    (alert,) = [e.json() for e in runtime.egress if e.egress == ALERTS_EGRESS and e.key == "0x00F3CD51"]
    assert (alert["transaction_id"], alert["merchant"], alert["amount"]) == ("tx-old", "Hypergrid", 950)
