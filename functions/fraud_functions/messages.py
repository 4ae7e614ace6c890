"""Typed messages exchanged between the functions (StateFun custom JSON types).

Two kinds of input exist. Records from Kafka ingresses arrive as raw bytes under
the ingress `valueType` (`fraud/Transaction`, `fraud/ConfirmFraud`) and are
validated by `fraud_common.contract`. Messages between functions are written by
this package, but are still parsed defensively: a message that cannot be read
raises `ContractError`, which the callers turn into a metric, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar, Type, TypeVar

from statefun import Message, make_json_type, message_builder
from statefun.core import Type as StatefunType

from fraud_common.contract import ContractError
from fraud_common.tracing import current_traceparent

# valueType of the Kafka ingresses: raw record bytes, validated by the contract.
TRANSACTION_RECORD = "fraud/Transaction"
CONFIRM_FRAUD_RECORD = "fraud/ConfirmFraud"

M = TypeVar("M", bound="JsonMessage")


@dataclass(frozen=True)
class JsonMessage:
    """Base for dataclass messages carried as JSON under a StateFun typename.

    `trace` is the W3C traceparent of the span that sent the message (StateFun
    carries no headers, so the trace travels in the payload); keyword-only with
    a default, so messages without it, from older code, read as before.
    """

    TYPENAME: ClassVar[str]
    STATEFUN_TYPE: ClassVar[StatefunType]
    trace: str | None = field(default=None, kw_only=True)

    def __init_subclass__(cls, typename: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TYPENAME = typename
        cls.STATEFUN_TYPE = make_json_type(typename)

    def to_dict(self) -> dict[str, Any]:
        value = asdict(self)  # type: ignore[call-overload]
        if value["trace"] is None:
            del value["trace"]
        return value

    @classmethod
    def from_dict(cls: Type[M], value: Any) -> M:
        """Build the message from a decoded JSON value, checking names and basic types."""
        if not isinstance(value, dict):
            raise ContractError("malformed_message", f"{cls.TYPENAME} must be a JSON object")
        kwargs: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            if item.name in value:
                kwargs[item.name] = value[item.name]
        try:
            message = cls(**kwargs)
        except TypeError as err:
            raise ContractError("malformed_message", f"{cls.TYPENAME}: {err}") from None
        message.check()
        return message

    def check(self) -> None:
        """Subclasses verify field types; the base accepts anything."""

    @classmethod
    def read(cls: Type[M], message: Message) -> M:
        """Decode a StateFun message of this type without ever raising anything but ContractError."""
        raw = message.raw_value()
        if raw is None:
            raise ContractError("malformed_message", f"{cls.TYPENAME} has no value")
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ContractError("malformed_message", f"{cls.TYPENAME}: {err}") from None
        return cls.from_dict(value)


def _require(condition: bool, typename: str, detail: str) -> None:
    if not condition:
        raise ContractError("malformed_message", f"{typename}: {detail}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class QueryFraud(JsonMessage, typename="fraud/QueryFraud"):
    """transaction-manager → fraud-count: how many confirmed frauds has this account?"""

    transaction_id: str

    def check(self) -> None:
        _require(isinstance(self.transaction_id, str), self.TYPENAME, "transaction_id must be a string")


@dataclass(frozen=True)
class FraudCount(JsonMessage, typename="fraud/FraudCount"):
    """fraud-count → transaction-manager: confirmed frauds inside the window."""

    transaction_id: str
    account: str
    count: int

    def check(self) -> None:
        _require(isinstance(self.count, int) and not isinstance(self.count, bool) and self.count >= 0,
                 self.TYPENAME, "count must be a non-negative integer")


@dataclass(frozen=True)
class ExpireFraud(JsonMessage, typename="fraud/ExpireFraud"):
    """fraud-count → itself, delayed by the window: one confirmation leaves the window."""

    account: str
    confirmed_at_ms: int


@dataclass(frozen=True)
class QueryMerchant(JsonMessage, typename="fraud/QueryMerchant"):
    """transaction-manager → merchant: what is this merchant's risk score?"""

    transaction_id: str

    def check(self) -> None:
        _require(isinstance(self.transaction_id, str), self.TYPENAME, "transaction_id must be a string")


@dataclass(frozen=True)
class MerchantScore(JsonMessage, typename="fraud/MerchantScore"):
    """merchant → transaction-manager: score 0..100 and where it came from.

    `source` is `service`, `cache` or `fallback`; `degraded` is true when the
    score is the fallback because merchant-service could not answer.
    """

    transaction_id: str
    merchant: str
    score: float
    degraded: bool
    source: str

    def check(self) -> None:
        _require(_is_number(self.score) and 0 <= self.score <= 100, self.TYPENAME, "score must be 0..100")
        _require(isinstance(self.degraded, bool), self.TYPENAME, "degraded must be a boolean")


@dataclass(frozen=True)
class FeatureVector(JsonMessage, typename="fraud/FeatureVector"):
    """transaction-manager → model: everything the model may use to score one transaction."""

    transaction_id: str
    account: str
    merchant: str
    amount: float
    fraud_count: int
    merchant_score: float
    merchant_degraded: bool

    def check(self) -> None:
        _require(_is_number(self.amount) and self.amount >= 0, self.TYPENAME, "amount must be >= 0")
        _require(isinstance(self.fraud_count, int) and self.fraud_count >= 0, self.TYPENAME,
                 "fraud_count must be a non-negative integer")
        _require(_is_number(self.merchant_score), self.TYPENAME, "merchant_score must be a number")


@dataclass(frozen=True)
class ModelScore(JsonMessage, typename="fraud/ModelScore"):
    """model → transaction-manager: fraud probability 0..1, model version and the reasons."""

    transaction_id: str
    score: float
    model_version: str
    reasons: list[str] = field(default_factory=list)

    def check(self) -> None:
        _require(_is_number(self.score) and 0 <= self.score <= 1, self.TYPENAME, "score must be 0..1")
        _require(isinstance(self.reasons, list), self.TYPENAME, "reasons must be a list")


@dataclass(frozen=True)
class DecisionDeadline(JsonMessage, typename="fraud/DecisionDeadline"):
    """transaction-manager → itself, delayed: the transaction must be decided by now.

    `token` is the cancellation token it was scheduled with; a deadline whose
    token is not the pending transaction's own is stale and ignored.
    """

    token: str

    def check(self) -> None:
        _require(isinstance(self.token, str), self.TYPENAME, "token must be a string")


def outgoing(target_typename: str, target_id: str, message: JsonMessage) -> Message:
    """A StateFun message carrying `message` as JSON to (typename, id), in the current trace."""
    traceparent = current_traceparent()
    if traceparent is not None:
        message = replace(message, trace=traceparent)
    return message_builder(
        target_typename=target_typename,
        target_id=target_id,
        value=message.to_dict(),
        value_type=message.STATEFUN_TYPE,
    )
