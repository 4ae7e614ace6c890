"""Message shapes of the version before function declarations, still understood for a rolling upgrade.

While old and new function pods serve side by side (and while the runtime's
checkpointed state still holds queued messages of the old shapes), a message of
either shape can reach either version. The new code answers an old-shape query
with an old-shape reply (so an old transaction-manager can read it) and reads
old-shape replies and feature vectors into the new shapes. Retire this module
once a release has run with it and no checkpoint from before it remains.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraud_functions.messages import (
    JsonMessage,
    LookupAnswer,
    ModelInput,
    _is_number,
    _require,
)

FRAUD_COUNT_LOOKUP = "fraud_count"
MERCHANT_LOOKUP = "merchant"


@dataclass(frozen=True)
class QueryFraud(JsonMessage, typename="fraud/QueryFraud"):
    """Old transaction-manager → fraud-count: how many confirmed frauds has this account?"""

    transaction_id: str

    def check(self) -> None:
        _require(isinstance(self.transaction_id, str), self.TYPENAME, "transaction_id must be a string")


@dataclass(frozen=True)
class FraudCount(JsonMessage, typename="fraud/FraudCount"):
    """Old fraud-count → transaction-manager: confirmed frauds inside the window."""

    transaction_id: str
    account: str
    count: int

    def check(self) -> None:
        _require(
            isinstance(self.count, int) and not isinstance(self.count, bool) and self.count >= 0,
            self.TYPENAME,
            "count must be a non-negative integer",
        )

    def as_answer(self) -> LookupAnswer:
        return LookupAnswer(self.transaction_id, FRAUD_COUNT_LOOKUP, {"count": self.count}, trace=self.trace)


@dataclass(frozen=True)
class QueryMerchant(JsonMessage, typename="fraud/QueryMerchant"):
    """Old transaction-manager → merchant: what is this merchant's risk score?"""

    transaction_id: str

    def check(self) -> None:
        _require(isinstance(self.transaction_id, str), self.TYPENAME, "transaction_id must be a string")


@dataclass(frozen=True)
class MerchantScore(JsonMessage, typename="fraud/MerchantScore"):
    """Old merchant → transaction-manager: score 0..100, whether it is a fallback, and where it came from."""

    transaction_id: str
    merchant: str
    score: float
    degraded: bool
    source: str

    def check(self) -> None:
        _require(_is_number(self.score) and 0 <= self.score <= 100, self.TYPENAME, "score must be 0..100")
        _require(isinstance(self.degraded, bool), self.TYPENAME, "degraded must be a boolean")

    def as_answer(self) -> LookupAnswer:
        return LookupAnswer(
            self.transaction_id, MERCHANT_LOOKUP, {"score": self.score}, self.degraded, trace=self.trace
        )


@dataclass(frozen=True)
class FeatureVector(JsonMessage, typename="fraud/FeatureVector"):
    """Old transaction-manager → model: the three features of the first model."""

    transaction_id: str
    account: str
    merchant: str
    amount: float
    fraud_count: int
    merchant_score: float
    merchant_degraded: bool

    def check(self) -> None:
        _require(_is_number(self.amount) and self.amount >= 0, self.TYPENAME, "amount must be >= 0")
        _require(
            isinstance(self.fraud_count, int) and self.fraud_count >= 0,
            self.TYPENAME,
            "fraud_count must be a non-negative integer",
        )
        _require(_is_number(self.merchant_score), self.TYPENAME, "merchant_score must be a number")

    def as_input(self) -> ModelInput:
        return ModelInput(
            self.transaction_id,
            {
                "fraud_count.count": self.fraud_count,
                "merchant.score": self.merchant_score,
                "transaction.amount": self.amount,
            },
            [MERCHANT_LOOKUP] if self.merchant_degraded else [],
            trace=self.trace,
        )


def pending_from_old_shape(value: dict) -> dict:
    """An old transaction-manager's pending state in the new shape (answers by lookup name)."""
    if "answers" in value:
        return value
    answers = {}
    if value.get("fraud_count") is not None:
        answers[FRAUD_COUNT_LOOKUP] = {"count": value["fraud_count"]}
    if value.get("merchant_score") is not None:
        answers[MERCHANT_LOOKUP] = {"score": value["merchant_score"]}
    return {
        "transaction": value["transaction"],
        "received_ms": value["received_ms"],
        "deadline_token": value.get("deadline_token", ""),
        "asked": [FRAUD_COUNT_LOOKUP, MERCHANT_LOOKUP],
        "answers": answers,
        "degraded": [MERCHANT_LOOKUP] if value.get("merchant_degraded") else [],
        "scoring": value.get("scoring", False),
    }
