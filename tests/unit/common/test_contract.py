"""The Kafka contract: what a valid record is, shared by functions, simulator and tests."""

from __future__ import annotations

import base64
import json

import pytest

from fraud_common.contract import (
    ALERTS_TOPIC,
    DEAD_LETTERS_TOPIC,
    TOPICS,
    Alert,
    ContractError,
    DeadLetterOrigin,
    Decision,
    Egress,
    Ingress,
    NotReplayable,
    Outcome,
    Topic,
    Transaction,
    dead_letter,
    declare_topics,
    egress_id,
    encode,
    format_alert,
    original_record,
    parse_alert,
    parse_confirmation,
    parse_transaction,
    topic,
)
from tests.support import least_privilege as allowed

WORKSHOP_RECORD = {
    "account": "0x00F3CD51",
    "merchant": "Hypergrid",
    "amount": 36,
    "timestamp": "2026-11-27T10:11:12.123456",
}


def test_workshop_transaction_parses_unchanged():
    parsed = parse_transaction("9f8e7d", json.dumps(WORKSHOP_RECORD).encode())
    assert parsed.to_record() == WORKSHOP_RECORD and parsed.transaction_id == "9f8e7d"


@pytest.mark.parametrize("traceparent", [None, "00-" + "a" * 32 + "-" + "b" * 16 + "-01"])
def test_a_stored_transaction_record_reads_back_as_the_transaction_it_was(traceparent):
    record = dict(WORKSHOP_RECORD, **({"traceparent": traceparent} if traceparent else {}))
    parsed = parse_transaction("9f8e7d", json.dumps(record).encode())
    assert Transaction.from_record("9f8e7d", parsed.to_record()) == parsed
    assert parsed.traceparent == traceparent


def test_the_outcomes_are_the_strings_consumers_of_decisions_read():
    """The wire format of `decisions`: the enumeration must not change it."""
    assert [outcome.value for outcome in Outcome] == ["alert", "no_alert", "dead_letter", "expired"]
    assert json.loads(encode({"outcome": Outcome.DEAD_LETTER})) == {"outcome": "dead_letter"}


@pytest.mark.parametrize("merchant", ["Hypergrid\n", "", " leading", "a" * 200, "Shop/1"])
def test_merchant_names_are_checked_whole(merchant):
    record = dict(WORKSHOP_RECORD, merchant=merchant)
    with pytest.raises(ContractError) as error:
        parse_transaction("t", encode(record))
    assert error.value.reason == "invalid_merchant"


@pytest.mark.parametrize("key", [None, "", "with space", "tab\t", "x" * 129, "line\n"])
def test_transaction_keys_must_be_printable_ids(key):
    with pytest.raises(ContractError) as error:
        parse_transaction(key, encode(WORKSHOP_RECORD))
    assert error.value.reason == "invalid_key"


def test_the_ingress_placeholder_id_of_a_keyless_record_is_not_a_transaction_id():
    with pytest.raises(ContractError) as error:
        parse_transaction("(missing key) transactions/2/417", encode(WORKSHOP_RECORD))
    assert error.value.reason == "invalid_key"


def test_amounts_may_be_fractional_or_zero():
    assert parse_transaction("t", encode(dict(WORKSHOP_RECORD, amount=0))).amount == 0
    assert parse_transaction("t", encode(dict(WORKSHOP_RECORD, amount=12.5))).amount == 12.5


def value_with(amount_literal: str) -> bytes:
    return f'{{"account":"a","merchant":"M","amount":{amount_literal},"timestamp":"2026-01-01"}}'.encode()


@pytest.mark.parametrize(
    "raw, reason",
    [
        (value_with("Infinity"), "non_finite_number"),
        (value_with("-Infinity"), "non_finite_number"),
        (value_with("NaN"), "non_finite_number"),
        (value_with("1e999"), "non_finite_number"),
        (value_with("9" * 5000), "number_out_of_range"),
        (value_with("1000000001"), "amount_out_of_range"),
        (value_with("1e12"), "amount_out_of_range"),
        (value_with("-0.5"), "negative_amount"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too_large"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "too_deeply_nested"),
        (b"[" * 10_000 + b"]" * 10_000, "too_deeply_nested"),
        (b'{"account":"a","merchant":"M","amount":5,"timestamp":"2026-13-45"}', "invalid_timestamp"),
        (b'{"account":"a b","merchant":"M","amount":5,"timestamp":"2026-01-01"}', "invalid_account"),
        (b'"just a string"', "not_an_object"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b"{,}", "invalid_json"),
    ],
)
def test_every_class_of_malformed_value_has_its_own_reason(raw, reason):
    with pytest.raises(ContractError) as error:
        parse_transaction("t", raw)
    assert error.value.reason == reason
    assert error.value.detail and len(error.value.detail) <= 300


def test_confirmation_key_must_match_the_body():
    assert parse_confirmation("acc", b'{"account": "acc"}').account == "acc"
    with pytest.raises(ContractError) as error:
        parse_confirmation("acc", b'{"account": "other"}')
    assert error.value.reason == "key_mismatch"


def test_alert_record_starts_with_the_workshop_fields_and_prints_like_the_workshop():
    alert = Alert("0x00F3CD51", "Hypergrid", 36, "2026-11-27T10:00:00", "tx", 0.93, 0.8, "v1", ["amount=36"], [])
    value = json.loads(encode(alert.to_record()))
    assert list(value)[:4] == ["account", "merchant", "amount", "timestamp"]
    assert (
        format_alert(parse_alert(encode(alert.to_record())))
        == "Suspected Fraud for account id 0x00F3CD51 at Hypergrid for 36 USD"
    )


def test_alert_missing_fields_is_a_contract_error():
    with pytest.raises(ContractError):
        parse_alert(b'{"account": "a"}')


def origin(key: bytes | None, value: bytes | None, **position) -> DeadLetterOrigin:
    return DeadLetterOrigin(source="kafka:transactions", key=key, value=value, **position)


def test_a_dead_letter_keeps_position_reason_and_original_text():
    error = ContractError("invalid_json", "Expecting value")
    letter = dead_letter(
        origin(b"k", b'{"a":', topic="transactions", partition=2, offset=417, timestamp_ms=5),
        error,
        "fraud/transaction-manager",
        "k",
    )
    assert {
        k: letter[k]
        for k in (
            "reason",
            "detail",
            "source",
            "function",
            "address_id",
            "topic",
            "partition",
            "offset",
            "timestamp",
            "key",
            "value",
            "value_size",
            "truncated",
        )
    } == {
        "reason": "invalid_json",
        "detail": "Expecting value",
        "source": "kafka:transactions",
        "function": "fraud/transaction-manager",
        "address_id": "k",
        "topic": "transactions",
        "partition": 2,
        "offset": 417,
        "timestamp": 5,
        "key": "k",
        "value": '{"a":',
        "value_size": 5,
        "truncated": False,
    }
    assert "value_base64" not in letter and "key_base64" not in letter


@pytest.mark.parametrize("value", [b"\xffbad", b"ctl\x01\x02", b"\x00" * 10])
def test_bytes_that_are_not_clean_text_go_as_base64_and_come_back_exactly(value):
    letter = json.loads(encode(dead_letter(origin(b"\xc3(", value), ContractError("r", "d"), "f", "x")))
    assert letter["value"] is None and base64.b64decode(letter["value_base64"]) == value
    assert letter["key"] is None and base64.b64decode(letter["key_base64"]) == b"\xc3("


def test_a_truncated_value_is_flagged_and_kept_as_base64():
    letter = dead_letter(
        origin(b"k", b"{" * 16, value_size=70_000, truncated=True), ContractError("too_large", "d"), "f", "k"
    )
    assert letter["truncated"] is True and letter["value_size"] == 70_000
    assert base64.b64decode(letter["value_base64"]) == b"{" * 16


def test_a_record_without_key_or_value_says_so():
    letter = dead_letter(origin(None, None), ContractError("missing_key", "d"), "f", "(missing key) t/0/1")
    assert letter["key"] is None and letter["value"] is None and "key_base64" not in letter


def test_a_decision_record_starts_with_the_transaction_and_names_its_outcome():
    decision = Decision(
        "tx-1",
        Outcome.NO_ALERT,
        1764300000000,
        Transaction.from_record("tx-1", WORKSHOP_RECORD),
        score=0.42,
        threshold=0.8,
        model_version="v1",
        degraded=["merchant_score"],
        latency_ms=12,
    )
    value = json.loads(encode(decision.to_record()))
    assert list(value)[:5] == ["account", "merchant", "amount", "timestamp", "transaction_id"]
    assert (value["outcome"], value["score"], value["degraded"], value["reason"]) == (
        "no_alert",
        0.42,
        ["merchant_score"],
        None,
    )


@pytest.mark.parametrize(
    "key, value", [(b"tx-1", b'{"a": 1}'), (b"\xc3(", b"\xff\x00raw"), (None, None), (b"", b"ctl\x01")]
)
def test_a_dead_letter_gives_back_the_exact_original_record(key, value):
    letter = json.loads(
        encode(
            dead_letter(
                origin(key, value, topic="transactions", partition=0, offset=1), ContractError("r", "d"), "f", "x"
            )
        )
    )
    assert original_record(letter) == ("transactions", key, value)


def test_a_dead_letter_cut_short_or_from_a_function_cannot_be_replayed():
    cut = dead_letter(
        origin(b"k", b"x" * 16, topic="transactions", value_size=70_000, truncated=True),
        ContractError("too_large", "d"),
        "f",
        "k",
    )
    internal = dead_letter(
        DeadLetterOrigin(source="function:fraud/model", key=b"t", value=b"{}"),
        ContractError("unknown_message_type", "d"),
        "f",
        "t",
    )
    for letter in (cut, internal):
        with pytest.raises(NotReplayable):
            original_record(letter)


READ = Ingress("fraud/Thing", target="fraud/thing")


@pytest.mark.parametrize(
    "topics, problem",
    [
        ((Topic("a", "k", "v", 1, ingress=READ), Topic("a", "k", "v", 1, egress=Egress())), "a is declared twice"),
        ((Topic("Alerts", "k", "v", 1, egress=Egress()),), "not a lower-case Kafka topic name"),
        ((Topic("a", "k", "v", 0, egress=Egress()),), "a has 0 partitions"),
        ((Topic("a", "k", "v", 1),), "must be either read"),
        ((Topic("a", "k", "v", 1, ingress=READ, egress=Egress()),), "must be either read"),
        ((Topic("a", "k", "v", 1, ingress=Ingress("other/Thing", "fraud/thing")),), "outside the namespace"),
        ((Topic("a", "k", "v", 1, egress=Egress("alerts delivery")),), "is not a setting name"),
        ((Topic("a", "k", "v", 1, ingress=READ), Topic("b", "k", "v", 1, ingress=READ)), "comes from two topics"),
    ],
)
def test_a_topic_declaration_that_cannot_work_is_refused(topics, problem):
    with pytest.raises(ValueError, match=problem):
        declare_topics(*topics)


def test_the_pipelines_topics_are_declared_once_with_their_egresses():
    """Every topic is one the runtime reads or writes, by the rights listed by hand (one list to edit)."""
    assert sorted(t.name for t in TOPICS) == sorted((*allowed.RUNTIME_READS, *allowed.RUNTIME_WRITES))
    assert [t.name for t in TOPICS if t.egress] == list(allowed.RUNTIME_WRITES)
    assert egress_id(ALERTS_TOPIC) == "fraud/alerts" and topic(DEAD_LETTERS_TOPIC).partitions == 1
    with pytest.raises(KeyError, match="the runtime reads it"):
        egress_id("transactions")
    with pytest.raises(KeyError, match="no topic nope"):
        topic("nope")
