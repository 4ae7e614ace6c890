"""The local Kafka broker: a single KRaft node (broker and controller), plus the pipeline's topics.

Plaintext by default; with KAFKA_SECURITY=sasl_ssl secured as fraud_dev.stack.kafka_security describes.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from fraud_common.contract import TOPICS, Topic
from fraud_common.kafka_security import KafkaConnection
from fraud_dev.process import Service
from fraud_dev.stack.config import REPO_ROOT, StackConfig
from fraud_dev.stack.kafka_security import BrokerModeMismatch

KAFKA_CONF = REPO_ROOT / "runtime" / "kafka" / "conf"


def server_properties(config: StackConfig, host: str = "localhost") -> Path:
    """The repo's server.properties with this stack's listeners (on `host`), security and data directory
    appended (last key wins)."""
    data = config.run_dir / "kafka" / "data"
    path = config.run_dir / "kafka" / "server.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    ports = config.ports
    if config.secured:
        listeners = config.broker_security.server_properties(host, ports.kafka, ports.kafka_controller)
    else:
        listeners = [
            f"listeners=PLAINTEXT://{host}:{ports.kafka},CONTROLLER://localhost:{ports.kafka_controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{ports.kafka}",
        ]
    overrides = [*listeners, f"controller.quorum.voters=1@localhost:{ports.kafka_controller}", f"log.dirs={data}"]
    path.write_text((KAFKA_CONF / "server.properties").read_text() + "\n" + "\n".join(overrides) + "\n")
    path.chmod(0o600)  # the secured broker's keys name its own SCRAM password
    return path


def write_argfile(path: Path, arguments: list[str]) -> str:
    """A java @argfile (readable by its owner only) holding `arguments`, so none shows in the process list."""
    path.write_text("\n".join(f'"{argument}"' for argument in arguments) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return f"@{path}"


def formatted(config: StackConfig) -> bool:
    return (config.run_dir / "kafka" / "data" / "meta.properties").exists()


def check_mode(config: StackConfig) -> None:
    """A formatted log directory must have been formatted in this run's security mode (its users are in it)."""
    mode_file = config.run_dir / "kafka" / "security-mode"
    made = mode_file.read_text(encoding="utf-8").strip() if mode_file.exists() else "plaintext"
    if formatted(config) and made != config.kafka_security:
        raise BrokerModeMismatch(
            f"the broker's data in {config.run_dir / 'kafka'} was made with KAFKA_SECURITY={made}, this run asks "
            f"for {config.kafka_security}: `make clean` (the checkpoints go too) or another STACK_RUN_DIR"
        )


def format_storage(config: StackConfig, java: str, classpath: str, properties: Path, log_path: Path) -> None:
    """Format the KRaft log directory once, with the secured broker's SCRAM users in its metadata log."""
    if formatted(config):
        return
    tool_log = f"-Dlog4j.configuration=file:{KAFKA_CONF / 'tools-log4j.properties'}"
    base = [java, tool_log, "-cp", classpath, "kafka.tools.StorageTool"]
    cluster_id = subprocess.run([*base, "random-uuid"], capture_output=True, text=True, check=True).stdout.strip()
    arguments = [*base[1:], "format", "-c", str(properties), "-t", cluster_id]
    if config.secured:
        arguments += config.broker_security.format_arguments()
    argfile = config.run_dir / "kafka" / "format.args"
    try:
        with log_path.open("ab") as sink:
            subprocess.run([java, write_argfile(argfile, arguments)], stdout=sink, stderr=subprocess.STDOUT, check=True)
    finally:
        argfile.unlink(missing_ok=True)
    (config.run_dir / "kafka" / "security-mode").write_text(config.kafka_security + "\n", encoding="utf-8")


def broker(config: StackConfig, java: str, classpath: str, host: str = "localhost") -> Service:
    """The broker listening on `host`, its log directory formatted; when secured, certificates made now and
    passwords made with a new log directory."""
    check_mode(config)
    if config.secured:
        config.broker_security.make_certificates()
        if not formatted(config):
            config.broker_security.make_passwords()
    properties = server_properties(config, host)
    log_path = config.logs / "kafka.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    format_storage(config, java, classpath, properties, log_path)
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


async def _create_topics(connection: KafkaConnection) -> list[str]:
    admin = AIOKafkaAdminClient(**connection.options())
    await admin.start()
    try:
        missing = missing_topics(set(await admin.list_topics()))
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return sorted(topic.name for topic in missing)
    finally:
        await admin.close()


def create_topics(connection: KafkaConnection) -> list[str]:
    """Create the pipeline's topics that do not exist yet; returns the ones created."""
    return asyncio.run(_create_topics(connection))


def broker_ready(connection: KafkaConnection) -> bool:
    """The broker answers metadata requests (an open port alone is not enough right after start)."""

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(**connection.options(), request_timeout_ms=2000)
        await admin.start()
        try:
            await admin.list_topics()
            return True
        finally:
            await admin.close()

    return asyncio.run(probe())
