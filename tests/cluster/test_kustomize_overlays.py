"""Every kustomize overlay applied server-side to the real API server, as `kubectl apply --server-side`
would from kustomize/overlays/<name>: a server-side dry run first (admission and validation of every
object, nothing stored), then for real (stored as built; Deployments reach their replicas on the kwok
node, Services find their pods), then deleted until the namespace is empty again."""

from __future__ import annotations

import pytest

from tests.cluster.chart import (
    Release,
    deployment_problems,
    expected_replicas,
    key,
    namespace_contents,
    service_problems,
    stored_problems,
    wait_for,
)
from tests.deploy.tools import KUSTOMIZE, documents, run, tool

OVERLAYS = sorted(path for path in (KUSTOMIZE / "overlays").iterdir() if (path / "kustomization.yaml").exists())


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.name)
def test_the_overlay_applies_server_side_and_deletes(cluster, deploy_tools, fraud_namespace, overlay):
    built = run([tool("kustomize"), "build", str(overlay)])
    assert built.returncode == 0, built.output
    docs = documents(built.stdout)
    # Without a namespace an object lands in whatever namespace the user's kubeconfig points at.
    assert [key(d) for d in docs if d["metadata"].get("namespace") != fraud_namespace] == []
    assert namespace_contents(cluster.kubectl, fraud_namespace) == set()

    dry_run = cluster.kubectl.run(
        "apply", "--server-side", "--dry-run=server", "-f", "-", input=built.stdout, check=False
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert namespace_contents(cluster.kubectl, fraud_namespace) == set()

    applied = cluster.kubectl.run("apply", "--server-side", "-f", "-", input=built.stdout, check=False)
    assert applied.returncode == 0, applied.stderr
    assert "Warning" not in applied.stderr
    release = Release(fraud_namespace, cluster.helm, cluster.kubectl)
    assert stored_problems(release, docs) == []
    expected = expected_replicas(docs)
    assert wait_for(lambda: deployment_problems(release, expected), timeout=90) == []
    assert wait_for(lambda: service_problems(release), timeout=30) == []

    cluster.kubectl.run("delete", "-f", "-", "--wait=true", "--timeout=60s", input=built.stdout, timeout=90)
    assert wait_for(lambda: sorted(map(str, namespace_contents(cluster.kubectl, fraud_namespace))), timeout=60) == []
