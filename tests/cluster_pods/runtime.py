"""The StateFun runtime's pods in the release (standalone mode, ADR 0014), as the runtime tests look at them:
its JobManager and TaskManagers, the job through the JobManager's REST API, its Kubernetes HA ConfigMaps.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fraud_dev.ledger import LedgerReader, LedgerReport
from fraud_dev.pipeline import flink
from fraud_dev.workload import Stream
from tests.cluster_pods.conftest import NAMESPACE, RELEASE, Release

T = TypeVar("T")
# The chart names the runtime <release>-statefun, its Kubernetes HA cluster id too.
CLUSTER_ID = f"{RELEASE}-statefun"
# The fixed job id of a standalone release, computed here as docs/adr/0014 says it is made: the first 32 hex
# digits of the SHA-256 of the cluster id.
JOB_ID = hashlib.sha256(CLUSTER_ID.encode()).hexdigest()[:32]
TASKMANAGERS = f"{CLUSTER_ID}-taskmanager"


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def wait_for(check: Callable[[], T], what: str, timeout: float, interval: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, KeyError, IndexError):  # a JobManager not answering yet, a pod without status yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def runtime_pods(release: Release, component: str) -> list[dict]:
    """The live (not terminating) pods of one Flink component."""
    selector = (
        f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name=statefun-runtime,"
        f"app.kubernetes.io/component={component}"
    )
    pods = release.kubectl.json("get", "pods", "-n", NAMESPACE, "-l", selector)["items"]
    return [pod for pod in pods if not pod["metadata"].get("deletionTimestamp")]


def job(release: Release) -> dict[str, Any]:
    return flink(release.runtime, f"/jobs/{JOB_ID}")


def checkpoints(release: Release) -> dict[str, Any]:
    return flink(release.runtime, f"/jobs/{JOB_ID}/checkpoints")


def latest_completed(release: Release) -> int:
    completed = checkpoints(release)["latest"]["completed"]
    return int(completed["id"]) if completed else 0


def parallelism(release: Release) -> set[int]:
    """The parallelism of the job's running vertices (reactive mode: one per TaskManager slot)."""
    detail = job(release)
    if detail["state"] != "RUNNING" or any(v["status"] != "RUNNING" for v in detail["vertices"]):
        return set()
    return {int(vertex["parallelism"]) for vertex in detail["vertices"]}


def wait_for_new_checkpoints(release: Release, count: int = 2, timeout: float = 120) -> int:
    target = latest_completed(release) + count
    return wait_for(lambda: latest_completed(release) >= target and latest_completed(release), "checkpoints", timeout)


def ha_configmaps(release: Release) -> dict[str, dict]:
    """Flink's Kubernetes HA ConfigMaps of the release's cluster, by name (the labels Flink gives them)."""
    selector = f"app={CLUSTER_ID},configmap-type=high-availability"
    items = release.kubectl.json("get", "configmaps", "-n", NAMESPACE, "-l", selector)["items"]
    return {item["metadata"]["name"]: item for item in items}


def seeded_traffic(
    release: Release, seed: int, count: int, rate: float, during: Callable[[Stream], None] | None = None
) -> LedgerReport:
    """Stream seeded transactions, run `during(stream)` while they flow, and return what the ledger holds of them."""
    reader = LedgerReader(release.kafka)
    stream = Stream.seeded(release.kafka.connection, seed, count, rate).start()
    if during is not None:
        during(stream)
    stream.join()
    return reader.collect(stream.ids, timeout=300)
