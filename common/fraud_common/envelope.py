"""Reading the envelope in which the runtime's tolerant Kafka ingress delivers every record.

The ingress (runtime/extension, `RecordEnvelope.java`) hands a function
``0x00 <one line of JSON: topic, partition, offset, timestamp, key state, value size> 0x0A <value>``
instead of the bare value, because a record the functions reject must reach the
dead letters with its position and its original bytes, and only the ingress
knows them. A payload without the leading NUL is a bare value (queued before
the envelope existed); it is read as such, with its position unknown.

Both sides are tested against runtime/extension/src/test/resources/envelope-examples.json.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fraud_common.contract import MAX_RECORD_BYTES, ContractError, DeadLetterOrigin

MAGIC = b"\x00"
KEY_STATES = ("ok", "missing", "empty", "not_utf8")


@dataclass(frozen=True)
class IngressRecord:
    """One Kafka record as a function receives it: its value and, when known, where it came from."""

    value: bytes | None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None
    key_state: str = "ok"
    key_base64: str | None = None
    value_size: int = 0
    truncated: bool = False

    @property
    def position(self) -> str:
        """`topic/partition/offset`, or why it is not known."""
        if self.topic is None:
            return "an unknown position"
        return f"{self.topic}/{self.partition}/{self.offset}"

    def check_key(self, name: str) -> None:
        """Raise the dead-letter reason of a record whose key cannot be an address id."""
        if self.key_state == "missing":
            raise ContractError("missing_key", f"the record at {self.position} has no {name}")
        if self.key_state == "empty":
            raise ContractError("empty_key", f"the record at {self.position} has an empty {name}")
        if self.key_state == "not_utf8":
            raise ContractError("invalid_key", f"the {name} of the record at {self.position} is not UTF-8")

    def complete_value(self) -> bytes | None:
        """The value bytes, refusing a value the ingress cut short because it was too large."""
        if self.truncated:
            raise ContractError("too_large", f"{self.value_size} bytes exceed {MAX_RECORD_BYTES}")
        return self.value


def _field(header: dict[str, Any], name: str, kind: type, optional: bool = False) -> Any:
    value = header.get(name)
    if value is None and optional:
        return None
    # bool is an int in Python: a flag is not a number, nor a number a flag.
    right_kind = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if not right_kind:
        raise ContractError("malformed_envelope", f"envelope field '{name}' is missing or not a {kind.__name__}")
    return value


def read_envelope(payload: bytes | None) -> IngressRecord:
    """The record inside an ingress payload; a payload without the envelope is a bare value."""
    if not payload:
        return IngressRecord(value=None)
    if not payload.startswith(MAGIC):
        return IngressRecord(value=payload, value_size=len(payload))
    end = payload.find(b"\n", 1)
    if end < 0:
        raise ContractError("malformed_envelope", "the envelope header has no end")
    try:
        header = json.loads(payload[1:end])
    except (UnicodeDecodeError, ValueError) as err:
        raise ContractError("malformed_envelope", f"the envelope header is not JSON: {err}") from None
    if not isinstance(header, dict) or header.get("v") != 1:
        raise ContractError("malformed_envelope", "the envelope header is not a version 1 object")
    key_state = _field(header, "key", str)
    if key_state not in KEY_STATES:
        raise ContractError("malformed_envelope", f"unknown key state {key_state[:32]!r}")
    key_base64 = _field(header, "key_base64", str, optional=True)
    value_size = _field(header, "value_size", int)
    return IngressRecord(
        value=None if value_size < 0 else payload[end + 1 :],
        topic=_field(header, "topic", str),
        partition=_field(header, "partition", int),
        offset=_field(header, "offset", int),
        timestamp_ms=_field(header, "timestamp", int),
        key_state=key_state,
        key_base64=key_base64,
        value_size=value_size,
        truncated=_field(header, "truncated", bool),
    )


def original_key(record: IngressRecord, address_id: str) -> bytes | None:
    """The record's key bytes as they were on Kafka (None when it had none)."""
    if record.key_state == "missing":
        return None
    if record.key_state == "empty":
        return b""
    if record.key_base64 is not None:
        try:
            return base64.b64decode(record.key_base64, validate=True)
        except binascii.Error:
            raise ContractError("malformed_envelope", "key_base64 is not base64") from None
    return address_id.encode("utf-8")


def dead_letter_origin(record: IngressRecord, address_id: str, source: str) -> DeadLetterOrigin:
    """What a dead letter needs to say about an ingress record: its position and original bytes."""
    try:
        key = original_key(record, address_id)
    except ContractError:
        key = address_id.encode("utf-8")
    return DeadLetterOrigin(
        source=source,
        key=key,
        value=record.value,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp_ms,
        value_size=record.value_size,
        truncated=record.truncated,
    )


T = TypeVar("T")


def parse_record(
    payload: bytes | None, address_id: str, key_name: str, parse: Callable[[str, bytes | None], T]
) -> tuple[IngressRecord, T]:
    """Read an ingress payload and validate its key and value with `parse`; raises ContractError."""
    record = read_envelope(payload)
    record.check_key(key_name)
    return record, parse(address_id, record.complete_value())
