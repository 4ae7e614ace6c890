"""Kafka records as the runtime's tolerant ingress delivers them: an address id and an envelope.

A test-side encoder of the envelope (the runtime's is RecordEnvelope.java), held
to the same shared examples as both real sides by tests/unit/common/test_envelope.py.
"""

from __future__ import annotations

import base64
import json
from itertools import count

EXAMPLES = "runtime/extension/src/test/resources/envelope-examples.json"
TRUNCATED_PREFIX_BYTES = 4096
_offsets = count()


def envelope(
    topic: str,
    partition: int,
    offset: int,
    timestamp: int,
    key: bytes | None,
    value: bytes | None,
    max_value_bytes: int = 65536,
) -> bytes:
    if key is None:
        state = "missing"
    elif key == b"":
        state = "empty"
    else:
        try:
            key.decode("utf-8")
            state = "ok"
        except UnicodeDecodeError:
            state = "not_utf8"
    truncated = value is not None and len(value) > max_value_bytes
    body = b"" if value is None else value[: min(TRUNCATED_PREFIX_BYTES, max_value_bytes)] if truncated else value
    header = (
        f'{{"v":1,"topic":{json.dumps(topic)},"partition":{partition},"offset":{offset},'
        f'"timestamp":{timestamp},"key":"{state}"'
    )
    if state == "not_utf8" and key is not None:
        header += f',"key_base64":"{base64.b64encode(key).decode()}"'
    header += f',"value_size":{-1 if value is None else len(value)},"truncated":{"true" if truncated else "false"}}}'
    return b"\x00" + header.encode() + b"\n" + body


def address_id(topic: str, partition: int, offset: int, key: bytes | None) -> str:
    """The id the ingress routes a record to: the key, or a placeholder naming the record's position."""
    if key is None:
        return f"(missing key) {topic}/{partition}/{offset}"
    if key == b"":
        return f"(empty key) {topic}/{partition}/{offset}"
    return key.decode("utf-8", errors="replace")


def ingress_record(topic: str, key: bytes | None, value: bytes | None, partition: int = 0) -> tuple[str, bytes]:
    """(address id, payload) of a record at the next offset of `topic`."""
    offset = next(_offsets)
    return address_id(topic, partition, offset, key), envelope(
        topic, partition, offset, 1764300000000 + offset, key, value
    )
