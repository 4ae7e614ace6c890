"""Poison records of every class on both input topics: each lands on dead-letters with its own reason.

The job never restarts, every transaction id among them gets exactly one
decision (`dead_letter`), and a well-formed record with unknown extra fields is
decided as usual. One class needs the function server stalled: twenty ~1 MB
records for one key pile up into one batch for one address (which once made a
19 MB request the server refused with 413, in a restart loop).
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

from fraud_common.contract import CONFIRMED_TOPIC, TRANSACTIONS_TOPIC, Outcome
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import job_restarts, merchant_with_risk
from tests.reliability import names
from tests.reliability.conftest import record

GOOD = {"account": "0x00ABCDEF", "merchant": "Goodshop", "amount": 12, "timestamp": "2026-11-28T10:00:00"}


def value(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def raw(text: str) -> bytes:
    return text.encode()


# (key, value, reason) per class; keys are made unique per run below.
TRANSACTION_POISON = [
    (b"", value(), "empty_key"),
    (None, value(), "missing_key"),
    (b"\xff\xfe-key", value(), "invalid_key"),
    ("tombstone", None, "empty_value"),
    ("bad-json", raw('{"account": "a", '), "invalid_json"),
    ("not-utf8", b'{"account": "\xff"}', "invalid_utf8"),
    ("not-object", raw("[1, 2, 3]"), "not_an_object"),
    ("wrong-type", value(amount="12"), "wrong_type"),
    ("missing-field", raw('{"account": "0x00ABCDEF"}'), "missing_field"),
    ("nan", raw('{"account":"a","merchant":"M","amount":NaN,"timestamp":"2026-11-28T10:00:00"}'), "non_finite_number"),
    (
        "inf",
        raw('{"account":"a","merchant":"M","amount":1e999,"timestamp":"2026-11-28T10:00:00"}'),
        "non_finite_number",
    ),
    ("huge-number", raw('{"account":"a","merchant":"M","amount":' + "9" * 5000 + "}"), "number_out_of_range"),
    ("big-amount", value(amount=10**12), "amount_out_of_range"),
    ("negative", value(amount=-3), "negative_amount"),
    ("bad-merchant", value(merchant="Shop/../admin"), "invalid_merchant"),
    ("bad-time", value(timestamp="last tuesday"), "invalid_timestamp"),
    ("nested", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "too_deeply_nested"),  # 60 KB: under the size limit
    ("huge-value", value(note="x" * 200_000), "too_large"),
]

CONFIRMATION_POISON = [
    (b"", raw('{"account": ""}'), "empty_key"),
    (None, raw('{"account": "a"}'), "missing_key"),
    ("acct-tomb", None, "empty_value"),
    ("acct-json", raw("{oops"), "invalid_json"),
    ("acct-other", raw('{"account": "someone-else"}'), "key_mismatch"),
    ("acct-type", raw('{"account": 42}'), "wrong_type"),
    ("acct-nan", raw('{"account": "acct-nan", "weight": NaN}'), "non_finite_number"),
    ("acct-huge", raw('{"account": "acct-huge", "note": "' + "y" * 100_000 + '"}'), "too_large"),
]


def unique(key, run: str):
    return f"{key}-{run}".encode() if isinstance(key, str) else key


def test_poison_records_of_every_class_are_dead_lettered_with_their_own_reason(stack, kafka):
    run = uuid.uuid4().hex[:8]
    reader = LedgerReader(kafka)
    job_before, restarts_before = job_restarts(stack)

    tx_records = [(unique(key, run), val) for key, val, _ in TRANSACTION_POISON]
    unknown_fields_id = f"extra-fields-{run}"
    tx_records.append(
        (unknown_fields_id.encode(), value(merchant=merchant_with_risk(0, 10), channel="web", device={"os": "x"}))
    )
    tx_places = kafka.produce(TRANSACTIONS_TOPIC, tx_records)
    cf_places = kafka.produce(CONFIRMED_TOPIC, [(unique(key, run), val) for key, val, _ in CONFIRMATION_POISON])

    # The oversized batch: stall the function server so twenty ~1 MB records for one id queue up.
    batch_id = f"big-batch-{run}"
    functions = stack.service("functions").pid
    os.kill(functions, signal.SIGSTOP)
    try:
        batch_places = kafka.produce(TRANSACTIONS_TOPIC, [(batch_id.encode(), b"z" * 1_000_000)] * 20)
        time.sleep(3)  # the runtime consumes them while the first request for the id hangs
    finally:
        os.kill(functions, signal.SIGCONT)

    poison_places = tx_places[: len(TRANSACTION_POISON)]  # the last record, with unknown fields, is no poison
    expected = {
        (TRANSACTIONS_TOPIC, *place): reason
        for place, (_, _, reason) in zip(poison_places, TRANSACTION_POISON, strict=True)
    }
    expected |= {
        (CONFIRMED_TOPIC, *place): reason for place, (_, _, reason) in zip(cf_places, CONFIRMATION_POISON, strict=True)
    }
    expected |= {(TRANSACTIONS_TOPIC, *place): "too_large" for place in batch_places}
    placeholder = {b"": "(empty key)", None: "(missing key)"}
    ids = {
        placeholder[key] + f" {TRANSACTIONS_TOPIC}/{p}/{o}" if key in placeholder else key.decode(errors="replace")
        for (key, _), (p, o) in zip(tx_records, tx_places, strict=True)
    } | {batch_id}

    report = reader.collect(ids, timeout=180)
    found = {(d["topic"], d["partition"], d["offset"]): d for d in report.dead_letters}
    got = {place: found[place]["reason"] for place in expected if place in found}
    _, restarts_after = job_restarts(stack)
    record(
        names.POISON,
        report,
        restarts_after - restarts_before,
        f"{len(expected)} poison records, {len(set(expected.values()))} reasons",
    )

    assert got == expected, {
        place: (got.get(place), reason) for place, reason in expected.items() if got.get(place) != reason
    }
    assert len([d for d in report.dead_letters if (d["topic"], d["partition"], d["offset"]) in expected]) == len(
        expected
    ), "one dead letter per poison record"
    big = found[(TRANSACTIONS_TOPIC, *batch_places[0])]
    assert big["truncated"] is True and big["value_size"] == 1_000_000
    report.assert_exact()
    outcomes = {tx: Outcome(found_decisions[0]["outcome"]) for tx, found_decisions in report.decisions.items()}
    assert outcomes.pop(unknown_fields_id) is Outcome.NO_ALERT
    assert set(outcomes.values()) == {Outcome.DEAD_LETTER}
    assert job_restarts(stack)[0] == job_before and restarts_after == restarts_before
