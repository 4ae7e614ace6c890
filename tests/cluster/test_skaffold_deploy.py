"""`skaffold deploy` of skaffold.yaml's default profile against the local control plane, without network.

skaffold runs inside a network namespace of its own (`unshare -n`, see loopback_jail.py) whose only way
out is the API server: a packet to anything else cannot leave (`network is unreachable`), which the first
test shows. HOME is a scratch folder with metrics and update checks off, as in `make verify-deploy`.

What is deployed: the `app` module, with prebuilt image tags (`--images`, nothing is built: there is no
Docker here). Its `requires` (the `kafka` module, which requires `operators`) are left out: the operators
come from their upstream chart repositories, which cannot be fetched here, and the `kafka` module waits
for a Strimzi-reconciled Kafka to be Ready, which nothing reconciles here. The app module deploys as it
does after them: release `fraud` in namespace `fraud` with `kafka.create: false`.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tests.cluster.chart import (
    Release,
    deployment_problems,
    drift,
    expected_replicas,
    key,
    namespace_contents,
    wait_for,
)
from tests.cluster.loopback_jail import ApiServerBridge, jailed
from tests.deploy.skaffold_config import GLOBAL_CONFIG, artifact_images, configs
from tests.deploy.tools import ROOT, TOOLS_BIN

TAG = "0.1.0-prebuilt"


def app_module(directory: Path) -> Path:
    """skaffold.yaml's `app` module alone (without its `requires`), its chart path made absolute."""
    (app,) = [config for config in configs() if config["metadata"]["name"] == "app"]
    del app["requires"]
    for release in app["manifests"]["helm"]["releases"]:
        release["chartPath"] = str(ROOT / release["chartPath"])
    path = directory / "skaffold.yaml"
    path.write_text(yaml.safe_dump(app, sort_keys=False), encoding="utf-8")
    return path


def skaffold_env(cluster, home: Path) -> dict[str, str]:
    (home / ".skaffold").mkdir(parents=True)
    (home / ".skaffold" / "config").write_text(GLOBAL_CONFIG, encoding="utf-8")
    return {
        **os.environ,
        **cluster.kubectl.env,
        **cluster.helm.env,
        "HOME": str(home),
        "SKAFFOLD_UPDATE_CHECK": "false",
        "SKAFFOLD_COLLECT_METRICS": "false",
        "PATH": f"{TOOLS_BIN}:/usr/bin:/bin",
    }


def test_the_jail_reaches_the_api_server_and_nothing_else(cluster, tmp_path):
    port = cluster.plane.config.ports.apiserver
    with ApiServerBridge(port, tmp_path / "apiserver.sock") as bridge:
        kubectl = jailed(
            [cluster.kubectl.binary, "get", "nodes", "-o", "name"],
            port,
            bridge.path,
            env={**os.environ, **cluster.kubectl.env},
            capture_output=True,
            text=True,
        )
        assert (kubectl.returncode, kubectl.stdout.split()) == (0, ["node/kwok-node-0"]), kubectl.stderr
        # Any other address: a public one, a private one, this host's name. None can be reached.
        probe = (
            "import socket, sys\n"
            "for host in sys.argv[1:]:\n"
            "    try: socket.create_connection((host, 443), timeout=5); print('reached', host)\n"
            "    except OSError as error: print(host, error.errno)\n"
        )
        others = jailed(
            ["python3", "-c", probe, "1.1.1.1", "10.0.0.1", os.uname().nodename],
            port,
            bridge.path,
            capture_output=True,
            text=True,
        )
    assert others.returncode == 0, others.stderr
    assert "reached" not in others.stdout
    assert others.stdout.split("\n")[:2] == ["1.1.1.1 101", "10.0.0.1 101"]  # ENETUNREACH


def test_skaffold_deploys_the_app_module_offline_and_deletes_it(cluster, deploy_tools, fraud_namespace, tmp_path):
    config = app_module(tmp_path)
    env = skaffold_env(cluster, tmp_path / "home")
    images = [arg for image in sorted(artifact_images()) for arg in ("--images", f"{image}={image}:{TAG}")]
    port = cluster.plane.config.ports.apiserver
    assert namespace_contents(cluster.kubectl, fraud_namespace) == set()
    with ApiServerBridge(port, tmp_path / "apiserver.sock") as bridge:
        deploy = jailed(
            [str(TOOLS_BIN / "skaffold"), "deploy", "-f", str(config), *images, "--status-check=true"],
            port,
            bridge.path,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "Deployments stabilized" in deploy.stdout

        release = Release(fraud_namespace, cluster.helm, cluster.kubectl)
        manifest = release.manifest()
        stored = release.stored(manifest)
        assert [f"{key(doc)} {p}" for doc in manifest for p in drift(doc, stored[key(doc)])] == []
        images_run = {
            c["image"]
            for d in manifest
            if d["kind"] == "Deployment"
            for c in d["spec"]["template"]["spec"]["containers"]
        }
        images_run |= {d["spec"]["image"] for d in manifest if d["kind"] == "FlinkDeployment"}
        assert images_run == {f"{image}:{TAG}" for image in artifact_images()}  # every artifact, prebuilt
        assert wait_for(lambda: deployment_problems(release, expected_replicas(manifest)), timeout=90) == []

        delete = jailed(
            [str(TOOLS_BIN / "skaffold"), "delete", "-f", str(config)],
            port,
            bridge.path,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert delete.returncode == 0, delete.stdout + delete.stderr
    kept = {("PersistentVolumeClaim", "fraud-statefun-data")}  # helm.sh/resource-policy: keep, as helm uninstall
    assert (
        wait_for(lambda: sorted(map(str, namespace_contents(cluster.kubectl, fraud_namespace) - kept)), timeout=60)
        == []
    )
    cluster.kubectl.run("delete", "pvc", "fraud-statefun-data", "-n", fraud_namespace)
