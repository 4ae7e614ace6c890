"""Bad records from Kafka and unknown messages never raise: they become dead letters with a reason."""

from __future__ import annotations

import base64
import json

import pytest

from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import NO_VALUE, confirmation, transaction
from fraud_functions.addresses import DEAD_LETTERS_EGRESS, TRANSACTION_MANAGER
from fraud_functions.declarations import ACCOUNT, MERCHANT, typenames
from fraud_functions.functions.retired import RETIRED_TYPENAMES
from fraud_functions.messages import FeatureQuery
from fraud_functions.metrics import DEAD_LETTERS, FUNCTION_ERRORS
from tests.unit.counters import counted


def dead_letters(runtime) -> list[dict]:
    return [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]


BAD_TRANSACTIONS = [
    (b"{not json", "invalid_json"),
    (b"", "empty_value"),
    (b"\xff\xfe", "invalid_utf8"),
    (b"[1, 2]", "not_an_object"),
    (json.dumps({"merchant": "Hypergrid", "amount": 5, "timestamp": "2026-11-27T10:00:00"}).encode(), "missing_field"),
    (
        json.dumps({"account": 7, "merchant": "Hypergrid", "amount": 5, "timestamp": "2026-11-27T10:00:00"}).encode(),
        "wrong_type",
    ),
    (
        json.dumps(
            {"account": "a", "merchant": "Hypergrid", "amount": "5", "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
        "wrong_type",
    ),
    (
        json.dumps(
            {"account": "a", "merchant": "Hypergrid", "amount": True, "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
        "wrong_type",
    ),
    (
        json.dumps(
            {"account": "a", "merchant": "Hypergrid", "amount": -1, "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
        "negative_amount",
    ),
    (
        json.dumps(
            {"account": "a", "merchant": "Hyper/grid", "amount": 1, "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
        "invalid_merchant",
    ),
    (
        json.dumps({"account": "a", "merchant": "Hypergrid", "amount": 1, "timestamp": "yesterday"}).encode(),
        "invalid_timestamp",
    ),
    (b'{"account":"a","merchant":"Hypergrid","amount":NaN,"timestamp":"2026-11-27T10:00:00"}', "non_finite_number"),
    (
        b'{"account":"a","merchant":"Hypergrid","amount":' + b"1" * 5000 + b',"timestamp":"2026-11-27"}',
        "number_out_of_range",
    ),
    (b"[" * 20_000 + b"]" * 20_000, "too_deeply_nested"),
    (b"x" * 70_000, "too_large"),
    (NO_VALUE, "empty_value"),
]


@pytest.mark.parametrize("raw, reason", BAD_TRANSACTIONS)
async def test_malformed_transaction_is_dead_lettered_with_its_reason(runtime, raw, reason):
    before = counted(DEAD_LETTERS, TRANSACTION_MANAGER, reason)
    await runtime.deliver(transaction("bad-1", raw=raw))

    letters = dead_letters(runtime)
    assert len(letters) == 1
    letter = letters[0]
    assert letter["reason"] == reason and letter["key"] == "bad-1"
    assert letter["source"] == "kafka:transactions" and letter["function"] == TRANSACTION_MANAGER
    assert letter["topic"] == "transactions" and isinstance(letter["offset"], int)
    assert letter["detail"]
    assert counted(DEAD_LETTERS, TRANSACTION_MANAGER, reason) == before + 1
    # nothing else happened: no queries, no state
    assert runtime.value_of(TRANSACTION_MANAGER, "bad-1", "pending") is None


async def test_dead_letter_is_logged_with_the_transaction_id_and_reason(runtime, caplog):
    caplog.set_level("WARNING", logger="fraud_functions.outcomes")
    await runtime.deliver(transaction("bad-log", raw=b"{"))
    (record,) = [r for r in caplog.records if r.getMessage() == "dead-lettered a message"]
    assert (record.transaction_id, record.reason, record.function) == ("bad-log", "invalid_json", TRANSACTION_MANAGER)


async def test_dead_letter_keeps_the_original_value(runtime):
    await runtime.deliver(transaction("bad-2", raw=b'{"account": "a"'))
    assert dead_letters(runtime)[0]["value"] == '{"account": "a"'


@pytest.mark.parametrize(
    "key, reason, address",
    [
        (b"has space", "invalid_key", "has space"),
        (None, "missing_key", "(missing key) transactions/"),
        (b"", "empty_key", "(empty key) transactions/"),
        (b"\xc3(", "invalid_key", "\ufffd("),
    ],
)
async def test_an_unusable_transaction_key_is_dead_lettered_with_the_original_key(runtime, key, reason, address):
    await runtime.deliver(transaction(key))
    (letter,) = dead_letters(runtime)
    assert letter["reason"] == reason and letter["address_id"].startswith(address)
    original = (
        None
        if key is None
        else letter["key"].encode()
        if letter["key"] is not None
        else base64.b64decode(letter["key_base64"])
    )
    assert original == key


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"nope", "invalid_json"),
        (json.dumps({"account": "0xOTHER"}).encode(), "key_mismatch"),
        (json.dumps({}).encode(), "missing_field"),
        (json.dumps({"account": None}).encode(), "wrong_type"),
        (NO_VALUE, "empty_value"),
    ],
)
async def test_malformed_confirmation_is_dead_lettered_and_counts_nothing(runtime, raw, reason):
    await runtime.deliver(confirmation("0x00F3CD51", raw=raw))
    assert [(d["reason"], d["source"]) for d in dead_letters(runtime)] == [(reason, "kafka:confirmed")]
    assert runtime.value_of(ACCOUNT.typename, "0x00F3CD51", "count") is None
    assert runtime.delayed == []


@pytest.mark.parametrize("target", [name for name in typenames() if name not in RETIRED_TYPENAMES])
async def test_unknown_message_type_is_dead_lettered_by_every_function(runtime, target):
    await runtime.deliver(Envelope(target, "id-1", "fraud/SomethingElse", b"{}"))
    letters = dead_letters(runtime)
    assert [(d["reason"], d["function"]) for d in letters] == [("unknown_message_type", target)]
    assert "fraud/SomethingElse" in letters[0]["detail"]


async def test_a_bug_in_a_function_dead_letters_the_message_instead_of_failing(runtime, merchants):
    async def broken(merchant: str):
        raise RuntimeError("boom")

    merchants.score = broken  # the merchant function now hits an unexpected exception
    before = counted(FUNCTION_ERRORS, MERCHANT.typename)
    await runtime.deliver(transaction("tx-bug", merchant="Newshop"))
    letters = dead_letters(runtime)
    assert [(d["reason"], d["function"]) for d in letters] == [("internal_error", MERCHANT.typename)]
    assert "boom" in letters[0]["detail"]
    assert counted(FUNCTION_ERRORS, MERCHANT.typename) == before + 1


GOOD_QUERY = {
    "transaction_id": "tx-q",
    "account": "0xACC",
    "merchant": "Hypergrid",
    "amount": 5,
    "timestamp": "2026-11-27T10:00:00",
}


@pytest.mark.parametrize("key", [ACCOUNT, MERCHANT], ids=lambda key: key.name)
@pytest.mark.parametrize(
    "body, detail",
    [
        (b"{garbage", "FeatureQuery"),
        (b"", "FeatureQuery"),
        (json.dumps([1, 2]).encode(), "must be a JSON object"),
        (json.dumps({**GOOD_QUERY, "amount": "5"}).encode(), "amount must be a number"),
        (json.dumps({**GOOD_QUERY, "answers": {"velocity": {"spike_1m": "high"}}}).encode(), "answers must map"),
        (json.dumps({**GOOD_QUERY, "route": ["device"]}).encode(), "unknown key"),
    ],
    ids=["not-json", "empty", "not-an-object", "amount-text", "answers-text", "unknown-key"],
)
async def test_a_garbage_feature_query_is_dead_lettered_with_its_reason_and_answers_nothing(runtime, key, body, detail):
    before = counted(DEAD_LETTERS, key.typename, "malformed_message")
    query = Envelope(key.typename, "id-1", FeatureQuery.TYPENAME, body, caller=(TRANSACTION_MANAGER, "tx-q"))
    assert await runtime.invoke([query]) == [], "nothing goes on down the chain: the deadline decides the transaction"
    (letter,) = dead_letters(runtime)
    assert (letter["reason"], letter["function"], letter["source"]) == (
        "malformed_message",
        key.typename,
        f"function:{TRANSACTION_MANAGER}",
    )
    assert detail in letter["detail"]
    assert counted(DEAD_LETTERS, key.typename, "malformed_message") == before + 1
    assert runtime.value_of(ACCOUNT.typename, "id-1", "windows") is None, "velocity counted nothing"


async def test_workshop_format_record_is_accepted(runtime):
    # Exactly what the workshop's simulator writes: integer amount, naive isoformat timestamp.
    raw = json.dumps(
        {"account": "0x00A1B2C3", "merchant": "Hypergrid", "amount": 36, "timestamp": "2026-11-27T10:00:00.123456"},
        ensure_ascii=False,
    ).encode()
    await runtime.deliver(transaction("0f3a9c", raw=raw))
    assert dead_letters(runtime) == []
    assert runtime.value_of(TRANSACTION_MANAGER, "0f3a9c", "pending") is None  # decided and cleared


async def test_extra_fields_are_accepted(runtime):
    raw = json.dumps(
        {"account": "a1", "merchant": "Calmshop", "amount": 2.5, "timestamp": "2026-11-27T10:00:00Z", "channel": "web"}
    ).encode()
    await runtime.deliver(transaction("t-extra", raw=raw))
    assert dead_letters(runtime) == []
