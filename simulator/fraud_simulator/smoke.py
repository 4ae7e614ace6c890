"""`fraud-simulator smoke`: one transaction built to alert, then the wait for its record.

The Helm chart's `helm test` hook runs this against a freshly installed pipeline:
it proves Kafka, the StateFun runtime, the functions and merchant-service are wired
together, end to end, with one record. The transaction is built so the shipped
model must alert on it whatever the account's history: a merchant whose
merchant-service risk is at least MIN_RISK and the largest simulator amount
(risk 97 and 1000 USD score 0.855 against the 0.8 threshold). The account is
new, so nothing else the pipeline did can produce the record we wait for.

The topic to wait on is an option: `alerts` (key = account) today, the
`decisions` topic (key = transaction id, with an `outcome`) once every
transaction gets one.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC, Outcome, Transaction
from fraud_common.merchant_risk import risk_score
from fraud_simulator.kafka_io import ConsumedRecord, RecordSink, RecordSource
from fraud_simulator.loops import send_transaction

MIN_RISK = 97
AMOUNT = 1000
# Which field of the transaction each topic uses as its Kafka key.
KEY_FIELD = {ALERTS_TOPIC: "account", DECISIONS_TOPIC: "transaction_id"}
# On `decisions`, the record must also say the transaction alerted.
EXPECTED_OUTCOME = {DECISIONS_TOPIC: Outcome.ALERT}


def risky_merchant(rng: random.Random) -> str:
    """A merchant name whose stable merchant-service score is at least MIN_RISK (about 1 name in 25)."""
    while True:
        name = f"Smoke {rng.getrandbits(32):08x}"
        if risk_score(name) >= MIN_RISK:
            return name


def smoke_transaction(rng: random.Random, now: Callable[[], datetime] = datetime.now) -> Transaction:
    """A transaction on a brand-new account that the shipped model alerts on."""
    return Transaction(
        transaction_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        account=f"smoke-{rng.getrandbits(48):012x}",
        merchant=risky_merchant(rng),
        amount=AMOUNT,
        timestamp=now().isoformat(),
    )


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke test saw; `ok` decides the exit code."""

    transaction: Transaction
    topic: str
    record: dict[str, Any] | None
    seconds: float

    @property
    def ok(self) -> bool:
        if self.record is None:
            return False
        expected = EXPECTED_OUTCOME.get(self.topic)
        return expected is None or self.record.get("outcome") == expected

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "topic": self.topic,
                "transaction_id": self.transaction.transaction_id,
                "account": self.transaction.account,
                "merchant": self.transaction.merchant,
                "seconds": round(self.seconds, 3),
                "record": self.record,
            },
            separators=(",", ":"),
        )


def answers(record: ConsumedRecord, transaction: Transaction, topic: str) -> dict[str, Any] | None:
    """The record's value if it is the one for `transaction` on `topic`, else None (other traffic, garbage)."""
    try:
        value = json.loads(record.value or b"")
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("transaction_id") != transaction.transaction_id:
        return None
    key_field = KEY_FIELD.get(topic)
    if key_field is not None and (record.key or b"").decode("utf-8", "replace") != getattr(transaction, key_field):
        return None
    return value


async def run_smoke(
    transaction: Transaction,
    topic: str,
    sink: RecordSink,
    source: RecordSource,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> SmokeResult:
    """Send the transaction, then read `source` (already positioned at the topic's end) until its record or the
    timeout."""
    started = clock()
    await send_transaction(sink, transaction)
    await sink.flush()

    async def first_answer() -> dict[str, Any] | None:
        async for record in source:
            found = answers(record, transaction, topic)
            if found is not None:
                return found
        return None

    try:
        found = await asyncio.wait_for(first_answer(), timeout)
    except TimeoutError:
        found = None
    return SmokeResult(transaction, topic, found, clock() - started)
