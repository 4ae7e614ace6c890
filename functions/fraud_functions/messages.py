"""Typed messages exchanged between the functions (StateFun custom JSON types).

Two kinds of input exist. Records from Kafka ingresses arrive as raw bytes under
the ingress `valueType` (`fraud/Transaction`, `fraud/ConfirmFraud`, ...: the record
types of `fraud_common.contract.TOPICS`) and are validated by `fraud_common.contract`.
Messages between functions are written by this package, but are still parsed
defensively: a message that cannot be read raises `ContractError`, which the
callers turn into a metric, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, TypeVar

from statefun import Message, make_json_type, message_builder
from statefun.core import Type as StatefunType

from fraud_common.contract import ContractError
from fraud_common.tracing import current_traceparent

M = TypeVar("M", bound="JsonMessage")
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


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

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The message's field names, worked out once per class (dataclasses.fields walks them on every call)."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(item.name for item in fields(cls))
        return names

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the message. Every field holds JSON values (strings, numbers, flat lists and
        maps), so a shallow dict is enough: dataclasses.asdict deep-copied each one, a fifth of the SDK
        dispatch time (docs/benchmarks.md)."""
        value = {name: getattr(self, name) for name in self.field_names()}
        if value["trace"] is None:
            del value["trace"]
        return value

    @classmethod
    def from_dict(cls: type[M], value: Any) -> M:
        """Build the message from a decoded JSON value, checking names and basic types."""
        if not isinstance(value, dict):
            raise ContractError("malformed_message", f"{cls.TYPENAME} must be a JSON object")
        kwargs = {name: value[name] for name in cls.field_names() if name in value}
        try:
            message = cls(**kwargs)
        except TypeError as err:
            raise ContractError("malformed_message", f"{cls.TYPENAME}: {err}") from None
        message.check()
        return message

    def check(self) -> None:
        """Subclasses verify field types; the base accepts anything."""

    @classmethod
    def read(cls: type[M], message: Message) -> M:
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


def _number_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _is_number(v) for k, v in value.items())


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(frozen=True)
class LookupQuery(JsonMessage, typename="fraud/LookupQuery"):
    """transaction-manager → a lookup function (fraud-count, merchant, ...): what do you know for this transaction?

    It carries the transaction, so a lookup that learns from transactions (velocity) needs nothing else.
    """

    transaction_id: str
    account: str
    merchant: str
    amount: float
    timestamp: str

    def check(self) -> None:
        _require(
            all(isinstance(v, str) for v in (self.transaction_id, self.account, self.merchant, self.timestamp)),
            self.TYPENAME,
            "transaction_id, account, merchant and timestamp must be strings",
        )
        _require(_is_number(self.amount), self.TYPENAME, "amount must be a number")


@dataclass(frozen=True)
class LookupAnswer(JsonMessage, typename="fraud/LookupAnswer"):
    """a lookup function → transaction-manager: named values for one transaction.

    `degraded` says the values are a fallback (merchant-service did not answer);
    an empty `values` means the lookup has nothing for this transaction (no custom threshold).
    """

    transaction_id: str
    lookup: str
    values: dict[str, float]
    degraded: bool = False

    def check(self) -> None:
        _require(isinstance(self.lookup, str) and self.lookup != "", self.TYPENAME, "lookup must be a name")
        _require(_number_map(self.values), self.TYPENAME, "values must map names to numbers")
        _require(isinstance(self.degraded, bool), self.TYPENAME, "degraded must be a boolean")


@dataclass(frozen=True)
class ExpireFraud(JsonMessage, typename="fraud/ExpireFraud"):
    """fraud-count → itself, delayed by the window: one confirmation leaves the window.

    It needs no fields (the address is the account); ones written by earlier versions are ignored.
    """


@dataclass(frozen=True)
class ModelInput(JsonMessage, typename="fraud/ModelInput"):
    """transaction-manager → model: the values of one transaction, by source ("merchant.score", "transaction.amount").

    `degraded` names the lookups whose values are fallbacks.
    """

    transaction_id: str
    values: dict[str, float]
    degraded: list[str] = field(default_factory=list)

    def check(self) -> None:
        _require(_number_map(self.values), self.TYPENAME, "values must map sources to numbers")
        _require(_strings(self.degraded), self.TYPENAME, "degraded must be a list of names")


@dataclass(frozen=True)
class ModelScore(JsonMessage, typename="fraud/ModelScore"):
    """model → transaction-manager: fraud probability 0..1, model version, reasons, and the model's threshold.

    `features` are the model's inputs after its transforms (for the audit trail);
    `threshold` is the model's alert threshold (None from versions that did not send it);
    `challenger` is the shadow model's score of the same values, when one runs: `model_version`, `score`,
    `threshold`, `features` (scored in the same invocation, so a challenger costs no round trip).
    """

    transaction_id: str
    score: float
    model_version: str
    reasons: list[str] = field(default_factory=list)
    threshold: float | None = None
    features: dict[str, float] = field(default_factory=dict)
    challenger: dict[str, Any] | None = None

    def check(self) -> None:
        _require(_is_number(self.score) and 0 <= self.score <= 1, self.TYPENAME, "score must be 0..1")
        _require(_strings(self.reasons), self.TYPENAME, "reasons must be a list of strings")
        _require(
            self.threshold is None or (_is_number(self.threshold) and 0 <= self.threshold <= 1),
            self.TYPENAME,
            "threshold must be 0..1",
        )
        _require(_number_map(self.features), self.TYPENAME, "features must map names to numbers")
        _require(self.challenger is None or _shadow(self.challenger), self.TYPENAME, "challenger is malformed")


def _shadow(value: Any) -> bool:
    """A challenger's score as ModelScore carries it."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("model_version"), str)
        and all(_is_number(value.get(key)) and 0 <= value[key] <= 1 for key in ("score", "threshold"))
        and _number_map(value.get("features"))
    )


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
