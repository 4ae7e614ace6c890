"""The `smoke` command: a transaction the model must alert on, and the wait for exactly its record."""

import asyncio
import io
import json
import random

from fraud_common.contract import (
    ALERTS_TOPIC,
    DECISIONS_TOPIC,
    TRANSACTIONS_TOPIC,
    Outcome,
    encode,
)
from fraud_common.merchant_risk import risk_score
from fraud_simulator import cli
from fraud_simulator.kafka_io import ConsumedRecord
from fraud_simulator.smoke import MIN_RISK, answers, run_smoke, smoke_transaction
from tests.support.reference_model import THRESHOLD, Raw, merchant_score

from .fakes import FakeSink


class KeyedSource:
    """Yields (key, value) records after the transaction was sent, then ends."""

    def __init__(self, records):
        self.records = records
        self.closed = False

    async def __aiter__(self):
        for key, value in self.records:
            await asyncio.sleep(0)
            yield ConsumedRecord(key=key, value=value)

    async def close(self):
        self.closed = True


class SilentSource(KeyedSource):
    """A topic where nothing ever arrives."""

    def __init__(self):
        super().__init__([])

    async def __aiter__(self):
        await asyncio.Event().wait()
        yield  # pragma: no cover - never reached


def test_the_shipped_model_alerts_on_every_smoke_transaction():
    rng = random.Random(7)
    for _ in range(20):
        tx = smoke_transaction(rng)
        assert risk_score(tx.merchant) >= MIN_RISK
        # Scored by the oracle's literal-weight model, for a first payment (spike 1) without fraud history.
        assert Raw(0, merchant_score(tx.merchant), tx.amount, 1).probability() >= THRESHOLD


def test_only_the_record_for_this_transaction_and_key_answers():
    tx = smoke_transaction(random.Random(1))
    mine = encode({"transaction_id": tx.transaction_id, "account": tx.account})
    other = encode({"transaction_id": "someone-else", "account": tx.account})
    assert answers(ConsumedRecord(tx.account.encode(), mine), tx, ALERTS_TOPIC) is not None
    assert answers(ConsumedRecord(b"another-account", mine), tx, ALERTS_TOPIC) is None
    assert answers(ConsumedRecord(tx.account.encode(), other), tx, ALERTS_TOPIC) is None
    assert answers(ConsumedRecord(tx.account.encode(), b"not json"), tx, ALERTS_TOPIC) is None
    assert answers(ConsumedRecord(tx.transaction_id.encode(), mine), tx, DECISIONS_TOPIC) is not None


async def test_sends_the_transaction_and_finds_its_alert_among_other_records():
    tx = smoke_transaction(random.Random(2))
    sink = FakeSink()
    source = KeyedSource(
        [
            (b"x", encode({"transaction_id": "other"})),
            (tx.account.encode(), encode({"transaction_id": tx.transaction_id, "score": 0.9})),
        ]
    )
    result = await run_smoke(tx, ALERTS_TOPIC, sink, source, timeout=5)
    assert result.ok and result.record["score"] == 0.9
    ((key, value),) = sink.on(TRANSACTIONS_TOPIC)
    assert key == tx.transaction_id.encode() and json.loads(value)["amount"] == 1000


async def test_a_decision_must_say_alert():
    tx = smoke_transaction(random.Random(3))
    key = tx.transaction_id.encode()
    no_alert = KeyedSource([(key, encode({"transaction_id": tx.transaction_id, "outcome": Outcome.NO_ALERT}))])
    alert = KeyedSource([(key, encode({"transaction_id": tx.transaction_id, "outcome": Outcome.ALERT}))])
    assert not (await run_smoke(tx, DECISIONS_TOPIC, FakeSink(), no_alert, timeout=5)).ok
    assert (await run_smoke(tx, DECISIONS_TOPIC, FakeSink(), alert, timeout=5)).ok


async def test_nothing_within_the_timeout_fails_with_its_own_exit_code():
    sink, source = FakeSink(), SilentSource()

    async def producer(_bootstrap):
        return sink

    async def at_end(_bootstrap, topic):
        assert topic == "decisions"
        return source

    args = cli.parse_args(["smoke", "--topic", "decisions", "--timeout", "0.05"], env={})
    out = io.StringIO()
    code = await cli.run_command(
        args, asyncio.Event(), cli.KafkaFactories(producer=producer, alerts_at_end=at_end), out=out, err=io.StringIO()
    )
    assert code == cli.EXIT_SMOKE_FAILED
    summary = json.loads(out.getvalue())
    assert summary["ok"] is False and summary["record"] is None and summary["topic"] == "decisions"
    assert sink.closed and source.closed


def test_smoke_settings_come_from_the_environment():
    args = cli.parse_args(["smoke"], env={"SIMULATOR_SMOKE_TOPIC": "alerts", "SIMULATOR_SMOKE_TIMEOUT": "9"})
    assert (args.topic, args.timeout) == ("alerts", 9)
    assert (cli.parse_args(["smoke"], env={}).topic, cli.parse_args(["smoke"], env={}).timeout) == ("decisions", 180)
