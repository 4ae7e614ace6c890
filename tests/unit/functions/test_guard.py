"""The invocation guard: a bug undoes the failed message's effects, dead-letters it, and never fails the job."""

from __future__ import annotations

import json

from fraud_common.contract import Outcome
from fraud_dev.mini_runtime import Envelope
from fraud_dev.scripted import transaction
from fraud_functions.addresses import (
    DEAD_LETTERS_EGRESS,
    DECISIONS_EGRESS,
    TRANSACTION_MANAGER,
)
from fraud_functions.functions import transaction_manager
from fraud_functions.messages import LookupAnswer

RETIRED_FRAUD_COUNT = "fraud/fraud-count"  # a lookup of the versions before ADR 0016, answering one feature


async def test_a_bug_half_way_through_a_transaction_leaves_no_half_done_effects(runtime, monkeypatch):
    real_outgoing = transaction_manager.outgoing

    def fail_on_the_deadline(target, target_id, message):
        if target == TRANSACTION_MANAGER:
            raise RuntimeError("bug after the state was written and the query sent")
        return real_outgoing(target, target_id, message)

    monkeypatch.setattr(transaction_manager, "outgoing", fail_on_the_deadline)
    sent = await runtime.invoke([transaction("tx-bug")])

    assert sent == [], "the account's query sent before the bug is withdrawn"
    assert runtime.delayed == []
    assert runtime.value_of(TRANSACTION_MANAGER, "tx-bug", "pending") is None
    letters = [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]
    assert [(d["reason"], d["topic"]) for d in letters] == [("internal_error", "transactions")]
    assert "bug after the state was written" in letters[0]["detail"]
    decisions = [e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS]
    assert [(Outcome(d["outcome"]), d["reason"]) for d in decisions] == [(Outcome.DEAD_LETTER, "internal_error")]


async def test_a_bug_on_one_message_of_a_batch_keeps_the_effects_of_the_others(runtime, monkeypatch):
    real_dump = transaction_manager.Pending.dump

    def fail_once_a_count_is_in(pending):
        if "fraud_count" in pending.answers:
            raise RuntimeError("bug while storing the reply")
        return real_dump(pending)

    monkeypatch.setattr(transaction_manager.Pending, "dump", fail_once_a_count_is_in)
    count = Envelope(
        TRANSACTION_MANAGER,
        "tx-b",
        LookupAnswer.TYPENAME,
        json.dumps(LookupAnswer("tx-b", "fraud_count", {"count": 2}).to_dict()).encode(),
        caller=(RETIRED_FRAUD_COUNT, "x"),
    )
    # One address, one batch: the SDK runs both messages over one shared context.
    sent = await runtime.invoke([transaction("tx-b"), count])

    assert len(sent) == 1 and len(runtime.delayed) == 1, "the transaction's query and deadline survive"
    pending = json.loads(runtime.value_of(TRANSACTION_MANAGER, "tx-b", "pending").value)
    assert pending["answers"] == {}, "the failed reply's state change is undone"
    letters = [e.json() for e in runtime.egress if e.egress == DEAD_LETTERS_EGRESS]
    assert [(d["reason"], d["source"]) for d in letters] == [("internal_error", f"function:{RETIRED_FRAUD_COUNT}")]
    assert [e for e in runtime.egress if e.egress == DECISIONS_EGRESS] == [], "the deadline will decide it"
