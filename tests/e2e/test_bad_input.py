"""Malformed records on both input topics land on dead-letters with a reason; the job never restarts."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from fraud_common.contract import Transaction
from fraud_dev.pipeline import merchant_with_risk, new_id, restarts, transaction_record


def test_malformed_records_are_dead_lettered_and_the_job_keeps_running(stack, kafka):
    restarts_before = restarts(stack)
    since = kafka.end_offsets("dead-letters")
    bad_transactions = {
        new_id("bad-json-"): b"{not json",
        new_id("bad-missing-"): json.dumps({"account": "a", "merchant": "Shop", "amount": 5}).encode(),
        new_id("bad-negative-"): json.dumps(
            {"account": "a", "merchant": "Shop", "amount": -5, "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
        new_id("bad-type-"): json.dumps(
            {"account": "a", "merchant": "Shop", "amount": "5", "timestamp": "2026-11-27T10:00:00"}
        ).encode(),
    }
    account = new_id("acct-")
    bad_confirmations = {"not json": b"nope", "key mismatch": json.dumps({"account": "someone-else"}).encode()}
    tombstone_key = new_id("bad-tombstone-")
    kafka.produce(
        "transactions",
        [(key.encode(), value) for key, value in bad_transactions.items()]
        + [(None, b'{"account": "a"}'), (tombstone_key.encode(), None)],
    )
    kafka.produce("confirmed", [(account.encode(), value) for value in bad_confirmations.values()])

    letters = kafka.read("dead-letters", since, lambda recs: len(recs) >= 8, timeout=60)
    reasons = {
        (letter["key"], letter["value"]["reason"])
        for letter in letters
        if not letter["key"].startswith("(missing key)")
    }
    keys = list(bad_transactions)
    assert reasons == {
        (keys[0], "invalid_json"),
        (keys[1], "missing_field"),
        (keys[2], "negative_amount"),
        (keys[3], "wrong_type"),
        (tombstone_key, "empty_value"),
        (account, "invalid_json"),
        (account, "key_mismatch"),
    }
    keyless = [letter["value"] for letter in letters if letter["key"].startswith("(missing key) transactions/")]
    assert [(letter["reason"], letter["value"]) for letter in keyless] == [("missing_key", '{"account": "a"}')]
    assert {letter["value"]["source"] for letter in letters} == {"kafka:transactions", "kafka:confirmed"}
    assert len(letters) == 8

    # The job is still the same, and still works: a good transaction after the bad ones is scored.
    tx = Transaction(new_id("tx"), new_id("acct-"), merchant_with_risk(97, 100), 1000, "2026-11-27T12:00:00")
    since_alerts = kafka.end_offsets("alerts")
    kafka.produce("transactions", [transaction_record(tx)])
    alerts = kafka.read(
        "alerts",
        since_alerts,
        lambda recs: any(r["value"]["transaction_id"] == tx.transaction_id for r in recs),
        timeout=60,
    )
    assert any(r["value"]["transaction_id"] == tx.transaction_id for r in alerts)
    assert restarts(stack) == restarts_before == 0


def test_records_in_exactly_the_workshop_format_are_accepted(stack, kafka):
    # Byte for byte what the workshop's simulator sends: uuid4 hex key, json.dumps with default separators.
    record = {
        "account": "0x00F3CD51",
        "merchant": merchant_with_risk(97, 100, "Hyper"),
        "amount": 1000,
        "timestamp": "2026-11-27T10:11:12.131415",
    }
    key = uuid.uuid4().hex
    since = kafka.end_offsets("alerts")
    kafka.produce("transactions", [(key.encode(), json.dumps(record, ensure_ascii=False).encode("utf-8"))])
    alerts = kafka.read(
        "alerts", since, lambda recs: any(r["value"]["transaction_id"] == key for r in recs), timeout=60
    )
    (alert,) = [r for r in alerts if r["value"]["transaction_id"] == key]
    assert alert["key"] == record["account"]
    assert {name: alert["value"][name] for name in record} == record


def test_a_dead_letter_replays_the_original_record_byte_for_byte(stack, kafka):
    key, value = new_id("replay-").encode(), b'{"account": "\xff\x01 not quite JSON'
    since = kafka.end_offsets("dead-letters")
    kafka.produce("transactions", [(key, value)])
    kafka.read("dead-letters", since, lambda recs: any(r["key"] == key.decode() for r in recs), timeout=60)
    target = new_id("replayed-")
    kafka.create_topic(target)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraud_common.replay",
            "--bootstrap-servers",
            stack.config.bootstrap_servers,
            "--address-id",
            key.decode(),
            "--to-topic",
            target,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "replayed: 1" in result.stdout
    assert kafka.read_raw(target) == [(key, value)]
