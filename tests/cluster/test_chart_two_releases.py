"""Two releases of the chart side by side in one namespace, as a platform team runs two pipelines: both installed
at once with ci/kind-values.yaml (each with its own Strimzi Kafka, node pool and topics), accepted without a
warning and stored as rendered; every Deployment of both reaches its replicas, and every Service's endpoints are
pods of its own release only. Uninstalling one leaves the other exactly as it was.
Not proved here, as everywhere on this plane: that the two Kafkas or Flink jobs run (no operator reconciles)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.cluster.chart import (
    Release,
    create_restricted_namespace,
    delete_namespaces,
    deployment_problems,
    expected_replicas,
    key,
    namespace_contents,
    service_problems,
    stored_problems,
    wait_for,
)
from tests.deploy.tools import CI_VALUES

(KIND,) = [path for path in CI_VALUES if path.name == "kind-values.yaml"]
NAMESPACE = "two-releases"
NAMES = ("fraud", "payments")


def endpoints_of_other_releases(release: Release) -> list[str]:
    """Every ready endpoint of every Service in the namespace, whose pod belongs to another release than the
    Service's (read from the real EndpointSlice controller's slices and the pods' labels)."""
    instance = "app.kubernetes.io/instance"
    pods = {p["metadata"]["name"]: p["metadata"].get("labels", {}) for p in release.items("pods")}
    problems = []
    for service in release.items("services"):
        name, owner = service["metadata"]["name"], service["metadata"]["labels"].get(instance)
        slices = release.items("endpointslices.discovery.k8s.io", selector=f"kubernetes.io/service-name={name}")
        for endpoint in (e for s in slices for e in s.get("endpoints") or []):
            pod = endpoint.get("targetRef", {}).get("name", "")
            if pods.get(pod, {}).get(instance) != owner:
                problems.append(f"Service {name} ({owner}) sends to pod {pod} ({pods.get(pod, {}).get(instance)})")
    return problems


def test_two_releases_install_side_by_side_and_leave_each_other_alone(cluster):
    create_restricted_namespace(cluster.kubectl, NAMESPACE)
    releases = {name: Release(NAMESPACE, cluster.helm, cluster.kubectl, name=name) for name in NAMES}
    try:
        with ThreadPoolExecutor(len(NAMES)) as pool:
            installs = dict(zip(NAMES, pool.map(lambda r: r.install("-f", str(KIND)), releases.values()), strict=True))
        for name, result in installs.items():
            assert result.returncode == 0, f"{name}: {result.stderr}"
            assert "Warning" not in result.stderr, f"{name}: {result.stderr}"
        manifests = {name: release.manifest() for name, release in releases.items()}
        assert not {key(d) for d in manifests["fraud"]} & {key(d) for d in manifests["payments"]}
        for name, release in releases.items():
            assert stored_problems(release, manifests[name]) == [], name

        anyone = releases["fraud"]  # items() lists the whole namespace
        expected = {**expected_replicas(manifests["fraud"]), **expected_replicas(manifests["payments"])}
        assert wait_for(lambda: deployment_problems(anyone, expected), timeout=90) == []
        assert wait_for(lambda: service_problems(anyone), timeout=30) == []
        assert endpoints_of_other_releases(anyone) == []

        uninstall = cluster.helm.run("uninstall", "payments", "-n", NAMESPACE)
        assert "[PersistentVolumeClaim] payments-statefun-data" in uninstall.stdout
        kept = {("PersistentVolumeClaim", "payments-statefun-data")}

        def payments_left() -> list[str]:
            """Its objects, what they made (ReplicaSets, pods, EndpointSlices) and its release secrets."""
            contents = namespace_contents(cluster.kubectl, NAMESPACE) - kept
            return sorted(str(i) for i in contents if i[1].startswith(("payments", "sh.helm.release.v1.payments.")))

        assert wait_for(payments_left, timeout=60) == []
        assert stored_problems(releases["fraud"], manifests["fraud"]) == []
        assert wait_for(lambda: deployment_problems(anyone, expected_replicas(manifests["fraud"])), timeout=60) == []
    finally:
        for name in NAMES:
            cluster.helm.run("uninstall", name, "-n", NAMESPACE, check=False)
        delete_namespaces(cluster.kubectl, NAMESPACE)
