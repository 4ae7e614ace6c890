"""Kafka and the StateFun runtime beside the real-node cluster, as the local stack runs them (ADR 0007).

The Flink Kubernetes Operator and Strimzi exist only as container images, which cannot be had here,
so nothing would run the chart's FlinkDeployment or Kafka. Instead the local stack's own broker and
runtime run as processes beside the cluster: the broker on a host outside the node (external.py), listening
and advertising on that host's address (pods reach it routed through the node, as the chart's
`kafka.external.bootstrapServers`, allowed by `kafka.external.cidrs`), and the runtime inside the node's
namespaces, where it calls the functions through their Service's DNS name, resolved by CoreDNS through the
namespace's resolv.conf, and load-balanced by kube-proxy: the runtime runs the module spec the chart
renders for the release, as the FlinkDeployment's pods would.

`BesideStack` is the local stack with only these two processes: stop, kill and restart work as
there, and the test helpers that read Flink's REST API take it as they take the local stack.
"""

from __future__ import annotations

from pathlib import Path

from fraud_common.kafka_security import KafkaConnection
from fraud_dev.cluster.external import ExternalHost
from fraud_dev.cluster.netns import NetworkNamespace
from fraud_dev.maven import classpath
from fraud_dev.prerequisites import java_executable
from fraud_dev.readiness import flink_job_running
from fraud_dev.say import STACK_SAYS, Say
from fraud_dev.stack import kafka
from fraud_dev.stack.config import REPO_ROOT, StackConfig
from fraud_dev.stack.stack import (
    KAFKA_PROJECT,
    LAUNCHER,
    RUNTIME,
    LocalStack,
)


def resolve_classpaths(config: StackConfig) -> tuple[str, str]:
    """The broker's and the runtime's classpaths (Maven, from Maven Central the first time): resolved
    on the host before anything runs in the namespace, where Maven would find no network."""
    log = config.logs / "maven.log"
    return (
        classpath(KAFKA_PROJECT, KAFKA_PROJECT / "target" / "classpath.txt", log),
        classpath(RUNTIME, LAUNCHER / "target" / "classpath.txt", log),
    )


class BesideStack(LocalStack):
    """The local stack's Kafka on the `external` host and its StateFun runtime inside `netns`; the functions
    are the cluster's."""

    def __init__(
        self,
        config: StackConfig,
        netns: NetworkNamespace,
        external: ExternalHost,
        module_spec: str,
        say: Say = STACK_SAYS,
    ):
        super().__init__(config, simulator_args=None, say=say)
        self.netns = netns
        self.external = external
        self.module_spec = module_spec

    @property
    def bootstrap(self) -> str:
        return f"{self.external.address}:{self.config.ports.kafka}"

    def _start(self) -> None:
        config = self.config
        java = java_executable()
        config.ports.check_free()
        config.logs.mkdir(parents=True, exist_ok=True)
        broker_cp, runtime_cp = resolve_classpaths(config)

        broker = kafka.broker(config, java, broker_cp)
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

        runtime = self.runtime_service(java, runtime_cp, self.service_env())
        # The release's module spec (what the chart's ConfigMap holds) instead of the local stack's rendering.
        Path(runtime.env["STATEFUN_MODULE"]).write_text(self.module_spec, encoding="utf-8")
        runtime.argv = self.netns.argv(runtime.argv, REPO_ROOT)
        self._launch(runtime, lambda: flink_job_running(config.ports.flink_rest), 240)
