"""The Kafka contract of the pipeline: the topics (declared once, in TOPICS), record shapes and validation.

One module says what a valid record is, so the functions (which must dead-letter
bad input instead of raising), the simulator (which produces and reads records)
and the tests cannot drift apart. The shapes stay compatible with the StateFun
workshop's simulator: a transaction is the JSON object
``{"account", "merchant", "amount", "timestamp"}`` keyed by a transaction id, a
confirmation is ``{"account"}`` keyed by the account, and an alert starts with
the transaction's four fields. Extra fields are accepted and ignored.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# The StateFun namespace of everything the runtime and the functions name: functions, record types, ingresses
# and egresses (lower-case letters only, so it also reads well in Flink's metric names).
NAMESPACE = "fraud"

TRANSACTIONS_TOPIC = "transactions"
CONFIRMED_TOPIC = "confirmed"
ALERTS_TOPIC = "alerts"
DEAD_LETTERS_TOPIC = "dead-letters"
DECISIONS_TOPIC = "decisions"
THRESHOLDS_TOPIC = "thresholds"

# The type names the Kafka ingresses give their records (the module spec's `valueType`): raw bytes, which the
# function validates with this module.
TRANSACTION_RECORD = f"{NAMESPACE}/Transaction"
CONFIRM_FRAUD_RECORD = f"{NAMESPACE}/ConfirmFraud"
THRESHOLD_RECORD = f"{NAMESPACE}/ThresholdRecord"

# Topic names that are legal for Kafka, in a StateFun id ("fraud/<topic>") and as a KafkaTopic's Kubernetes name:
# lower case, digits, dots and dashes.
TOPIC_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,99}$")
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Ingress:
    """The runtime reads the topic: every record reaches the function `target` (its type name) at the address
    of the record's key, as raw bytes typed `record_type`."""

    record_type: str
    target: str


@dataclass(frozen=True)
class Egress:
    """The runtime writes the topic, through an egress of the topic's id, with Kafka transactions (exactly-once);
    `delivery_setting` names the module-spec setting that may choose at-least-once for it instead."""

    delivery_setting: str | None = None


@dataclass(frozen=True)
class Topic:
    """One Kafka topic of the pipeline, declared once: the module spec's ingresses and egresses, the chart's
    KafkaTopics, the local broker's topics and the docs' topic table are all generated from `TOPICS`."""

    name: str
    key: str
    value: str
    partitions: int
    ingress: Ingress | None = None
    egress: Egress | None = None

    @property
    def id(self) -> str:
        """The StateFun id of its ingress or egress."""
        return f"{NAMESPACE}/{self.name}"


def declare_topics(*topics: Topic) -> tuple[Topic, ...]:
    """The topics, checked: unique legal names, at least one partition, read or written by the runtime (one
    of the two), record types and targets in the namespace, each record type from one topic only."""
    problems = []
    names = [topic.name for topic in topics]
    problems += [f"topic {name} is declared twice" for name in sorted({n for n in names if names.count(n) > 1})]
    for topic in topics:
        if not TOPIC_NAME.fullmatch(topic.name):
            problems.append(f"topic {topic.name!r} is not a lower-case Kafka topic name")
        if topic.partitions < 1:
            problems.append(f"topic {topic.name} has {topic.partitions} partitions")
        if (topic.ingress is None) == (topic.egress is None):
            problems.append(f"topic {topic.name} must be either read (ingress) or written (egress) by the runtime")
        if topic.ingress is not None:
            for name in (topic.ingress.record_type, topic.ingress.target):
                if not name.startswith(f"{NAMESPACE}/"):
                    problems.append(f"topic {topic.name}: {name} is outside the namespace {NAMESPACE}")
        if (
            topic.egress is not None
            and topic.egress.delivery_setting is not None
            and not SETTING_NAME.fullmatch(topic.egress.delivery_setting)
        ):
            problems.append(f"topic {topic.name}: {topic.egress.delivery_setting!r} is not a setting name")
    record_types = [topic.ingress.record_type for topic in topics if topic.ingress is not None]
    problems += [
        f"record type {name} comes from two topics" for name in {n for n in record_types if record_types.count(n) > 1}
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return topics


# Every topic the pipeline uses. Partitions bound the parallelism a larger deployment can use for each topic;
# dead letters are rare and kept in order.
TOPICS = declare_topics(
    Topic(
        TRANSACTIONS_TOPIC,
        key="transaction id",
        value="`Transaction`: `{account, merchant, amount, timestamp}` (extra fields ignored)",
        partitions=4,
        ingress=Ingress(TRANSACTION_RECORD, target=f"{NAMESPACE}/transaction-manager"),
    ),
    Topic(
        CONFIRMED_TOPIC,
        key="account",
        value="`Confirmation`: `{account}`, the same account as the key",
        partitions=4,
        ingress=Ingress(CONFIRM_FRAUD_RECORD, target=f"{NAMESPACE}/fraud-count"),
    ),
    Topic(
        THRESHOLDS_TOPIC,
        key="account",
        value="`AccountThreshold`: `{account, threshold}`, threshold 1..100",
        partitions=4,
        ingress=Ingress(THRESHOLD_RECORD, target=f"{NAMESPACE}/threshold"),
    ),
    Topic(
        ALERTS_TOPIC,
        key="account",
        value="`Alert`: the transaction's four fields, then why (score, threshold, model version, reasons)",
        partitions=4,
        # at-least-once serves consumers that cannot read transaction markers (the workshop's kafka-python).
        egress=Egress(delivery_setting="ALERTS_DELIVERY"),
    ),
    Topic(
        DECISIONS_TOPIC,
        key="transaction id",
        value="`Decision`: one per transaction, `alert`, `no_alert`, `dead_letter` or `expired`, and why",
        partitions=4,
        egress=Egress(),
    ),
    Topic(
        DEAD_LETTERS_TOPIC,
        key="the function's address (the record's key, or its position when it had none)",
        value="`dead_letter`: the reason, where it came from and the original bytes",
        partitions=1,
        egress=Egress(),
    ),
)


def topic(name: str) -> Topic:
    """The declaration of topic `name`; KeyError for a topic the pipeline does not have."""
    for item in TOPICS:
        if item.name == name:
            return item
    raise KeyError(f"no topic {name} in fraud_common.contract.TOPICS")


def egress_id(name: str) -> str:
    """The id of the egress that writes topic `name`, checked to be one the runtime has."""
    if topic(name).egress is None:
        raise KeyError(f"topic {name} has no egress: the runtime reads it")
    return topic(name).id


# Flink's Kafka producer names its transactions `<task name>-<operator id>-<n>` (FlinkKafkaProducer, Flink 1.16:
# StateFun sets no prefix of its own), and StateFun chains the egresses behind its `feedback-union` and
# `functions` operators, so every transactional id of the runtime's exactly-once egresses starts with this.
# The secured end-to-end suite runs the runtime with exactly this grant, so a change of StateFun's naming fails it.
STATEFUN_TRANSACTIONAL_ID_PREFIX = "feedback-union -> functions -> "


@dataclass(frozen=True)
class KafkaAccess:
    """What one component does on Kafka, and so exactly what its Kafka user may do: read `reads` (through the
    consumer group its setting `group_setting` names, if any), write `writes` (in Kafka transactions whose ids
    start with `transactional_id_prefix`, if set), or only watch the lag of that group on `lag_of`. The chart's
    KafkaUsers and the local broker's ACLs are made from `KAFKA_ACCESS`; nothing else is granted."""

    component: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    group_setting: str | None = None
    transactional_id_prefix: str | None = None
    lag_of: tuple[str, ...] = ()

    def acls(self, group: str | None) -> tuple[Acl, ...]:
        """The grants, in Strimzi's terms (Read and Write imply Describe in Kafka; it is spelled out, as
        Strimzi's examples do); `group` is the name the component's group setting has where it runs."""
        if (group is None) != (self.group_setting is None):
            raise ValueError(f"{self.component}: a group name exactly when it uses a group")
        grants = [Acl("topic", name, ("Read", "Describe")) for name in self.reads]
        grants += [Acl("topic", name, ("Describe",)) for name in self.lag_of]
        if group is not None:
            grants.append(Acl("group", group, ("Read",) if self.reads else ("Describe",)))
        grants += [Acl("topic", name, ("Write", "Describe")) for name in self.writes]
        if self.transactional_id_prefix is not None:
            grants += [
                Acl("transactionalId", self.transactional_id_prefix, ("Write", "Describe"), pattern="prefix"),
                Acl("cluster", "kafka-cluster", ("IdempotentWrite",)),
            ]
        return tuple(grants)


@dataclass(frozen=True)
class Acl:
    """Operations allowed on one Kafka resource: a topic, a consumer group, the transactional ids matching a
    prefix, or the cluster (whose name Kafka always calls kafka-cluster)."""

    resource_type: str
    name: str
    operations: tuple[str, ...]
    pattern: str = "literal"


def declare_access(topics: Sequence[Topic], *entries: KafkaAccess) -> tuple[KafkaAccess, ...]:
    """The components' access, checked: each component once, only `topics`, a group only for a reader."""
    problems = []
    names = [entry.component for entry in entries]
    problems += [f"component {name} is declared twice" for name in sorted({n for n in names if names.count(n) > 1})]
    known = {item.name for item in topics}
    for entry in entries:
        used = (*entry.reads, *entry.writes, *entry.lag_of)
        problems += [f"{entry.component}: no topic {name}" for name in used if name not in known]
        if entry.group_setting is not None and not (entry.reads or entry.lag_of):
            problems.append(f"{entry.component} has a consumer group but reads nothing")
        if entry.group_setting is not None and not SETTING_NAME.fullmatch(entry.group_setting):
            problems.append(f"{entry.component}: {entry.group_setting!r} is not a setting name")
        if entry.transactional_id_prefix is not None and not entry.writes:
            problems.append(f"{entry.component} has transactions but writes nothing")
    if problems:
        raise ValueError("; ".join(problems))
    return entries


def kafka_access(topics: Sequence[Topic]) -> tuple[KafkaAccess, ...]:
    """Who uses Kafka, and for what. The runtime reads every topic an ingress reads and writes every topic an
    egress writes (exactly-once: in transactions); the simulator writes the pipeline's input and reads the
    alerts it prints and confirms; `helm test`'s smoke test sends one transaction and waits for its decision
    or alert (without a group, from positions it pins itself); KEDA, when it scales the runtime, reads how far the
    runtime's group lags behind `transactions`."""
    return declare_access(
        topics,
        KafkaAccess(
            "statefun-runtime",
            reads=tuple(item.name for item in topics if item.ingress is not None),
            writes=tuple(item.name for item in topics if item.egress is not None),
            group_setting="KAFKA_CONSUMER_GROUP",
            transactional_id_prefix=STATEFUN_TRANSACTIONAL_ID_PREFIX,
        ),
        KafkaAccess(
            "simulator",
            reads=(ALERTS_TOPIC,),
            writes=(TRANSACTIONS_TOPIC, CONFIRMED_TOPIC, THRESHOLDS_TOPIC),
            group_setting="SIMULATOR_GROUP",
        ),
        KafkaAccess("smoke-test", reads=(DECISIONS_TOPIC, ALERTS_TOPIC), writes=(TRANSACTIONS_TOPIC,)),
        KafkaAccess("keda", lag_of=(TRANSACTIONS_TOPIC,), group_setting="KAFKA_CONSUMER_GROUP"),
    )


KAFKA_ACCESS = kafka_access(TOPICS)


MAX_RECORD_BYTES = 64 * 1024
MAX_ID_LENGTH = 128
MAX_AMOUNT = 1_000_000_000

# Merchants become StateFun addresses and URL path segments of merchant-service:
# letters, digits and a few separators, starting with a letter or digit.
MERCHANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'\-]{0,127}$")
# W3C trace context: version 00, trace id, parent span id, flags.
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
# Control characters other than tab, newline and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Accounts and transaction ids: printable, no whitespace, no control characters.
IDENTIFIER = re.compile(rf"^[\x21-\x7E]{{1,{MAX_ID_LENGTH}}}$")


class ContractError(ValueError):
    """A record breaks the contract; `reason` is a short, stable, metric-friendly code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


WORKSHOP_FIELDS = ("account", "merchant", "amount", "timestamp")


def workshop_fields(record: Any) -> dict[str, Any]:
    """The four fields, in the workshop's order, that a transaction and an alert both start with."""
    return {name: getattr(record, name) for name in WORKSHOP_FIELDS}


@dataclass(frozen=True)
class Transaction:
    """A card transaction as it arrives on the `transactions` topic."""

    transaction_id: str
    account: str
    merchant: str
    amount: int | float
    timestamp: str
    # W3C trace context of the span that produced it (an extra field; absent when tracing is off).
    traceparent: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON value written to Kafka: the workshop's four fields, then the trace context if any."""
        return with_traceparent(workshop_fields(self), self.traceparent)

    @classmethod
    def from_record(cls, transaction_id: str, record: Mapping[str, Any]) -> Transaction:
        """The inverse of `to_record`, for a value this code wrote itself (stored state), so not validated again;
        a record from Kafka goes through `parse_transaction`."""
        return cls(
            transaction_id=transaction_id,
            account=record["account"],
            merchant=record["merchant"],
            amount=record["amount"],
            timestamp=record["timestamp"],
            traceparent=record.get("traceparent"),
        )


def with_traceparent(record: dict[str, Any], traceparent: str | None) -> dict[str, Any]:
    """A record value with a `traceparent` field when there is one to carry."""
    if traceparent is not None:
        record["traceparent"] = traceparent
    return record


@dataclass(frozen=True)
class Confirmation:
    """A confirmed fraud for one account, from the `confirmed` topic."""

    account: str


@dataclass(frozen=True)
class AccountThreshold:
    """An account's own alert threshold, 1..100, from the `thresholds` topic (as the workshop's generator writes it).

    The pipeline alerts on that account when the model's score (0..1) reaches threshold / 100.
    """

    account: str
    threshold: float


THRESHOLD_RANGE = (1, 100)


@dataclass(frozen=True)
class Alert:
    """A suspected fraud on the `alerts` topic (key = account).

    The first four fields are the workshop's transaction, so its simulator can
    print alerts unchanged; the rest explains the decision.
    """

    account: str
    merchant: str
    amount: int | float
    timestamp: str
    transaction_id: str
    score: float
    threshold: float
    model_version: str
    reasons: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)
    traceparent: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON value, workshop fields first (dicts keep insertion order)."""
        return with_traceparent(
            {
                **workshop_fields(self),
                "transaction_id": self.transaction_id,
                "score": self.score,
                "threshold": self.threshold,
                "model_version": self.model_version,
                "reasons": list(self.reasons),
                "degraded": list(self.degraded),
            },
            self.traceparent,
        )


class Outcome(StrEnum):
    """What became of a transaction; its value is the `outcome` field of the `decisions` record."""

    ALERT = "alert"  # scored at or above the threshold: an alert was sent too
    NO_ALERT = "no_alert"  # scored below the threshold
    DEAD_LETTER = "dead_letter"  # the record could not be used; the dead letter says why
    EXPIRED = "expired"  # the model did not answer by the second deadline


@dataclass(frozen=True)
class ShadowScore:
    """A challenger model's verdict on a transaction, recorded beside the champion's: it never alerts.

    `would_alert` compares its score with the threshold the decision used for the champion when that was the
    account's own, else with the challenger's own (`threshold`).
    """

    model_version: str
    score: float
    threshold: float
    would_alert: bool
    features: Mapping[str, float] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "score": self.score,
            "threshold": self.threshold,
            "would_alert": self.would_alert,
            "features": dict(self.features),
        }


@dataclass(frozen=True)
class Decision:
    """The outcome of one transaction on the `decisions` topic (key = transaction id): the audit trail.

    `alert` and `no_alert` carry the score, threshold, model version and which
    features were degraded (a fallback that kept a score below the threshold is
    visible here); `dead_letter` and `expired` carry the `reason`. A transaction
    id has one decision, except that a dead-lettered transaction that is fixed
    and replayed gets a second one that supersedes it (same key: a compacted
    topic keeps the last).
    """

    transaction_id: str
    outcome: Outcome
    decided_at_ms: int
    transaction: Transaction | None = None
    score: float | None = None
    threshold: float | None = None
    model_version: str | None = None
    reasons: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)
    reason: str | None = None
    latency_ms: int | None = None
    traceparent: str | None = None
    # "account" when the account's own threshold decided (topic `thresholds`), "model" otherwise.
    threshold_source: str | None = None
    # The model's inputs after its transforms, by feature name.
    features: Mapping[str, float] = field(default_factory=dict)
    # The values the model was given, by source ("merchant.score", "transaction.amount"): what a backtest rescores
    # a candidate model from, whatever its transforms.
    inputs: Mapping[str, float] = field(default_factory=dict)
    # The challenger's verdict when one runs in shadow (CHALLENGER_MODEL_PATH).
    challenger: ShadowScore | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON value: the workshop's four fields first when the transaction was readable."""
        return with_traceparent(
            {
                **(self.transaction.to_record() if self.transaction else {}),
                "transaction_id": self.transaction_id,
                "outcome": self.outcome.value,
                "score": self.score,
                "threshold": self.threshold,
                "threshold_source": self.threshold_source,
                "model_version": self.model_version,
                "features": dict(self.features),
                "inputs": dict(self.inputs),
                "challenger": self.challenger.to_record() if self.challenger else None,
                "reasons": list(self.reasons),
                "degraded": list(self.degraded),
                "reason": self.reason,
                "decided_at_ms": self.decided_at_ms,
                "latency_ms": self.latency_ms,
            },
            self.traceparent,
        )


def encode(record: Mapping[str, Any]) -> bytes:
    """Serialise a record value as compact UTF-8 JSON."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _non_finite(literal: str) -> Any:
    raise ContractError("non_finite_number", f"{literal} is not a JSON number")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ContractError("non_finite_number", f"{literal[:32]} does not fit a 64-bit float")
    return number


def decode_object(raw: bytes | None) -> dict[str, Any]:
    """Parse a record value that must be a JSON object, naming what is wrong with anything else.

    Python's json module accepts NaN and Infinity (not JSON), turns 1e999 into
    inf, raises ValueError (not JSONDecodeError) for an integer of thousands of
    digits and RecursionError for deep nesting; each becomes its own reason here
    instead of an internal error.
    """
    if raw is None or len(raw) == 0:
        raise ContractError("empty_value", "the record has no value")
    if len(raw) > MAX_RECORD_BYTES:
        raise ContractError("too_large", f"{len(raw)} bytes exceed {MAX_RECORD_BYTES}")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_non_finite, parse_float=_finite_float)
    except ContractError:
        raise
    except UnicodeDecodeError as err:
        raise ContractError("invalid_utf8", str(err)) from None
    except json.JSONDecodeError as err:
        raise ContractError("invalid_json", str(err)) from None
    except RecursionError:
        raise ContractError("too_deeply_nested", "the value nests deeper than the JSON parser allows") from None
    except ValueError as err:  # int() refuses integers of more than 4300 digits
        raise ContractError("number_out_of_range", str(err)[:200]) from None
    if not isinstance(value, dict):
        raise ContractError("not_an_object", f"expected a JSON object, got {type(value).__name__}")
    return value


def _required_string(value: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    if name not in value:
        raise ContractError("missing_field", f"'{name}' is missing")
    item = value[name]
    if not isinstance(item, str):
        raise ContractError("wrong_type", f"'{name}' must be a string, got {type(item).__name__}")
    if not pattern.fullmatch(item):
        raise ContractError(f"invalid_{name}", f"'{name}' has an invalid value {item[:64]!r}")
    return item


def validate_identifier(name: str, value: str | None) -> str:
    """Check a Kafka key or id: present, printable, at most 128 characters."""
    if value is None or not IDENTIFIER.fullmatch(value):
        raise ContractError(
            "invalid_key", f"{name} {str(value)[:64]!r} is empty, longer than {MAX_ID_LENGTH} or not printable ASCII"
        )
    return value


def _amount(value: Mapping[str, Any]) -> int | float:
    if "amount" not in value:
        raise ContractError("missing_field", "'amount' is missing")
    amount = value["amount"]
    # bool is an int in Python; true/false is not an amount.
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise ContractError("wrong_type", f"'amount' must be a number, got {type(amount).__name__}")
    if not math.isfinite(amount):
        raise ContractError("non_finite_number", "'amount' must be finite")
    if amount < 0:
        raise ContractError("negative_amount", f"'amount' {amount} is negative")
    if amount > MAX_AMOUNT:
        raise ContractError("amount_out_of_range", f"'amount' {str(amount)[:32]} exceeds {MAX_AMOUNT}")
    return amount


def _timestamp(value: Mapping[str, Any]) -> str:
    if "timestamp" not in value:
        raise ContractError("missing_field", "'timestamp' is missing")
    stamp = value["timestamp"]
    if not isinstance(stamp, str):
        raise ContractError("wrong_type", f"'timestamp' must be an ISO-8601 string, got {type(stamp).__name__}")
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        raise ContractError("invalid_timestamp", f"'timestamp' {stamp[:64]!r} is not ISO-8601") from None
    return stamp


def _traceparent(value: Mapping[str, Any]) -> str | None:
    """The record's trace context if it carries a well-formed one; tracing never rejects a record."""
    candidate = value.get("traceparent")
    return candidate if isinstance(candidate, str) and TRACEPARENT.fullmatch(candidate) else None


def parse_transaction(transaction_id: str | None, raw: bytes | None) -> Transaction:
    """Validate a `transactions` record (key = transaction id) or raise ContractError."""
    validate_identifier("transaction id", transaction_id)
    value = decode_object(raw)
    return Transaction(
        transaction_id=transaction_id,  # type: ignore[arg-type]  # validated above
        account=_required_string(value, "account", IDENTIFIER),
        merchant=_required_string(value, "merchant", MERCHANT_NAME),
        amount=_amount(value),
        timestamp=_timestamp(value),
        traceparent=_traceparent(value),
    )


def _account_record(account_key: str | None, raw: bytes | None) -> tuple[str, dict[str, Any]]:
    """A record keyed by account whose body names the same account: (account, the decoded body).

    The key routes the record to the account's function, so a body that names
    another account is contradictory and rejected rather than guessed.
    """
    validate_identifier("account key", account_key)
    value = decode_object(raw)
    account = _required_string(value, "account", IDENTIFIER)
    if account != account_key:
        raise ContractError("key_mismatch", f"key {account_key!r} differs from account {account!r}")
    return account, value


def parse_confirmation(account_key: str | None, raw: bytes | None) -> Confirmation:
    """Validate a `confirmed` record (key = account, value ``{"account"}``)."""
    account, _ = _account_record(account_key, raw)
    return Confirmation(account=account)


def parse_threshold(account_key: str | None, raw: bytes | None) -> AccountThreshold:
    """Validate a `thresholds` record (key = account, value ``{"account", "threshold"}``, threshold 1..100)."""
    account, value = _account_record(account_key, raw)
    if "threshold" not in value:
        raise ContractError("missing_field", "'threshold' is missing")
    threshold = value["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ContractError("wrong_type", f"'threshold' must be a number, got {type(threshold).__name__}")
    low, high = THRESHOLD_RANGE
    if not low <= threshold <= high:
        raise ContractError("threshold_out_of_range", f"'threshold' {str(threshold)[:32]} is not within {low}..{high}")
    return AccountThreshold(account=account, threshold=float(threshold))


def parse_alert(raw: bytes | None) -> dict[str, Any]:
    """Read an `alerts` value far enough to print it; raises ContractError otherwise."""
    value = decode_object(raw)
    for name in ("account", "merchant", "amount"):
        if name not in value:
            raise ContractError("missing_field", f"'{name}' is missing")
    return value


def format_alert(alert: Mapping[str, Any]) -> str:
    """The workshop's alert line, e.g. 'Suspected Fraud for account id 0x00F3CD51 at Hypergrid for 36 USD'."""
    return f"Suspected Fraud for account id {alert['account']} at {alert['merchant']} for {alert['amount']} USD"


def _text_or_base64(name: str, data: bytes | None, force_base64: bool = False) -> dict[str, Any]:
    """`name` as text when it is clean UTF-8, else `name_base64`, so a replay gets the exact bytes back.

    Text with control characters goes as base64 too: JSON would escape each one
    into six characters, and a dead letter must stay within the egress's limits.
    """
    if data is None:
        return {name: None}
    if not force_base64:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and not CONTROL_CHARACTERS.search(text):
            return {name: text}
    return {name: None, f"{name}_base64": base64.b64encode(data).decode("ascii")}


@dataclass(frozen=True)
class DeadLetterOrigin:
    """Where a dead-lettered message came from: a Kafka record (with its position) or a function."""

    source: str
    key: bytes | None
    value: bytes | None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None
    value_size: int | None = None
    truncated: bool = False


def dead_letter(origin: DeadLetterOrigin, error: ContractError, function: str, address_id: str) -> dict[str, Any]:
    """The value of a `dead-letters` record: why, where from, and the original bytes for a replay.

    `topic`, `partition`, `offset`, `key` and `value` are the record as it was on
    Kafka (bytes that are not clean UTF-8 go as `key_base64`/`value_base64`); a
    value the ingress cut short is flagged `truncated` and cannot be replayed.
    """
    return {
        "reason": error.reason,
        "detail": error.detail,
        "function": function,
        "source": origin.source,
        "address_id": address_id,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "timestamp": origin.timestamp_ms,
        **_text_or_base64("key", origin.key),
        **_text_or_base64("value", origin.value, force_base64=origin.truncated),
        "value_size": len(origin.value)
        if origin.value_size is None and origin.value is not None
        else origin.value_size,
        "truncated": origin.truncated,
    }


class NotReplayable(ValueError):
    """A dead letter whose original record cannot be rebuilt (cut short, or not from Kafka)."""


def original_record(letter: Mapping[str, Any]) -> tuple[str, bytes | None, bytes | None]:
    """(topic, key bytes, value bytes) of the Kafka record a dead letter was made from, exactly."""
    topic = letter.get("topic")
    if not isinstance(topic, str):
        raise NotReplayable(f"it did not come from Kafka (source {letter.get('source')})")
    if letter.get("truncated"):
        raise NotReplayable(f"its value was cut short ({letter.get('value_size')} bytes)")

    def part(name: str) -> bytes | None:
        encoded = letter.get(f"{name}_base64")
        if encoded is not None:
            return base64.b64decode(encoded)
        text = letter.get(name)
        return None if text is None else str(text).encode("utf-8")

    return topic, part("key"), part("value")
