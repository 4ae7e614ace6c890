"""The Kafka contract of the pipeline: topics, record shapes and validation.

One module says what a valid record is, so the functions (which must dead-letter
bad input instead of raising), the simulator (which produces and reads records)
and the tests cannot drift apart. The shapes stay compatible with the StateFun
workshop's simulator: a transaction is the JSON object
``{"account", "merchant", "amount", "timestamp"}`` keyed by a transaction id, a
confirmation is ``{"account"}`` keyed by the account, and an alert starts with
the transaction's four fields. Extra fields are accepted and ignored.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

TRANSACTIONS_TOPIC = "transactions"
CONFIRMED_TOPIC = "confirmed"
ALERTS_TOPIC = "alerts"
DEAD_LETTERS_TOPIC = "dead-letters"
DECISIONS_TOPIC = "decisions"

# Every topic the pipeline uses, with its partition count: the one list that the local stack
# creates and the Kubernetes chart's KafkaTopics must match. Partitions bound the parallelism a
# larger deployment can use for each topic; dead letters are rare and kept in order.
TOPIC_PARTITIONS = {
    TRANSACTIONS_TOPIC: 4,
    CONFIRMED_TOPIC: 4,
    ALERTS_TOPIC: 4,
    DECISIONS_TOPIC: 4,
    DEAD_LETTERS_TOPIC: 1,
}

MAX_RECORD_BYTES = 64 * 1024
MAX_ID_LENGTH = 128
MAX_AMOUNT = 1_000_000_000

# The runtime's tolerant Kafka ingress (runtime/extension/src/.../ingress) gives a record without a key the id
# "(missing key) <topic>/<partition>/<offset>"; it must match the Java constant of the same meaning.
MISSING_KEY_MARKER = "(missing key)"

# Merchants become StateFun addresses and URL path segments of merchant-service:
# letters, digits and a few separators, starting with a letter or digit.
MERCHANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'\-]{0,127}$")
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

    def to_record(self) -> dict[str, Any]:
        """The JSON value written to Kafka (the workshop's four fields)."""
        return workshop_fields(self)


@dataclass(frozen=True)
class Confirmation:
    """A confirmed fraud for one account, from the `confirmed` topic."""

    account: str


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

    def to_record(self) -> dict[str, Any]:
        """The JSON value, workshop fields first (dicts keep insertion order)."""
        return {
            **workshop_fields(self),
            "transaction_id": self.transaction_id,
            "score": self.score,
            "threshold": self.threshold,
            "model_version": self.model_version,
            "reasons": list(self.reasons),
            "degraded": list(self.degraded),
        }


def encode(record: Mapping[str, Any]) -> bytes:
    """Serialise a record value as compact UTF-8 JSON."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_object(raw: bytes | None) -> dict[str, Any]:
    """Parse a record value that must be a JSON object."""
    if raw is None or len(raw) == 0:
        raise ContractError("empty_value", "the record has no value")
    if len(raw) > MAX_RECORD_BYTES:
        raise ContractError("too_large", f"{len(raw)} bytes exceed {MAX_RECORD_BYTES}")
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ContractError("invalid_utf8", str(err)) from None
    except json.JSONDecodeError as err:
        raise ContractError("invalid_json", str(err)) from None
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
        raise ContractError("invalid_value", f"'{name}' has an invalid value {item[:64]!r}")
    return item


def validate_identifier(name: str, value: str | None) -> str:
    """Check a Kafka key or id: present, printable, at most 128 characters."""
    if value is not None and value.startswith(MISSING_KEY_MARKER):
        raise ContractError("missing_key", f"the record has no {name}; it was at {value[len(MISSING_KEY_MARKER):].strip()}")
    if value is None or not IDENTIFIER.fullmatch(value):
        raise ContractError("invalid_key",
                            f"{name} {str(value)[:64]!r} is empty, longer than {MAX_ID_LENGTH} or not printable ASCII")
    return value


def _amount(value: Mapping[str, Any]) -> int | float:
    if "amount" not in value:
        raise ContractError("missing_field", "'amount' is missing")
    amount = value["amount"]
    # bool is an int in Python; true/false is not an amount.
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise ContractError("wrong_type", f"'amount' must be a number, got {type(amount).__name__}")
    if not math.isfinite(amount):
        raise ContractError("invalid_value", "'amount' must be finite")
    if amount < 0:
        raise ContractError("negative_amount", f"'amount' {amount} is negative")
    if amount > MAX_AMOUNT:
        raise ContractError("invalid_value", f"'amount' {amount} exceeds {MAX_AMOUNT}")
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
        raise ContractError("invalid_value", f"'timestamp' {stamp[:64]!r} is not ISO-8601") from None
    return stamp


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
    )


def parse_confirmation(account_key: str | None, raw: bytes | None) -> Confirmation:
    """Validate a `confirmed` record (key = account, value ``{"account"}``).

    The key routes the record to the account's fraud counter, so a body that
    names another account is contradictory and rejected rather than guessed.
    """
    validate_identifier("account key", account_key)
    value = decode_object(raw)
    account = _required_string(value, "account", IDENTIFIER)
    if account != account_key:
        raise ContractError("key_mismatch", f"key {account_key!r} differs from account {account!r}")
    return Confirmation(account=account)


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


def dead_letter(
    source: str,
    key: str | None,
    error: ContractError,
    payload: bytes | None,
    function: str,
) -> dict[str, Any]:
    """The value of a `dead-letters` record: where it came from, why, and the original bytes."""
    text = None if payload is None else payload[:MAX_RECORD_BYTES].decode("utf-8", errors="replace")
    return {
        "source": source,
        "function": function,
        "key": key,
        "reason": error.reason,
        "detail": error.detail,
        "payload": text,
    }
