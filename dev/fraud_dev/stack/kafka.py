"""The local Kafka broker: a single KRaft node (broker and controller), plus the pipeline's topics."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from fraud_common.contract import TOPICS, Topic
from fraud_dev.process import Service
from fraud_dev.stack.config import REPO_ROOT, StackConfig

KAFKA_CONF = REPO_ROOT / "runtime" / "kafka" / "conf"


def server_properties(config: StackConfig) -> Path:
    """The repo's server.properties with this stack's ports and data directory appended (last key wins)."""
    data = config.run_dir / "kafka" / "data"
    path = config.run_dir / "kafka" / "server.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    ports = config.ports
    overrides = [
        f"listeners=PLAINTEXT://localhost:{ports.kafka},CONTROLLER://localhost:{ports.kafka_controller}",
        f"advertised.listeners=PLAINTEXT://localhost:{ports.kafka}",
        f"controller.quorum.voters=1@localhost:{ports.kafka_controller}",
        f"log.dirs={data}",
    ]
    path.write_text((KAFKA_CONF / "server.properties").read_text() + "\n" + "\n".join(overrides) + "\n")
    return path


def format_storage(java: str, classpath: str, properties: Path, data: Path, log_path: Path) -> None:
    """Format the KRaft log directory once; an existing meta.properties means it is done."""
    if (data / "meta.properties").exists():
        return
    tool_log = f"-Dlog4j.configuration=file:{KAFKA_CONF / 'tools-log4j.properties'}"
    base = [java, tool_log, "-cp", classpath, "kafka.tools.StorageTool"]
    cluster_id = subprocess.run([*base, "random-uuid"], capture_output=True, text=True, check=True).stdout.strip()
    with log_path.open("ab") as sink:
        subprocess.run(
            [*base, "format", "-c", str(properties), "-t", cluster_id],
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=True,
        )


def broker(config: StackConfig, java: str, classpath: str) -> Service:
    properties = server_properties(config)
    log_path = config.logs / "kafka.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    format_storage(java, classpath, properties, config.run_dir / "kafka" / "data", log_path)
    return Service(
        name="kafka",
        argv=[
            java,
            f"-Xmx{config.kafka_heap}",
            f"-Dlog4j.configuration=file:{KAFKA_CONF / 'log4j.properties'}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(properties),
        ],
        log_path=log_path,
    )


def missing_topics(existing: set[str], topics: Sequence[Topic] = TOPICS) -> list[NewTopic]:
    """The contract's topics the broker does not have yet, with their partitions (one replica: one broker)."""
    return [NewTopic(topic.name, topic.partitions, 1) for topic in topics if topic.name not in existing]


async def _create_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        missing = missing_topics(set(await admin.list_topics()))
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return sorted(topic.name for topic in missing)
    finally:
        await admin.close()


def create_topics(bootstrap: str) -> list[str]:
    """Create the pipeline's topics that do not exist yet; returns the ones created."""
    return asyncio.run(_create_topics(bootstrap))


def broker_ready(bootstrap: str) -> bool:
    """The broker answers metadata requests (an open port alone is not enough right after start)."""

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        await admin.start()
        try:
            await admin.list_topics()
            return True
        finally:
            await admin.close()

    return asyncio.run(probe())
