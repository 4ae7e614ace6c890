"""Per-account thresholds on the real runtime: the thresholds topic sets them, decisions use them, bad ones are dead
letters."""

from __future__ import annotations

import json

from fraud_common.contract import Outcome, Transaction
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import merchant_with_risk, new_id, restarts, transaction_record


def test_an_accounts_own_threshold_decides_its_transactions(stack, kafka):
    strict, ordinary = new_id("acct-"), new_id("acct-")
    merchant = merchant_with_risk(40, 50)  # with 300 USD: a score of about 0.05, far below the model's 0.8
    kafka.produce("thresholds", [(strict.encode(), json.dumps({"account": strict, "threshold": 1}).encode())])
    since_letters = kafka.end_offsets("dead-letters")
    kafka.produce(
        "thresholds",
        [
            (strict.encode(), json.dumps({"account": strict, "threshold": 0}).encode()),
            (strict.encode(), b'{"account": "' + strict.encode() + b'", "threshold": "high"}'),
        ],
    )
    letters = kafka.read("dead-letters", since_letters, lambda found: len(found) >= 2, timeout=60)
    assert sorted((d["value"]["reason"], d["value"]["topic"]) for d in letters) == [
        ("threshold_out_of_range", "thresholds"),
        ("wrong_type", "thresholds"),
    ]

    reader = LedgerReader(kafka)
    mine = Transaction(new_id("tx-"), strict, merchant, 300, "2026-11-28T10:00:00")
    theirs = Transaction(new_id("tx-"), ordinary, merchant, 300, "2026-11-28T10:00:00")
    kafka.produce("transactions", [transaction_record(mine), transaction_record(theirs)])
    report = reader.collect({mine.transaction_id, theirs.transaction_id}, timeout=90)

    report.assert_exact()
    (custom,), (default,) = report.decisions[mine.transaction_id], report.decisions[theirs.transaction_id]
    assert (Outcome(custom["outcome"]), custom["threshold"], custom["threshold_source"]) == (
        Outcome.ALERT,
        0.01,
        "account",
    )
    assert (Outcome(default["outcome"]), default["threshold_source"]) == (Outcome.NO_ALERT, "model")
    assert report.alerted == {mine.transaction_id}
    assert restarts(stack) == 0
