"""The StateFun runtime in real pods (ADR 0014): the chart's standalone mode on the real node, a JobManager and
TaskManager Deployment from the Dockerfile's statefun-runtime image, Kubernetes HA on the API server, checkpoints on
a PersistentVolume. Each scenario runs seeded traffic through the runtime pods and holds decisions, alerts and
dead letters to the ledger (read_committed). They run after tests/cluster_pods/test_pods.py, on the same cluster
and release, in this order.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from fraud_common.contract import Transaction
from fraud_dev.pipeline import flink, merchant_with_risk, new_id, transaction_record
from fraud_dev.readiness import flink_job_running_at
from fraud_dev.workload import Stream
from fraud_functions.settings import DEFAULT_MODEL_PATH
from fraud_simulator.transactions import scenario_transactions
from tests.cluster_pods.conftest import CHART, INSTALL_TIMEOUT, NAMESPACE, RELEASE, Release, install_args
from tests.cluster_pods.runtime import (
    CLUSTER_ID,
    JOB_ID,
    TASKMANAGERS,
    checkpoints,
    ha_configmaps,
    job,
    latest_completed,
    parallelism,
    ready,
    runtime_pods,
    seeded_traffic,
    wait_for,
    wait_for_new_checkpoints,
)

RUNTIME_IMAGE = "docker.io/fraud-platform/statefun-runtime:node-1"
MOUNT = "/flink-data"  # statefun.storage.mountPath
# Flink's Kubernetes HA names a job's checkpoints in its ConfigMap checkpointID-<id, 19 digits>.
CHECKPOINT_KEY = "checkpointID-"


def exec_in(release: Release, pod: dict, script: str) -> str:
    name = pod["metadata"]["name"]
    return release.kubectl.run("exec", "-n", NAMESPACE, name, "--", "/bin/sh", "-c", script, check=False).stdout


def pod_metrics(pod: dict) -> list:
    """The samples of the Flink Prometheus reporter of one pod, scraped at its pod address."""
    with urllib.request.urlopen(f"http://{pod['status']['podIP']}:9249/metrics", timeout=5) as response:
        text = response.read().decode()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def ha_checkpoint_ids(release: Release) -> list[int]:
    """The checkpoint ids the job's HA ConfigMap points to (what a new leader restores from)."""
    data = ha_configmaps(release)[f"{CLUSTER_ID}-{JOB_ID}-config-map"].get("data") or {}
    return sorted(int(key[len(CHECKPOINT_KEY) :]) for key in data if key.startswith(CHECKPOINT_KEY))


def decision_of(release: Release, transaction: Transaction, timeout: float = 90) -> dict:
    since = release.kafka.end_offsets("decisions")
    release.kafka.produce("transactions", [transaction_record(transaction)])
    found = release.kafka.read(
        "decisions",
        since,
        lambda records: any(r["value"]["transaction_id"] == transaction.transaction_id for r in records),
        timeout=timeout,
    )
    decisions = [r["value"] for r in found if r["value"]["transaction_id"] == transaction.transaction_id]
    assert len(decisions) == 1, f"{transaction.transaction_id}: {decisions}"
    return decisions[0]


# ---------------------------------------------------------------------------------------------------------
def test_the_runtime_pods_run_non_root_on_a_read_only_root_with_checkpoints_on_the_volume_and_ha_on_the_api_server(
    release,
):
    for component in ("jobmanager", "taskmanager"):
        (pod,) = runtime_pods(release, component)
        status = pod["status"]["containerStatuses"][0]
        assert ready(pod) and status["restartCount"] == 0, (component, status)
        assert status["image"] == RUNTIME_IMAGE
        # runc enforces the chart's securityContext: the flink user, no root filesystem writes, no capabilities.
        seen = exec_in(release, pod, "id -u; id -g; touch /opt/flink/lib/probe 2>&1; grep CapEff /proc/self/status")
        assert seen.split("\n") == [
            "9999",
            "9999",
            "touch: cannot touch '/opt/flink/lib/probe': Read-only file system",
            "CapEff:\t0000000000000000",
            "",
        ], component
    assert flink_job_running_at(release.runtime.flink_rest_url)
    (running,) = [job for job in _overview(release) if job["state"] == "RUNNING"]
    assert running["jid"] == JOB_ID

    latest = wait_for_new_checkpoints(release, 2)
    completed = checkpoints(release)["latest"]["completed"]
    assert completed["external_path"] == f"file:{MOUNT}/checkpoints/{JOB_ID}/chk-{completed['id']}"
    assert completed["id"] >= latest
    # On the node, in the folder the PersistentVolume is: the checkpoint and the HA store's job graph.
    on_node = release.checkpoint_folder
    assert (on_node / "checkpoints" / JOB_ID / f"chk-{completed['id']}" / "_metadata").is_file()
    assert any((on_node / "ha").rglob("*")), "nothing in the HA storage directory"

    # Kubernetes HA on the real API server: the leader's ConfigMap and the job's, pointing at retained checkpoints.
    configmaps = ha_configmaps(release)
    assert {f"{CLUSTER_ID}-cluster-config-map", f"{CLUSTER_ID}-{JOB_ID}-config-map"} <= set(configmaps)
    leader = json.loads(
        configmaps[f"{CLUSTER_ID}-cluster-config-map"]["metadata"]["annotations"][
            "control-plane.alpha.kubernetes.io/leader"
        ]
    )
    assert leader["holderIdentity"]
    assert ha_checkpoint_ids(release), "the job's HA ConfigMap names no checkpoint"


def test_the_runtime_pods_are_scraped_for_flink_metrics(release):
    (jobmanager,) = runtime_pods(release, "jobmanager")
    taskmanagers = runtime_pods(release, "taskmanager")
    registered = [s for s in pod_metrics(jobmanager) if s.name == "flink_jobmanager_numRegisteredTaskManagers"]
    assert [s.value for s in registered] == [float(len(taskmanagers))]
    for pod in taskmanagers:
        records_in = [s for s in pod_metrics(pod) if s.name == "flink_taskmanager_job_task_numRecordsIn"]
        assert records_in and {s.labels["job_id"] for s in records_in} == {JOB_ID}
        assert sum(s.value for s in records_in) > 0


def test_a_deleted_jobmanager_under_traffic_recovers_the_job_from_ha_and_its_latest_checkpoint(release):
    (old,) = runtime_pods(release, "jobmanager")
    seen: dict = {"states": []}

    def delete(stream: Stream) -> None:
        time.sleep(10)
        seen["before"] = latest_completed(release)
        # Graceful, as an eviction: the leader stops and leaves the job's HA data for its successor.
        release.kubectl.run("delete", "pod", "-n", NAMESPACE, old["metadata"]["name"], timeout=180)
        seen["ha"] = ha_checkpoint_ids(release)
        new = wait_for(
            lambda: [p for p in runtime_pods(release, "jobmanager") if p["status"].get("podIP")],
            "a new JobManager pod with an address",
            120,
        )[0]
        assert new["metadata"]["uid"] != old["metadata"]["uid"]
        # Until the new JobManager has the job, it answers REST but is not Ready.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            pod = release.kubectl.json("get", "pod", "-n", NAMESPACE, new["metadata"]["name"])
            seen["states"].append((ready(pod), _rest_status(pod, "/config"), _job_state(pod)))
            if ready(pod):
                break
            time.sleep(0.5)

    report = seeded_traffic(release, 20261211, count=1500, rate=20, during=delete)
    report.assert_exact()
    assert seen["ha"] and seen["ha"][-1] >= seen["before"]
    restored = checkpoints(release)["latest"]["restored"]
    assert restored is not None and not restored["is_savepoint"]
    assert restored["id"] == seen["ha"][-1], (restored, seen["ha"])
    assert flink_job_running_at(release.runtime.flink_rest_url)
    states = seen["states"]
    assert states[-1][0], "the new JobManager never became Ready"
    # Meaningful readiness: up (its REST API answering) but without the job RUNNING, it was not Ready.
    assert any(not is_ready and rest == 200 and state != "RUNNING" for is_ready, rest, state in states), states


def test_taskmanagers_scaled_1_2_1_under_traffic_rescale_the_job_each_time(release):
    """Through the Deployment's scale subresource, as an HPA would move it. The HPA itself is not driven here: on
    two cores the TaskManagers' CPU cannot be pushed past a target and back in a test's time without starving the
    rest of the node (the functions' HPA test drives a real HPA on metrics-server)."""
    assert parallelism(release) == {1}
    seen: list[tuple[int, set[int]]] = []

    def scale(stream: Stream) -> None:
        time.sleep(8)
        for replicas in (2, 1):
            release.kubectl.run("scale", "-n", NAMESPACE, f"deployment/{TASKMANAGERS}", f"--replicas={replicas}")
            wait_for(lambda: parallelism(release) == {replicas}, f"the job at parallelism {replicas}", 300, 2)  # noqa: B023
            seen.append((replicas, parallelism(release)))
            time.sleep(5)

    report = seeded_traffic(release, 20261212, count=1500, rate=20, during=scale)
    report.assert_exact()
    assert seen == [(2, {2}), (1, {1})]
    assert len(runtime_pods(release, "taskmanager")) == 1


def test_a_model_rollout_by_helm_upgrade_under_traffic_switches_the_version_without_restarting_the_job(
    release, tmp_path
):
    """`helm upgrade --set-file functions.model.champion=...` (docs/model.md) with the shipped model under a new version
    string: the functions roll to pods that mount the model ConfigMap while the runtime keeps running. Decisions name
    the old version, then the new one from some point on; every transaction decided once; the job neither restarted
    nor restored (its state, and so every account's counts, untouched)."""
    shipped = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    rolled_out = {**shipped, "version": f"{shipped['version']}-rollout"}
    champion = tmp_path / "champion.json"
    champion.write_text(json.dumps(rolled_out), encoding="utf-8")
    before = job(release)
    restored_before = checkpoints(release)["latest"]["restored"]

    def upgrade(stream: Stream) -> None:
        time.sleep(10)
        release.helm.run(
            "upgrade", RELEASE, str(CHART), "-n", NAMESPACE, "--reuse-values",
            "--set-file", f"functions.model.champion={champion}", "--wait", "--timeout=300s", timeout=330,
        )  # fmt: skip

    seed, count = 20261213, 1200
    report = seeded_traffic(release, seed, count=count, rate=20, during=upgrade)
    report.assert_exact()
    # In the order produced (the stream is the seed's; scenario_transactions is deterministic).
    versions = [report.decisions[t.transaction_id][0]["model_version"] for t in scenario_transactions(seed, count)]
    assert set(versions) == {shipped["version"], rolled_out["version"]}, set(versions)
    switched = max(i for i, version in enumerate(versions) if version == shipped["version"]) + 1
    # Before the upgrade (10 s at 20/s) only the old version; from `switched` on only the new one, for a good part
    # of the stream (the rollout takes well under the stream's 60 s).
    assert set(versions[:150]) == {shipped["version"]}
    assert count - switched >= 300, f"the new version decided only the last {count - switched} transactions"
    after = job(release)
    assert (after["jid"], after["start-time"]) == (before["jid"], before["start-time"])
    assert checkpoints(release)["latest"]["restored"] == restored_before
    assert flink_job_running_at(release.runtime.flink_rest_url)


def test_a_reinstall_with_the_kept_volume_keeps_an_accounts_fraud_count(release):
    account = new_id("acct-")
    merchant = merchant_with_risk(40, 50)  # alone, never enough for an alert at 1000 USD

    def transaction() -> Transaction:
        return Transaction(new_id("tx"), account, merchant, 1000, "2026-12-02T12:00:00")

    release.kafka.produce("confirmed", [(account.encode(), json.dumps({"account": account}).encode())] * 3)
    # The confirmations and transactions are different topics: ask until a decision has counted all three.
    wait_for(lambda: "fraud_count=3" in decision_of(release, transaction())["reasons"], "three frauds counted", 120, 2)
    wait_for_new_checkpoints(release, 2)

    release.helm.run("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout=300s", timeout=330)
    wait_for(lambda: not runtime_pods(release, "jobmanager") and not runtime_pods(release, "taskmanager"), "gone", 120)
    claim = release.kubectl.json("get", "pvc", "-n", NAMESPACE, f"{CLUSTER_ID}-data")
    assert claim["status"]["phase"] == "Bound"  # helm.sh/resource-policy: keep
    installed = release.helm.run(*install_args(release.cluster), timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0
    decision = decision_of(release, transaction(), timeout=180)
    assert "fraud_count=3" in decision["reasons"] and decision["outcome"] == "alert", decision


def _overview(release: Release) -> list[dict]:
    return flink(release.runtime, "/jobs/overview")["jobs"]


def _job_state(pod: dict) -> str | None:
    """The job's state as one JobManager pod's REST API tells it (None: no answer, or no such job yet)."""
    try:
        with urllib.request.urlopen(f"http://{pod['status']['podIP']}:8081/jobs/{JOB_ID}", timeout=2) as response:
            return json.loads(response.read())["state"]
    except (OSError, KeyError, ValueError):
        return None


def _rest_status(pod: dict, path: str) -> int | None:
    address = pod["status"].get("podIP")
    if not address:
        return None
    try:
        with urllib.request.urlopen(f"http://{address}:8081{path}", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None
