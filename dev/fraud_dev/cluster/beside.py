"""Kafka beside the real-node cluster, as the local stack runs it (ADR 0007, ADR 0014).

Strimzi exists only as container images, which cannot be had here, so the local stack's own broker runs as a
process on a host outside the node (external.py), listening and advertising on that host's address: pods reach
it routed through the node, as the chart's `kafka.external.bootstrapServers`, allowed by `kafka.external.cidrs`.
The StateFun runtime runs in pods, installed by the chart in standalone mode (ADR 0014).

`BesideStack` is the local stack with only the broker: stop, kill and restart work as there.
"""

from __future__ import annotations

from fraud_common.kafka_security import KafkaConnection
from fraud_dev.cluster.external import ExternalHost
from fraud_dev.maven import classpath
from fraud_dev.prerequisites import java_executable
from fraud_dev.say import STACK_SAYS, Say
from fraud_dev.stack import kafka
from fraud_dev.stack.config import REPO_ROOT, StackConfig
from fraud_dev.stack.stack import KAFKA_PROJECT, LAUNCHER, RUNTIME, LocalStack


def resolve_classpaths(config: StackConfig) -> tuple[str, str]:
    """The broker's and the runtime's classpaths (Maven, from Maven Central the first time): resolved on the host
    before anything runs in the namespace, where Maven would find no network. The runtime's also fills the local
    repository with what the Dockerfile's jar stage builds the extension with, offline (jvm_bases.py)."""
    log = config.logs / "maven.log"
    return (
        classpath(KAFKA_PROJECT, KAFKA_PROJECT / "target" / "classpath.txt", log),
        classpath(RUNTIME, LAUNCHER / "target" / "classpath.txt", log),
    )


class BesideStack(LocalStack):
    """The local stack's Kafka on the `external` host; the functions and the runtime are the cluster's."""

    def __init__(self, config: StackConfig, external: ExternalHost, say: Say = STACK_SAYS):
        super().__init__(config, simulator_args=None, say=say)
        self.external = external

    @property
    def bootstrap(self) -> str:
        return f"{self.external.address}:{self.config.ports.kafka}"

    def _start(self) -> None:
        config = self.config
        config.ports.check_free()
        config.logs.mkdir(parents=True, exist_ok=True)
        broker_cp, _ = resolve_classpaths(config)

        broker = kafka.broker(config, java_executable(), broker_cp)
        # The broker's properties file: the stack's, then ours (the last key wins), so pods reach it.
        with (config.run_dir / "kafka" / "server.properties").open("a", encoding="utf-8") as properties:
            properties.write(
                f"listeners=PLAINTEXT://{self.bootstrap},CONTROLLER://localhost:{config.ports.kafka_controller}\n"
                f"advertised.listeners=PLAINTEXT://{self.bootstrap}\n"
            )
        broker.argv = self.external.argv(broker.argv, REPO_ROOT)
        self._launch(broker, lambda: kafka.broker_ready(KafkaConnection(self.bootstrap)), 90)
        created = kafka.create_topics(KafkaConnection(self.bootstrap))
        if created:
            self.say(f"created topics {', '.join(created)}")
