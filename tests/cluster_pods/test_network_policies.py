"""The chart's NetworkPolicies, enforced on the real node by kube-network-policies (ADR 0010).

Every flow the pipeline needs passes and flows nothing needs are refused, tried from inside real pods: the
release's own, a Prometheus-like pod and an unlabelled pod in namespace `monitoring`, and a pod in another
namespace. Each refusal has a passing twin to the same address and port from another pod, so a refused
connection is the policies' doing, not a dead port or a missing route; and the engine counts what it
dropped. With enforcement off (no engine, or nothing handing it packets) every connection gets through and
the refusal tests fail. The rest of the suite (the seeded scenario, the upgrade, the deleted pod, the HPA,
`helm test`) runs after these, with the same policies on.
"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from fraud_dev.cluster import netpol
from tests.cluster_pods.conftest import NAMESPACE, RELEASE, Release, values
from tests.cluster_pods.runtime import runtime_pods

PYTHON = "/opt/venv/bin/python"
OTHER_NAMESPACE = "elsewhere"
MONITORING = "monitoring"
CONNECT_TIMEOUT = 2.0  # a dropped SYN is retried after 1 s: two tries each
# Tries every (host, port) at once from inside a pod; prints {"host:port": "open" | "refused" | "timeout" | error}.
PROBE = f"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def attempt(target):
    host, port = target
    try:
        socket.create_connection((host, port), timeout={CONNECT_TIMEOUT}).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError as error:
        return type(error).__name__
targets = json.loads(sys.argv[1])
with ThreadPoolExecutor(len(targets)) as pool:
    print(json.dumps(dict(zip([f"{{h}}:{{p}}" for h, p in targets], pool.map(attempt, targets)))))
"""


@dataclass(frozen=True)
class Outsider:
    """A pod outside the release: its namespace, name and labels."""

    namespace: str
    name: str
    labels: dict[str, str]

    def manifest(self, image: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels},
            "spec": {
                "terminationGracePeriodSeconds": 0,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "probe",
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "command": [PYTHON, "-c", "import time; time.sleep(10**9)"],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                    }
                ],
            },
        }


PROMETHEUS = Outsider(MONITORING, "prometheus-like", {"app.kubernetes.io/name": "prometheus"})
UNLABELLED = Outsider(MONITORING, "unlabelled", {})
ELSEWHERE = Outsider(OTHER_NAMESPACE, "elsewhere", {})


@dataclass
class Probes:
    release: Release
    kafka: tuple[str, int]

    def pod(self, component: str) -> dict:
        return self.release.pods(component)[0]

    def address(self, component: str, port: int) -> tuple[str, int]:
        return self.pod(component)["status"]["podIP"], port

    def runtime_address(self, component: str, port: int) -> tuple[str, int]:
        """A StateFun runtime pod's (jobmanager or taskmanager, ADR 0014)."""
        return runtime_pods(self.release, component)[0]["status"]["podIP"], port

    def attempt(self, namespace: str, pod: str, targets: list[tuple[str, int]]) -> dict[str, str]:
        """Connections from inside `pod`, all at once."""
        result = self.release.kubectl.run(
            "exec", "-n", namespace, pod, "--", PYTHON, "-c", PROBE, json.dumps(targets), timeout=60
        )
        return json.loads(result.stdout)


def engine_packets() -> dict[str, float]:
    """The engine's own count of the packets it judged, by verdict."""
    with urllib.request.urlopen(f"http://{netpol.METRICS}/metrics", timeout=5) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "kube_network_policies_packet_count":
            for sample in family.samples:
                if not sample.name.endswith("_created"):
                    verdict = sample.labels["verdict"]
                    counts[verdict] = counts.get(verdict, 0.0) + sample.value
    return counts


@pytest.fixture(scope="module")
def probes(release: Release) -> Probes:
    """The pods outside the release, Ready, beside the release's own."""
    kubectl = release.kubectl
    image = next(c["image"] for c in release.pods("functions")[0]["spec"]["containers"] if c["name"] == "functions")
    kubectl.run("create", "namespace", OTHER_NAMESPACE)
    kubectl.run("create", "namespace", MONITORING)
    outsiders = (PROMETHEUS, UNLABELLED, ELSEWHERE)
    kubectl.run(
        "apply",
        "-f",
        "-",
        input=yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [o.manifest(image) for o in outsiders]}),
    )
    for outsider in outsiders:
        kubectl.run("wait", "-n", outsider.namespace, f"pod/{outsider.name}", "--for=condition=Ready", "--timeout=90s")
    host, port = values()["kafka"]["external"]["bootstrapServers"].rsplit(":", 1)
    return Probes(release, (host, int(port)))


def test_kafka_is_where_the_values_say_outside_the_node(release: Release):
    """The values name the broker the cluster runs, on the host outside the node (a pod may always reach its
    own node, so a broker there could never be refused)."""
    kafka = values()["kafka"]["external"]
    assert kafka["bootstrapServers"] == release.stack.bootstrap
    external = release.cluster.netns.addressing.external_host
    assert release.stack.bootstrap.startswith(f"{external}:") and kafka["cidrs"] == [f"{external}/32"]
    assert external != release.cluster.netns.addressing.node_ip


def test_the_engine_has_the_releases_policies_and_judges_packets(release: Release):
    policies = release.kubectl.json("get", "networkpolicies", "-n", NAMESPACE)["items"]
    assert {p["metadata"]["name"] for p in policies} >= {f"{RELEASE}-default-deny", f"{RELEASE}-functions"}
    assert netpol.queue_bound(release.cluster.netns)
    assert engine_packets().get("accept", 0) > 0  # the release's own pods talked through it since install


def test_the_flows_the_pipeline_needs_pass_and_the_others_are_refused(probes: Probes):
    functions = probes.address("functions", 8000)
    merchant = probes.address("merchant-service", 8090)
    simulator = probes.address("simulator", 8080)
    merchant_service = (f"{RELEASE}-merchant-service.{NAMESPACE}.svc", 8090)  # through DNS and the Service
    jobmanager_metrics = probes.runtime_address("jobmanager", 9249)
    taskmanager_metrics = probes.runtime_address("taskmanager", 9249)
    kafka = probes.kafka
    # (namespace, pod, {target: expected}); every refused target passes from another source.
    plan = {
        "functions": (
            NAMESPACE,
            probes.pod("functions")["metadata"]["name"],
            {merchant_service: "open", kafka: "timeout"},
        ),
        "simulator": (
            NAMESPACE,
            probes.pod("simulator")["metadata"]["name"],
            {kafka: "open", functions: "timeout", merchant: "timeout", jobmanager_metrics: "timeout"},
        ),
        "prometheus in monitoring": (
            MONITORING,
            PROMETHEUS.name,
            {
                functions: "open",
                merchant: "open",
                simulator: "open",
                jobmanager_metrics: "open",
                taskmanager_metrics: "open",
            },
        ),
        "unlabelled in monitoring": (
            MONITORING,
            UNLABELLED.name,
            {functions: "timeout", merchant: "timeout", taskmanager_metrics: "timeout"},
        ),
        "another namespace": (
            OTHER_NAMESPACE,
            ELSEWHERE.name,
            {functions: "timeout", merchant: "timeout", simulator: "timeout", kafka: "open"},
        ),
    }
    before = engine_packets()
    with ThreadPoolExecutor(len(plan)) as pool:
        seen = dict(
            zip(
                plan,
                pool.map(lambda source: probes.attempt(source[0], source[1], list(source[2])), plan.values()),
                strict=True,
            )
        )
    after = engine_packets()
    expected = {
        source: {f"{h}:{p}": outcome for (h, p), outcome in targets.items()} for source, (_, _, targets) in plan.items()
    }
    assert seen == expected
    refused = sum(outcome == "timeout" for targets in expected.values() for outcome in targets.values())
    # Each refused connection's SYN (and its retry) was dropped by the engine itself, not lost on the way.
    assert after.get("drop", 0) - before.get("drop", 0) >= refused
