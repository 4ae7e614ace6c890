"""The StateFun runtime's ServiceAccount may do what Flink 1.16 does on Kubernetes in this chart's mode,
and nothing more, as the real API server's RBAC decides it.

What Flink 1.16.2 needs (flink-kubernetes 1.16.2, fabric8 kubernetes-client 5.12.3): in standalone mode
the operator creates every pod, and Flink itself only runs Kubernetes HA, all on ConfigMaps of its own
namespace: leader election with fabric8's ConfigMapLock (get, create, replace = update), job metadata
through KubernetesStateHandleStore (get, create, update, delete), a shared informer (list, watch), and
cleanup by labels (fabric8 5.x lists, then deletes one by one). No Leases (ConfigMapLock, not LeaseLock),
no pods, services or deployments (only native mode's resource manager touches those), no patch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from tests.cluster.chart import Release, create_restricted_namespace, delete_namespaces

NAMESPACE, OTHER = "rbac", "rbac-other"
FLINK_HA_VERBS = ("get", "list", "watch", "create", "update", "delete")
DENIED = [  # (verb, resource, namespace): what a compromised JobManager must not be able to do
    ("create", "pods", NAMESPACE),
    ("create", "pods/exec", NAMESPACE),
    ("get", "secrets", NAMESPACE),
    ("list", "secrets", NAMESPACE),
    ("create", "leases.coordination.k8s.io", NAMESPACE),
    ("create", "deployments.apps", NAMESPACE),
    ("patch", "flinkdeployments.flink.apache.org", NAMESPACE),
    ("create", "rolebindings.rbac.authorization.k8s.io", NAMESPACE),
    ("patch", "configmaps", NAMESPACE),
    ("get", "configmaps", OTHER),
    ("create", "configmaps", OTHER),
    ("list", "configmaps", None),
]


@pytest.fixture(scope="module")
def flink(cluster) -> Iterator[str]:
    """A release with the chart's defaults; returns the Flink ServiceAccount's user name."""
    for namespace in (NAMESPACE, OTHER):
        create_restricted_namespace(cluster.kubectl, namespace)
    release = Release(NAMESPACE, cluster.helm, cluster.kubectl)
    install = release.install()
    assert install.returncode == 0, install.stderr
    cluster.kubectl.run("create", "serviceaccount", "baseline", "-n", NAMESPACE)
    yield f"system:serviceaccount:{NAMESPACE}:{release.name}-statefun"
    cluster.helm.run("uninstall", release.name, "-n", NAMESPACE, check=False)
    delete_namespaces(cluster.kubectl, NAMESPACE, OTHER)


def can_i(cluster, user: str, verb: str, resource: str, namespace: str | None) -> bool:
    where = ["-n", namespace] if namespace else ["--all-namespaces"]
    result = cluster.kubectl.run("auth", "can-i", verb, resource, *where, f"--as={user}", check=False)
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def resource_rules(cluster, user: str) -> list[dict]:
    """What RBAC grants `user` in the namespace, as the server's SelfSubjectRulesReview lists it."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": NAMESPACE},
    }
    result = cluster.kubectl.run(
        "create", "-o", "json", "--validate=false", f"--as={user}", "-f", "-", input=yaml.safe_dump(review)
    )
    return [dict(sorted(rule.items())) for rule in yaml.safe_load(result.stdout)["status"]["resourceRules"]]


@pytest.mark.parametrize("verb", FLINK_HA_VERBS)
def test_the_flink_service_account_may_do_what_kubernetes_ha_needs(cluster, flink, verb):
    assert can_i(cluster, flink, verb, "configmaps", NAMESPACE)


@pytest.mark.parametrize("verb,resource,namespace", DENIED, ids=lambda v: str(v))
def test_the_flink_service_account_may_not(cluster, flink, verb, resource, namespace):
    assert not can_i(cluster, flink, verb, resource, namespace)


def test_it_is_granted_nothing_beyond_the_ha_configmaps(cluster, flink):
    """Every rule it has, less those of a ServiceAccount with no binding (discovery, self reviews)."""
    baseline = resource_rules(cluster, f"system:serviceaccount:{NAMESPACE}:baseline")
    extra = [rule for rule in resource_rules(cluster, flink) if rule not in baseline]
    assert [(r["apiGroups"], r["resources"], sorted(r["verbs"])) for r in extra] == [
        ([""], ["configmaps"], sorted(FLINK_HA_VERBS))
    ]


def test_its_real_token_runs_a_leader_lock_in_its_namespace_only(cluster, flink):
    """Not impersonation: requests with a token the server signed for the ServiceAccount, as the JobManager's."""
    name = flink.rsplit(":", 1)[1]
    token = cluster.kubectl.run("create", "token", name, "-n", NAMESPACE).stdout.strip()
    plane = cluster.plane.config
    as_flink = [
        "--kubeconfig=/dev/null",
        f"--server={plane.apiserver_url}",
        f"--certificate-authority={plane.pki / 'ca.crt'}",
        f"--token={token}",
    ]

    def kubectl(*args: str, input: str | None = None):
        return cluster.kubectl.run(*args, *as_flink, input=input, check=False)

    def lock(holder: str) -> str:
        """A leader ConfigMap as fabric8's ConfigMapLock writes it: the record in an annotation."""
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "fraud-statefun-cluster-config-map",
                    "namespace": NAMESPACE,
                    "labels": {"configmap-type": "high-availability"},
                    "annotations": {"control-plane.alpha.kubernetes.io/leader": f'{{"holderIdentity":"{holder}"}}'},
                },
            }
        )

    assert kubectl("create", "-f", "-", input=lock("jm-0")).returncode == 0
    assert kubectl("replace", "-f", "-", input=lock("jm-1")).returncode == 0  # PUT, as fabric8's replace
    assert kubectl(
        "get", "configmaps", "-n", NAMESPACE, "-l", "configmap-type=high-availability", "-o", "name"
    ).stdout.split() == ["configmap/fraud-statefun-cluster-config-map"]
    assert kubectl("delete", "configmap", "fraud-statefun-cluster-config-map", "-n", NAMESPACE).returncode == 0
    for args in (
        ("get", "configmaps", "-n", OTHER),
        ("get", "secrets", "-n", NAMESPACE),
        ("get", "leases.coordination.k8s.io", "-n", NAMESPACE),
    ):
        denied = kubectl(*args)
        assert denied.returncode != 0 and f'User "{flink}" cannot' in denied.stderr, args
