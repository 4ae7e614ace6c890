"""Two aiokafka pitfalls, handled once for every Kafka client in the project.

- A consumer without subscriptions has no metadata for a topic right after
  `start()`, so `partitions_for_topic` answers None for a topic that exists:
  `topic_partitions` asks the broker instead.
- `stop()` right after `start()` raises CancelledError from a background task
  that never got to run (aio-libs/aiokafka#647, open): `stop_consumer` lets it
  start first.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
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
    return [TopicPartition(topic, p["partition"]) for p in sorted(described["partitions"], key=lambda p: p["partition"])]


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer, even one stopped immediately after it started."""
    await asyncio.sleep(0)
    await consumer.stop()
