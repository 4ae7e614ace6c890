"""Two aiokafka pitfalls, handled once for every Kafka client in the project, and reading a topic whole.

- A consumer without subscriptions has no metadata for a topic right after
  `start()`, so `partitions_for_topic` answers None for a topic that exists:
  `topic_partitions` asks the broker instead.
- `stop()` right after `start()` raises CancelledError from a background task
  that never got to run (aio-libs/aiokafka#647, open): `stop_consumer` lets it
  start first.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """Every partition of `topic`; raises LookupError if the broker does not know the topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0 or not described["partitions"]:
        raise LookupError(f"topic '{topic}' does not exist")
    return [
        TopicPartition(topic, p["partition"]) for p in sorted(described["partitions"], key=lambda p: p["partition"])
    ]


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer, even one stopped immediately after it started."""
    await asyncio.sleep(0)
    await consumer.stop()


async def read_to_end(bootstrap_servers: str, topic: str, timeout: float = 60) -> list[ConsumerRecord]:
    """Every committed record of `topic` up to its current end (read_committed), oldest first per partition."""
    partitions = await topic_partitions(bootstrap_servers, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        isolation_level="read_committed",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout:.0f}s")
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(messages)
        return records
    finally:
        await stop_consumer(consumer)
