"""The Kafka contract: what a valid record is, shared by functions, simulator and tests."""

from __future__ import annotations

import json

import pytest

from fraud_common.contract import (
    Alert,
    ContractError,
    dead_letter,
    encode,
    format_alert,
    parse_alert,
    parse_confirmation,
    parse_transaction,
)

WORKSHOP_RECORD = {"account": "0x00F3CD51", "merchant": "Hypergrid", "amount": 36,
                   "timestamp": "2026-11-27T10:11:12.123456"}


def test_workshop_transaction_parses_unchanged():
    parsed = parse_transaction("9f8e7d", json.dumps(WORKSHOP_RECORD).encode())
    assert parsed.to_record() == WORKSHOP_RECORD and parsed.transaction_id == "9f8e7d"


@pytest.mark.parametrize("merchant", ["Hypergrid\n", "", " leading", "a" * 200, "Shop/1"])
def test_merchant_names_are_checked_whole(merchant):
    record = dict(WORKSHOP_RECORD, merchant=merchant)
    with pytest.raises(ContractError) as error:
        parse_transaction("t", encode(record))
    assert error.value.reason == "invalid_value"


@pytest.mark.parametrize("key", [None, "", "with space", "tab\t", "x" * 129, "line\n"])
def test_transaction_keys_must_be_printable_ids(key):
    with pytest.raises(ContractError) as error:
        parse_transaction(key, encode(WORKSHOP_RECORD))
    assert error.value.reason == "invalid_key"


def test_a_record_the_ingress_marked_as_keyless_is_reported_as_missing_key():
    with pytest.raises(ContractError) as error:
        parse_transaction("(missing key) transactions/2/417", encode(WORKSHOP_RECORD))
    assert error.value.reason == "missing_key" and "transactions/2/417" in error.value.detail


def test_amounts_may_be_fractional_or_zero_but_not_infinite():
    assert parse_transaction("t", encode(dict(WORKSHOP_RECORD, amount=0))).amount == 0
    assert parse_transaction("t", encode(dict(WORKSHOP_RECORD, amount=12.5))).amount == 12.5
    with pytest.raises(ContractError):
        parse_transaction("t", b'{"account":"a","merchant":"M","amount":Infinity,"timestamp":"2026-01-01"}')


def test_confirmation_key_must_match_the_body():
    assert parse_confirmation("acc", b'{"account": "acc"}').account == "acc"
    with pytest.raises(ContractError) as error:
        parse_confirmation("acc", b'{"account": "other"}')
    assert error.value.reason == "key_mismatch"


def test_alert_record_starts_with_the_workshop_fields_and_prints_like_the_workshop():
    alert = Alert("0x00F3CD51", "Hypergrid", 36, "2026-11-27T10:00:00", "tx", 0.93, 0.8, "v1", ["amount=36"], [])
    value = json.loads(encode(alert.to_record()))
    assert list(value)[:4] == ["account", "merchant", "amount", "timestamp"]
    assert format_alert(parse_alert(encode(alert.to_record()))) == \
        "Suspected Fraud for account id 0x00F3CD51 at Hypergrid for 36 USD"


def test_alert_missing_fields_is_a_contract_error():
    with pytest.raises(ContractError):
        parse_alert(b'{"account": "a"}')


def test_dead_letter_carries_source_reason_and_payload_text():
    error = ContractError("invalid_json", "Expecting value")
    letter = dead_letter("kafka:transactions", "k", error, b"\xffbad", "fraud/transaction-manager")
    assert letter["reason"] == "invalid_json" and letter["key"] == "k"
    assert letter["payload"] == "\ufffdbad"  # undecodable bytes are replaced, not lost silently
    assert json.loads(encode(letter))["source"] == "kafka:transactions"
