"""Old and new function pods side by side while a new feature rolls out.

A transaction-manager that predates a lookup sends the model no value for it;
the model must score such a transaction as if the lookup had answered with its
fallback, not fail it or score it as zero.
"""

from __future__ import annotations

import json

from fraud_dev.mini_runtime import Envelope
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.functions.model import MODEL
from fraud_functions.messages import ModelInput


def model_input(values: dict[str, float]) -> Envelope:
    message = ModelInput("tx-old", values)
    return Envelope(
        MODEL,
        "tx-old",
        message.TYPENAME,
        json.dumps(message.to_dict()).encode(),
        caller=(TRANSACTION_MANAGER, "tx-old"),
    )


async def test_a_value_the_sender_did_not_know_of_counts_as_its_lookups_fallback(runtime):
    known = {"transaction.amount": 500, "fraud_count.count": 0}
    (without,) = await runtime.invoke([model_input(known)])
    (fallback,) = await runtime.invoke([model_input({**known, "merchant.score": 50.0})])  # merchant's fallback
    (other,) = await runtime.invoke([model_input({**known, "merchant.score": 95.0})])
    assert json.loads(without.value)["score"] == json.loads(fallback.value)["score"]
    assert json.loads(other.value)["score"] != json.loads(fallback.value)["score"]  # the value matters at all
