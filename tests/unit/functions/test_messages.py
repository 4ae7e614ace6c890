"""Messages between functions: each one's JSON object holds exactly its fields and reads back equal."""

from __future__ import annotations

import json

import pytest

from fraud_functions.functions.velocity import ExpireVelocity
from fraud_functions.messages import (
    DecisionDeadline,
    ExpireFraud,
    FeatureAnswers,
    FeatureQuery,
    JsonMessage,
    LookupAnswer,
    ModelScore,
)

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
MESSAGES = [
    FeatureQuery("t1", "0x00F3CD51", "Hypergrid", 36.5, "2026-11-27T10:00:00", ["merchant"], {"velocity": {"n": 1}}),
    LookupAnswer("t1", "merchant", {"score": 42.0}, degraded=True),
    ExpireFraud(),
    FeatureAnswers("t1", {"merchant": {"score": 42.0}, "threshold": {}}, ["merchant"]),
    ModelScore("t1", 0.5, "v1", ["amount"], 0.8, {"amount": 0.1}),
    DecisionDeadline("token"),
    ExpireVelocity("1m", 60_000),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_a_message_reads_back_equal_from_its_json(message: JsonMessage):
    value = json.loads(json.dumps(message.to_dict()))
    assert "trace" not in value, "no trace, no field: older readers see the shape they know"
    assert type(message).from_dict(value) == message
    traced = type(message).from_dict({**value, "trace": TRACE})
    assert traced.to_dict()["trace"] == TRACE


def test_the_json_object_holds_the_fields_and_nothing_else():
    assert set(MESSAGES[3].to_dict()) == {"transaction_id", "answers", "degraded"}


@pytest.mark.parametrize(
    "value",
    [
        {"transaction_id": "t1", "answers": {"merchant": {"score": "high"}}},
        {"transaction_id": "t1", "answers": {"": {}}},
        {"transaction_id": "t1", "answers": [], "degraded": []},
        {"transaction_id": "t1", "answers": {}, "degraded": "merchant"},
        {"answers": {}},
    ],
)
def test_feature_answers_that_are_not_numbers_by_feature_are_refused(value):
    from fraud_common.contract import ContractError

    with pytest.raises(ContractError, match="malformed_message"):
        FeatureAnswers.from_dict(value)
