"""Replay dead letters: send the original records back to their topic, after the cause was fixed.

    python -m fraud_common.replay --bootstrap-servers localhost:9092 --reason internal_error [--dry-run]

Reads `dead-letters` from the beginning (read_committed), keeps the letters that
match every filter given, rebuilds each original record byte for byte (key and
value, from text or base64) and produces it to the topic it came from, or to
--to-topic. Letters that cannot be replayed (a value the ingress cut short, a
message between functions) are counted and listed, not sent. A transaction
replayed after a `dead_letter` decision is decided again (docs/runbooks/dead-letters.md);
one replayed after any other decision is a duplicate and is dead-lettered again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer

from fraud_common.contract import DEAD_LETTERS_TOPIC, NotReplayable, original_record
from fraud_common.kafka import read_to_end


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay; an empty filter matches everything."""

    reasons: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    address_ids: frozenset[str] = frozenset()

    def matches(self, letter: dict[str, Any]) -> bool:
        return (
            (not self.reasons or letter.get("reason") in self.reasons)
            and (not self.topics or letter.get("topic") in self.topics)
            and (not self.address_ids or letter.get("address_id") in self.address_ids)
        )


async def read_dead_letters(bootstrap: str) -> list[dict[str, Any]]:
    """Every committed dead letter, oldest first per partition."""
    return [json.loads(record.value) for record in await read_to_end(bootstrap, DEAD_LETTERS_TOPIC)]


async def replay(
    bootstrap: str, selection: Selection, to_topic: str | None, dry_run: bool, out: TextIO = sys.stdout
) -> Counter[str]:
    """Replay the selected dead letters; returns counts of replayed, skipped and unmatched letters."""
    counts: Counter[str] = Counter()
    producer = (
        None
        if dry_run
        else AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, max_request_size=2 * 1024 * 1024)
    )
    if producer is not None:
        await producer.start()
    try:
        for letter in await read_dead_letters(bootstrap):
            if not selection.matches(letter):
                counts["not selected"] += 1
                continue
            position = f"{letter.get('topic')}/{letter.get('partition')}/{letter.get('offset')}"
            try:
                topic, key, value = original_record(letter)
            except NotReplayable as why:
                counts["not replayable"] += 1
                print(f"skipped {position} ({letter.get('reason')}): {why}", file=out)
                continue
            target = to_topic or topic
            if producer is not None:
                await producer.send_and_wait(target, key=key, value=value)
            counts["replayed"] += 1
            print(
                f"{'would replay' if dry_run else 'replayed'} {position} ({letter.get('reason')}) to {target}", file=out
            )
    finally:
        if producer is not None:
            await producer.stop()
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fraud_common.replay", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap-servers", default="localhost:9092")
    parser.add_argument("--reason", action="append", default=[], help="only letters with this reason (repeatable)")
    parser.add_argument("--topic", action="append", default=[], help="only records from this topic (repeatable)")
    parser.add_argument("--address-id", action="append", default=[], help="only this id, e.g. a transaction id")
    parser.add_argument("--to-topic", help="send to this topic instead of the original one")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed, send nothing")
    args = parser.parse_args(argv)
    selection = Selection(frozenset(args.reason), frozenset(args.topic), frozenset(args.address_id))
    counts = asyncio.run(replay(args.bootstrap_servers, selection, args.to_topic, args.dry_run))
    print(", ".join(f"{name}: {count}" for name, count in sorted(counts.items())) or "no dead letters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
