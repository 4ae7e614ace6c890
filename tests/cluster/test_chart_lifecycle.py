"""One release through its life on the real server: install, `helm upgrade` of the module spec alone, the
TaskManager count moved through the FlinkDeployment's scale subresource as the HPA moves it, then `helm upgrade`
of image tags, replicas, resources, the model's threshold and the module spec, `helm rollback` to the first
revision, `helm uninstall`. After each step the server holds exactly what that revision renders and the
Deployments have rolled to it on the kwok node; the upgrade keeps the autoscaler's TaskManager count (helm's
`lookup` of the live FlinkDeployment); after the uninstall nothing of the release is left but the checkpoint PVC
the chart keeps by design (`helm.sh/resource-policy: keep`)."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.chart import (
    Release,
    create_restricted_namespace,
    delete_namespaces,
    deployment_problems,
    expected_replicas,
    namespace_contents,
    stored_problems,
    wait_for,
)
from tests.deploy.tools import CHART, CI_VALUES

INPUTS = Path(__file__).parent / "inputs"
(DEFAULT,) = [path for path in CI_VALUES if path.name == "default-values.yaml"]
MODULE_SPEC = INPUTS / "module-spec-values.yaml"
UPGRADE = INPUTS / "upgrade-values.yaml"
NAMESPACE = "lifecycle"


def settle(release: Release) -> list[str]:
    """Problems left once the release's Deployments had time to roll: the pods run the deployed revision's
    images and replicas, and the server holds every object exactly as that revision renders it."""
    manifest = release.manifest()
    expected = expected_replicas(manifest)
    problems = wait_for(lambda: deployment_problems(release, expected), timeout=90)
    return problems + stored_problems(release, manifest)


def flink_generation(release: Release) -> int:
    return release.kubectl.json("get", "flinkdeployment", f"{release.name}-statefun", "-n", release.namespace)[
        "metadata"
    ]["generation"]


def test_install_upgrade_rollback_uninstall(cluster):
    release = Release(NAMESPACE, cluster.helm, cluster.kubectl)
    create_restricted_namespace(cluster.kubectl, release.namespace)
    try:
        install = release.install("-f", str(DEFAULT))
        assert install.returncode == 0, install.stderr
        assert settle(release) == [], "revision 1 (install)"
        module_config = release.kubectl.json(
            "get", "configmap", f"{release.name}-statefun-module", "-n", release.namespace
        )["data"]["module.yaml"]

        upgrade = ("upgrade", release.name, str(CHART), "-n", release.namespace, "-f", str(DEFAULT))
        cluster.helm.run(*upgrade, "-f", str(MODULE_SPEC))
        assert settle(release) == [], "revision 2 (module spec)"
        changed = release.kubectl.json("get", "configmap", f"{release.name}-statefun-module", "-n", release.namespace)[
            "data"
        ]["module.yaml"]
        assert changed != module_config and "call: 2min" in changed
        # The job reads the module spec when it starts: the FlinkDeployment's spec must change with it,
        # or the operator never restarts the job and the new spec waits for the next unrelated change.
        assert flink_generation(release) == 2

        # What the HPA does (it cannot here: no metrics, and only the operator writes the scale selector): write
        # spec.taskManager.replicas through the scale subresource. The next upgrade must keep it, though its values
        # ask for 2: with an autoscaler on, statefun.taskManager.replicas is only a first install's count.
        release.kubectl.run(
            "scale", "flinkdeployment", f"{release.name}-statefun", "-n", release.namespace, "--replicas=3"
        )
        cluster.helm.run(*upgrade, "-f", str(UPGRADE))
        assert settle(release) == [], "revision 3 (tags, replicas, resources, threshold)"
        deployments = {d["metadata"]["name"]: d for d in release.items("deployments")}
        assert deployments[f"{release.name}-merchant-service"]["status"]["readyReplicas"] == 3
        (functions,) = deployments[f"{release.name}-functions"]["spec"]["template"]["spec"]["containers"]
        assert functions["image"] == "fraud-platform/functions:0.2.0"
        assert functions["resources"]["requests"] == {"cpu": "300m", "memory": "256Mi"}
        assert {"name": "ALERT_THRESHOLD", "value": "0.9"} in functions["env"]
        flink = release.kubectl.json("get", "flinkdeployment", f"{release.name}-statefun", "-n", release.namespace)
        assert flink["spec"]["image"] == "fraud-platform/statefun-runtime:0.2.0"
        assert flink["spec"]["taskManager"]["replicas"] == 3
        assert flink["spec"]["taskManager"]["resource"]["memory"] == "2048m"

        cluster.helm.run("rollback", release.name, "1", "-n", release.namespace)
        assert settle(release) == [], "revision 4 (rollback to 1)"
        assert (
            release.kubectl.json("get", "configmap", f"{release.name}-statefun-module", "-n", release.namespace)[
                "data"
            ]["module.yaml"]
            == module_config
        )
        history = cluster.helm.json("history", release.name, "-n", release.namespace)
        assert [(h["revision"], h["status"]) for h in history] == [
            (1, "superseded"),
            (2, "superseded"),
            (3, "superseded"),
            (4, "deployed"),
        ]

        uninstall = cluster.helm.run("uninstall", release.name, "-n", release.namespace)
        assert "[PersistentVolumeClaim] fraud-statefun-data" in uninstall.stdout  # helm says what it kept
        kept = {("PersistentVolumeClaim", f"{release.name}-statefun-data")}

        def left() -> list[str]:
            return sorted(map(str, namespace_contents(cluster.kubectl, release.namespace) - kept))

        assert wait_for(left, timeout=60) == []  # ReplicaSets, pods, EndpointSlices collected; release secrets gone
        assert namespace_contents(cluster.kubectl, release.namespace) == kept
    finally:
        delete_namespaces(cluster.kubectl, release.namespace)
