"""Old and new function pods side by side: messages of the previous shapes still work, both ways.

During a rolling upgrade (and while checkpoints hold queued messages of the old
shapes) a query of the old shape can reach new code, which must answer in the
old shape so an old transaction-manager can read it; old replies and old
pending state must be read by the new transaction-manager.
"""

from __future__ import annotations

import json

from statefun.request_reply_pb2 import TypedValue

from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import confirmation, transaction
from fraud_functions.addresses import (
    ALERTS_EGRESS,
    DECISIONS_EGRESS,
    TRANSACTION_MANAGER,
)
from fraud_functions.functions.fraud_count import FRAUD_COUNT
from fraud_functions.functions.merchant import MERCHANT
from fraud_functions.functions.model import MODEL
from fraud_functions.functions.transaction_manager import PENDING_TYPE
from fraud_functions.legacy import (
    FeatureVector,
    FraudCount,
    MerchantScore,
    QueryFraud,
    QueryMerchant,
)
from fraud_functions.messages import ModelInput, ModelScore

OLD_TM = (TRANSACTION_MANAGER, "tx-old")


def old(message, target: str, address_id: str, caller=OLD_TM) -> Envelope:
    return Envelope(target, address_id, message.TYPENAME, json.dumps(message.to_dict()).encode(), caller=caller)


async def test_an_old_fraud_count_query_gets_an_old_shape_answer(runtime):
    await runtime.deliver(confirmation("0x00F3CD51"))
    (out,) = await runtime.invoke([old(QueryFraud("tx-old"), FRAUD_COUNT, "0x00F3CD51")])
    assert out.typename == FraudCount.TYPENAME
    assert FraudCount.from_dict(json.loads(out.value)) == FraudCount("tx-old", "0x00F3CD51", 1)


async def test_an_old_merchant_query_gets_an_old_shape_answer(runtime):
    (out,) = await runtime.invoke([old(QueryMerchant("tx-old"), MERCHANT, "Hypergrid")])
    assert out.typename == MerchantScore.TYPENAME
    assert MerchantScore.from_dict(json.loads(out.value)) == MerchantScore("tx-old", "Hypergrid", 95, False, "service")


async def test_an_old_feature_vector_is_scored_and_old_code_can_read_the_score(runtime):
    vector = FeatureVector("tx-old", "0x00F3CD51", "Hypergrid", 950, 0, 95.0, False)
    (out,) = await runtime.invoke([old(vector, MODEL, "tx-old")])
    score = json.loads(out.value)
    assert out.typename == ModelScore.TYPENAME and score["score"] >= 0.8
    # The fields an old transaction-manager reads are all there (the new ones it ignores).
    assert {"transaction_id", "score", "model_version", "reasons"} <= set(score)


async def test_the_new_transaction_manager_finishes_an_old_pending_transaction_from_old_replies(runtime):
    old_pending = {
        "transaction": {
            "account": "0x00F3CD51",
            "merchant": "Hypergrid",
            "amount": 950,
            "timestamp": "2026-11-27T10:00:00",
        },
        "received_ms": 1,
        "deadline_token": "",
        "fraud_count": None,
        "merchant_score": None,
        "merchant_degraded": False,
        "scoring": False,
    }
    await runtime.invoke([transaction("warm-up")])  # registers the state specs
    runtime.state[(TRANSACTION_MANAGER, "tx-old")] = {"pending": _typed(old_pending)}
    await runtime.invoke(
        [old(FraudCount("tx-old", "0x00F3CD51", 0), TRANSACTION_MANAGER, "tx-old", caller=(FRAUD_COUNT, "0x00F3CD51"))]
    )
    sent = await runtime.invoke(
        [
            old(
                MerchantScore("tx-old", "Hypergrid", 95.0, True, "fallback"),
                TRANSACTION_MANAGER,
                "tx-old",
                caller=(MERCHANT, "Hypergrid"),
            )
        ]
    )
    assert [(m.target, m.typename) for m in sent] == [(MODEL, ModelInput.TYPENAME)]
    await runtime.deliver(*sent)
    (decision,) = [e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS and e.key == "tx-old"]
    assert (decision["outcome"], decision["degraded"]) == ("alert", ["merchant"])
    assert any(e.json()["transaction_id"] == "tx-old" for e in runtime.egress if e.egress == ALERTS_EGRESS)


def _typed(value: dict) -> TypedValue:
    """State as the runtime stores it: the value serialized under its state type."""
    typed = TypedValue()
    typed.typename = PENDING_TYPE.typename
    typed.has_value = True
    typed.value = PENDING_TYPE.serializer().serialize(value)
    return typed


async def test_a_value_the_sender_did_not_know_of_counts_as_its_lookups_fallback(runtime):
    """An older transaction-manager sends no value for a lookup it does not know: the model uses the fallback."""

    def model_input(values: dict) -> Envelope:
        return old(ModelInput("tx-old", values), MODEL, "tx-old")

    known = {"transaction.amount": 500, "fraud_count.count": 0}
    (without,) = await runtime.invoke([model_input(known)])
    (fallback,) = await runtime.invoke([model_input({**known, "merchant.score": 50.0})])  # merchant's fallback
    assert json.loads(without.value)["score"] == json.loads(fallback.value)["score"]
