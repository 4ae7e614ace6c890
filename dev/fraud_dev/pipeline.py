"""Helpers for end-to-end tests: Kafka I/O, the functions' metrics, Flink's REST API, merchants of a given risk."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from fraud_common.contract import Transaction
from fraud_common.kafka import read_to_end, start, stop_consumer, topic_partitions
from fraud_common.kafka_security import KafkaConnection
from fraud_common.merchant_risk import risk_score
from fraud_dev.stack.stack import LocalStack
from fraud_functions.scoring import LogisticModel, load_logistic_model
from fraud_functions.settings import FunctionSettings


class FlinkRuntime(Protocol):
    """Where a StateFun runtime's Flink REST API answers: the local stack's JVM, or a JobManager pod's Service."""

    @property
    def flink_rest_url(self) -> str: ...


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def merchant_with_risk(low: int, high: int, prefix: str = "Shop") -> str:
    """A fresh merchant name whose merchant-service score lies in [low, high]."""
    for _ in range(100_000):
        name = new_id(prefix)
        if low <= risk_score(name) <= high:
            return name
    raise AssertionError(f"no merchant with risk in [{low}, {high}]")


def shipped_model() -> LogisticModel:
    """The model file the functions load by default (MODEL_PATH unset)."""
    return load_logistic_model(FunctionSettings.from_env({}).model_path)


class Kafka:
    """Produce records and read committed records of the local broker (blocking wrappers around aiokafka), as the
    user of `connection` (the stack's super user, for the tests)."""

    def __init__(self, connection: KafkaConnection) -> None:
        self.connection = connection

    @property
    def bootstrap(self) -> str:
        return self.connection.bootstrap_servers

    def produce(self, topic: str, records: Iterable[tuple[bytes | None, bytes | None]]) -> list[tuple[int, int]]:
        """Send records one by one; returns where each landed, as (partition, offset)."""

        async def send() -> list[tuple[int, int]]:
            producer = AIOKafkaProducer(
                **self.connection.options(), enable_idempotence=True, max_request_size=2 * 1024 * 1024
            )
            await start(producer, self.connection, "the tests' producer")
            try:
                placed = []
                for key, value in records:
                    metadata = await producer.send_and_wait(topic, key=key, value=value)
                    placed.append((metadata.partition, metadata.offset))
                return placed
            finally:
                await producer.stop()

        return asyncio.run(send())

    def create_topic(self, topic: str, partitions: int = 1) -> None:
        async def create() -> None:
            admin = AIOKafkaAdminClient(**self.connection.options())
            await start(admin, self.connection, "the tests' admin client")
            try:
                await admin.create_topics([NewTopic(topic, partitions, 1)])
            finally:
                await admin.close()

        asyncio.run(create())

    def read_raw(self, topic: str) -> list[tuple[bytes | None, bytes | None]]:
        """Every committed record of a topic, as raw (key, value) bytes."""
        return [(r.key, r.value) for r in asyncio.run(read_to_end(self.connection, topic))]

    def end_offsets(self, topic: str) -> dict[int, int]:
        async def ends() -> dict[int, int]:
            consumer = AIOKafkaConsumer(**self.connection.options(), isolation_level="read_committed")
            await start(consumer, self.connection, "the tests' consumer")
            try:
                partitions = await topic_partitions(self.connection, topic)
                return {tp.partition: offset for tp, offset in (await consumer.end_offsets(partitions)).items()}
            finally:
                await stop_consumer(consumer)

        return asyncio.run(ends())

    def read(
        self, topic: str, since: dict[int, int], until: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> list[dict[str, Any]]:
        """Committed records of `topic` after `since`, polled until `until(records)` holds or the timeout passes."""
        return self.read_topics({topic: since}, until, timeout)

    def read_topics(
        self, since: dict[str, dict[int, int]], until: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> list[dict[str, Any]]:
        """Committed records of several topics after `since` ({topic: {partition: offset}}), each with its
        `topic`, `key` and JSON `value`, polled until `until(records)` holds or the timeout passes."""

        async def consume() -> list[dict[str, Any]]:
            consumer = AIOKafkaConsumer(
                **self.connection.options(),
                isolation_level="read_committed",
                enable_auto_commit=False,
                max_partition_fetch_bytes=4 * 1024 * 1024,
            )
            await start(consumer, self.connection, "the tests' consumer")
            try:
                partitions = [TopicPartition(topic, p) for topic, offsets in since.items() for p in offsets]
                consumer.assign(partitions)
                for tp in partitions:
                    consumer.seek(tp, since[tp.topic][tp.partition])
                records: list[dict[str, Any]] = []
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and not until(records):
                    batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                    for tp, messages in batch.items():
                        records.extend(
                            {
                                "topic": tp.topic,
                                "key": m.key.decode(errors="replace") if m.key is not None else None,
                                "value": json.loads(m.value),
                            }
                            for m in messages
                        )
                return records
            finally:
                await stop_consumer(consumer)

        return asyncio.run(consume())


def transaction_record(transaction: Transaction) -> tuple[bytes, bytes]:
    return transaction.transaction_id.encode(), json.dumps(transaction.to_record()).encode()


def function_metric(stack: LocalStack, name: str, labels: dict[str, str] | None = None) -> float:
    """Sum of a counter's samples on the function server, optionally filtered by labels."""
    url = f"http://127.0.0.1:{stack.config.ports.functions}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                total += sample.value
    return total


def flink(stack: FlinkRuntime, path: str) -> Any:
    with urllib.request.urlopen(f"{stack.flink_rest_url}{path}", timeout=5) as response:
        return json.loads(response.read())


def running_job(stack: FlinkRuntime) -> str:
    jobs = [job for job in flink(stack, "/jobs/overview")["jobs"] if job["state"] == "RUNNING"]
    assert jobs, "the StateFun job is not running"
    return jobs[0]["jid"]


def job_restarts(stack: FlinkRuntime) -> tuple[str, int]:
    """The running job's id and its restart count (Flink's numRestarts)."""
    job = running_job(stack)
    metrics = flink(stack, f"/jobs/{job}/metrics?get=numRestarts")
    return job, int(float(metrics[0]["value"]))


def restarts(stack: FlinkRuntime) -> int:
    return job_restarts(stack)[1]


def completed_checkpoints(stack: FlinkRuntime) -> int:
    return int(flink(stack, f"/jobs/{running_job(stack)}/checkpoints")["counts"]["completed"])


def wait_for_metric(
    stack: LocalStack, name: str, at_least: float, labels: dict[str, str] | None = None, timeout: float = 90
) -> None:
    """Wait until a function-server counter reaches `at_least`."""
    deadline = time.monotonic() + timeout
    while function_metric(stack, name, labels) < at_least:
        assert time.monotonic() < deadline, f"{name}{labels or ''} did not reach {at_least} in {timeout}s"
        time.sleep(0.5)


def wait_for_checkpoints(stack: FlinkRuntime, count: int = 2, timeout: float = 60) -> None:
    """Wait for `count` more completed checkpoints.

    Alerts and dead letters go out in Kafka transactions committed when a
    checkpoint completes; after two more checkpoints everything the functions
    emitted before is visible to read_committed consumers, so "no alert" can
    be asserted rather than guessed from a sleep.
    """
    deadline = time.monotonic() + timeout
    target = completed_checkpoints(stack) + count
    while completed_checkpoints(stack) < target:
        assert time.monotonic() < deadline, "checkpoints did not complete in time"
        time.sleep(0.5)


def decided(stack: LocalStack) -> float:
    return function_metric(stack, "fraud_decisions_total")


CONFIRMATIONS = {"function": "fraud/fraud-count", "message_type": "fraud/ConfirmFraud"}


def confirm_frauds(stack: LocalStack, kafka: Kafka, account: str, times: int) -> None:
    """Confirm `times` frauds for `account` on `confirmed` and wait until fraud-count has handled them."""
    handled = function_metric(stack, "fraud_function_messages_total", CONFIRMATIONS)
    kafka.produce("confirmed", [(account.encode(), json.dumps({"account": account}).encode())] * times)
    wait_for_metric(stack, "fraud_function_messages_total", handled + times, CONFIRMATIONS)


def consumer_lag(connection: KafkaConnection, group: str, topic: str) -> int:
    """Records of `topic` that `group` has not committed yet (the runtime commits on each checkpoint)."""

    async def lag() -> int:
        admin = AIOKafkaAdminClient(**connection.options())
        consumer = AIOKafkaConsumer(**connection.options())
        await start(admin, connection, "the tests' admin client")
        await start(consumer, connection, "the tests' consumer")
        try:
            partitions = await topic_partitions(connection, topic)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            ends = await consumer.end_offsets(partitions)
            return sum(
                ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                for tp in partitions
            )
        finally:
            await admin.close()
            await stop_consumer(consumer)

    return asyncio.run(lag())
