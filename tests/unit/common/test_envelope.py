"""The record envelope of the tolerant ingress, read by the functions: the shared examples, and bad envelopes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from fraud_common.contract import MAX_RECORD_BYTES, ContractError, parse_transaction
from fraud_common.envelope import (
    IngressRecord,
    original_key,
    parse_record,
    read_envelope,
)
from fraud_dev.ingress_records import (
    EXAMPLES,
    TRUNCATED_PREFIX_BYTES,
    address_id,
    envelope,
)

REPO = Path(__file__).resolve().parents[3]
JAVA = REPO / "runtime/extension/src/main/java/io/fraudplatform/runtime/ingress"


def examples() -> list[dict]:
    return json.loads((REPO / EXAMPLES).read_text())["examples"]


def b64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["name"])
def test_each_shared_example_reads_back_as_the_record_it_came_from(example):
    record = read_envelope(b64(example["envelope_base64"]))
    key, value = b64(example["key_base64"]), b64(example["value_base64"])
    assert (record.topic, record.partition, record.offset, record.timestamp_ms) == (
        example["topic"],
        example["partition"],
        example["offset"],
        example["timestamp"],
    )
    assert record.value_size == (-1 if value is None else len(value))
    assert record.truncated == (value is not None and len(value) > example["max_value_bytes"])
    if not record.truncated:
        assert record.value == value
    ingress_id = address_id(example["topic"], example["partition"], example["offset"], key)
    assert original_key(record, ingress_id) == key


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["name"])
def test_the_test_encoder_writes_the_shared_examples_exactly(example):
    # tests build ingress records with dev/fraud_dev/ingress_records.py; it must write what the runtime writes.
    assert envelope(
        example["topic"],
        example["partition"],
        example["offset"],
        example["timestamp"],
        b64(example["key_base64"]),
        b64(example["value_base64"]),
        example["max_value_bytes"],
    ) == b64(example["envelope_base64"])


def test_the_limits_agree_with_the_java_ingress():
    spec = (JAVA / "TolerantKafkaIngressSpec.java").read_text()
    envelope_java = (JAVA / "RecordEnvelope.java").read_text()
    assert "DEFAULT_MAX_VALUE_BYTES = 64 * 1024;" in spec and MAX_RECORD_BYTES == 64 * 1024
    assert f"TRUNCATED_PREFIX_BYTES = {TRUNCATED_PREFIX_BYTES};" in envelope_java


@pytest.mark.parametrize(
    "state, reason", [("missing", "missing_key"), ("empty", "empty_key"), ("not_utf8", "invalid_key")]
)
def test_an_unusable_key_has_its_own_reason_and_names_the_position(state, reason):
    record = IngressRecord(value=b"{}", topic="transactions", partition=1, offset=9, key_state=state)
    with pytest.raises(ContractError) as error:
        record.check_key("transaction id")
    assert error.value.reason == reason and "transactions/1/9" in error.value.detail


def test_a_cut_short_value_is_too_large():
    with pytest.raises(ContractError) as error:
        read_envelope(envelope("transactions", 0, 1, 0, b"k", b"x" * 70_000)).complete_value()
    assert error.value.reason == "too_large" and "70000" in error.value.detail


def test_a_tombstone_has_no_value_and_an_empty_value_is_empty():
    assert read_envelope(envelope("t", 0, 1, 0, b"k", None)).value is None
    assert read_envelope(envelope("t", 0, 1, 0, b"k", b"")).value == b""


def test_a_bare_value_from_before_the_envelope_is_read_with_an_unknown_position():
    record = read_envelope(b'{"account": "a"}')
    assert record.value == b'{"account": "a"}' and record.topic is None
    assert record.position == "an unknown position"
    assert read_envelope(b"").value is None and read_envelope(None).value is None


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00no newline",
        b"\x00{not json}\n{}",
        b"\x00[1]\n{}",
        b'\x00{"v":2}\n{}',
        b'\x00{"v":1,"topic":"t","partition":0,"offset":1,"timestamp":0,"key":"odd","value_size":2,"truncated":false}\n{}',
        b'\x00{"v":1,"topic":"t","partition":"0","offset":1,"timestamp":0,"key":"ok","value_size":2,"truncated":false}\n{}',
        b'\x00{"v":1,"topic":"t","partition":0,"offset":1,"timestamp":0,"key":"ok","value_size":2,"truncated":1}\n{}',
        b'\x00{"v":1,"topic":"t","partition":true,"offset":1,"timestamp":0,"key":"ok","value_size":2,"truncated":false}\n{}',
    ],
)
def test_a_broken_envelope_is_a_contract_error_not_a_crash(payload):
    with pytest.raises(ContractError) as error:
        read_envelope(payload)
    assert error.value.reason == "malformed_envelope"


def test_parse_record_checks_key_then_value():
    payload = envelope(
        "transactions",
        0,
        3,
        0,
        b"tx-1",
        json.dumps({"account": "a", "merchant": "M", "amount": 1, "timestamp": "2026-01-01"}).encode(),
    )
    record, transaction = parse_record(payload, "tx-1", "transaction id", parse_transaction)
    assert transaction.account == "a" and record.offset == 3
    with pytest.raises(ContractError) as error:
        parse_record(
            envelope("transactions", 0, 4, 0, None, b"{"),
            "(missing key) transactions/0/4",
            "transaction id",
            parse_transaction,
        )
    assert error.value.reason == "missing_key"
