"""The mixed rung's side streams: a `confirmed` and a `thresholds` record per scenario transaction, at its rate.

Issue 18 saw the pipeline starve when confirmations and threshold changes
arrived as fast as transactions; the mixed rung of the end-to-end ladder
(dev/fraud_dev/bench/end_to_end.py) reproduces that input. For the seeded
scenario the simulator produces, this process produces, in the same order and
at the same rate, one confirmation and one threshold record for the account of
each transaction, so every side record reaches an account the stream is using.
The records are the simulator's own (fraud_simulator.loops.confirmation_record,
fraud_simulator.thresholds.ThresholdPolicy): valid by fraud_common.contract.

    python -m fraud_dev.bench.side_streams --bootstrap-servers HOST:PORT --seed S --count N --rate R

prints one JSON line: the records sent per topic and the producer's achieved rate per topic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from fraud_common.contract import CONFIRMED_TOPIC, THRESHOLDS_TOPIC, Transaction
from fraud_common.kafka_security import KafkaConnection
from fraud_simulator.loops import confirmation_record
from fraud_simulator.thresholds import ThresholdPolicy
from fraud_simulator.transactions import scenario_transactions

SideRecord = tuple[str, bytes, bytes]


def side_records(transactions: Sequence[Transaction], seed: int) -> list[SideRecord]:
    """For each transaction in order, a confirmation of its account then a threshold for it (seeded, 60..95)."""
    thresholds = ThresholdPolicy(1.0, random.Random(f"side-thresholds:{seed}"))
    records: list[SideRecord] = []
    for transaction in transactions:
        records.append((CONFIRMED_TOPIC, *confirmation_record(transaction.account)))
        threshold = thresholds.record_for(transaction.account)
        assert threshold is not None  # share 1.0: every account sets one
        records.append((THRESHOLDS_TOPIC, *threshold))
    return records


def achieved_rate(count: int, span_seconds: float) -> float | None:
    """Records per second of `count` sends spread over `span_seconds` from the first to the last: a steady
    producer at rate r sends n records in (n - 1) / r seconds. None when there is no span to measure."""
    if count < 2 or span_seconds <= 0:
        return None
    return round((count - 1) / span_seconds, 1)


def schedule(records: Sequence[SideRecord], rate_per_topic: float) -> list[float]:
    """When to send each record, in seconds from the start: evenly spaced, so that each topic (the records
    alternate between them) gets `rate_per_topic` records per second."""
    topics = len({topic for topic, _, _ in records})
    return [index / (rate_per_topic * topics) for index in range(len(records))]


async def produce(connection: KafkaConnection, records: Sequence[SideRecord], rate_per_topic: float) -> dict:
    """Send `records` on `schedule`; the summary of what was sent and the rate achieved on each topic."""
    topics = Counter(topic for topic, _, _ in records)
    producer = AIOKafkaProducer(**connection.options(), enable_idempotence=True, linger_ms=5)
    await producer.start()
    started = time.monotonic()
    last_send = started
    try:
        pending = []
        for at, (topic, key, value) in zip(schedule(records, rate_per_topic), records, strict=True):
            delay = started + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(await producer.send(topic, key=key, value=value))
            last_send = time.monotonic()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    achieved = achieved_rate(len(records), last_send - started)
    return {
        "sent": dict(topics),
        "achieved_rate_per_topic": None if achieved is None else round(achieved / len(topics), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fraud_dev.bench.side_streams", description=__doc__)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="records per second on each topic")
    args = parser.parse_args(argv)
    records = side_records(scenario_transactions(args.seed, args.count), args.seed)
    summary = asyncio.run(produce(KafkaConnection.from_env(args.bootstrap_servers), records, args.rate))
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
