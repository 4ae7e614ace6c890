"""Three aiokafka pitfalls, handled once for every Kafka client in the project, and reading a topic whole.

- A consumer without subscriptions has no metadata for a topic right after
  `start()`, so `partitions_for_topic` answers None for a topic that exists:
  `topic_partitions` asks the broker instead.
- `stop()` right after `start()` raises CancelledError from a background task
  that never got to run (aio-libs/aiokafka#647, open): `stop_consumer` lets it
  start first.
- A client that cannot bootstrap says only "Unable to bootstrap", whether the
  broker is down, refused the credentials or presented a certificate we do not
  trust (the cause is in its log, which the components silence): `start`
  connects once more to find out and raises `KafkaRefused` saying which.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError, KafkaError, SaslAuthenticationFailed

from fraud_common.kafka_security import KafkaConnection


class KafkaRefused(ConnectionError):
    """A client could not start: the message says who, where, with which security, and why."""


async def why_not(connection: KafkaConnection, timeout_ms: int = 5000) -> str:
    """Why a client cannot bootstrap: one connection to each bootstrap server, its failure in words."""
    reasons = []
    for server in connection.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await create_conn(
                host, int(port), request_timeout_ms=timeout_ms, **connection.security.client_options()
            )
        except SaslAuthenticationFailed as err:
            reasons.append(f"{server} refused the credentials: {err}")
        except ssl.SSLCertVerificationError as err:
            reasons.append(f"{server}: its TLS certificate is not trusted ({err.verify_message})")
        except (TimeoutError, ssl.SSLError, KafkaError, OSError, ValueError) as err:
            reasons.append(f"{server}: {type(err).__name__} {err}".rstrip())
        else:
            conn.close()
            reasons.append(f"{server} accepts a connection now")
    return "; ".join(reasons)


async def start(client: Any, connection: KafkaConnection, who: str) -> None:
    """`client.start()`, and when it cannot bootstrap, KafkaRefused naming `who`, the servers and the cause."""
    try:
        await client.start()
    except KafkaConnectionError:
        raise KafkaRefused(f"{who} cannot use Kafka at {connection.describe()}: {await why_not(connection)}") from None


async def topic_partitions(connection: KafkaConnection, topic: str) -> list[TopicPartition]:
    """Every partition of `topic`; raises LookupError if the broker does not know the topic."""
    admin = AIOKafkaAdminClient(**connection.options())
    await start(admin, connection, "an admin client")
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


async def read_to_end(connection: KafkaConnection, topic: str, timeout: float = 60) -> list[ConsumerRecord]:
    """Every committed record of `topic` up to its current end (read_committed), oldest first per partition."""
    partitions = await topic_partitions(connection, topic)
    consumer = AIOKafkaConsumer(
        **connection.options(),
        isolation_level="read_committed",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await start(consumer, connection, f"a reader of {topic}")
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
