"""Send every account's latest threshold to `thresholds` again: the upgrade step of ADR 0016.

    python -m fraud_common.reseed --bootstrap-servers localhost:9092 --max-age-seconds SECONDS [--dry-run]

ADR 0016 moved the account's threshold from the function type `fraud/threshold` to
`fraud/account`; the runtime keeps state per function type, so an upgraded job
starts without the thresholds it had. The `thresholds` topic is compacted and keyed
by account, so it still holds each account's latest record: this reads it from the
beginning (read_committed), keeps the latest record of each key (a tombstone
removes it), leaves out the ones older than `--max-age-seconds` (by the record's
timestamp: give the functions' THRESHOLD_TTL_SECONDS, docs/configuration.md, so a
threshold the old state had already expired does not come back), and produces the
rest again, byte for byte. The upgraded job's ingress reads them like any threshold record.

A re-sent threshold's time-to-live starts again when it is handled. On a secured
Kafka the KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_* settings say how to
connect (docs/configuration.md): a user that may read and write `thresholds`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer

from fraud_common.contract import THRESHOLDS_TOPIC
from fraud_common.kafka import read_to_end, start
from fraud_common.kafka_security import KafkaConnection


def latest(records: Iterable[Any], not_before_ms: int) -> dict[bytes, bytes]:
    """Key → value of each key's last record, in the order read (one key lives in one partition, in order);
    a tombstone removes its key, and a last record older than `not_before_ms` is left out."""
    kept: dict[bytes, tuple[bytes | None, int]] = {}
    for record in records:
        if record.key is not None:
            kept[record.key] = (record.value, record.timestamp)
    return {key: value for key, (value, timestamp) in kept.items() if value is not None and timestamp >= not_before_ms}


async def reseed(kafka: KafkaConnection, max_age_seconds: int, dry_run: bool, out: TextIO = sys.stdout) -> int:
    """Produce each account's latest threshold again; returns how many were (or, dry, would be) sent."""
    records = latest(await read_to_end(kafka, THRESHOLDS_TOPIC), int((time.time() - max_age_seconds) * 1000))
    if dry_run:
        for key in records:
            print(f"would send the threshold of {key.decode('utf-8', errors='replace')}", file=out)
        return len(records)
    producer = AIOKafkaProducer(**kafka.options(), enable_idempotence=True)
    await start(producer, kafka, "the reseed's producer")
    try:
        for key, value in records.items():
            await producer.send_and_wait(THRESHOLDS_TOPIC, key=key, value=value)
    finally:
        await producer.stop()
    return len(records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fraud_common.reseed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap-servers", default="localhost:9092")
    parser.add_argument(
        "--max-age-seconds",
        type=int,
        required=True,
        help="leave out thresholds set longer ago than this: the functions' THRESHOLD_TTL_SECONDS",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be sent, send nothing")
    args = parser.parse_args(argv)
    sent = asyncio.run(reseed(KafkaConnection.from_env(args.bootstrap_servers), args.max_age_seconds, args.dry_run))
    print(f"{'would send' if args.dry_run else 'sent'} {sent} thresholds to {THRESHOLDS_TOPIC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
