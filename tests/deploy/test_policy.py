"""The hardening policy (dev/policy/*.rego, conftest): every render and overlay passes; each rule fires on a break."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import CI_VALUES, KUSTOMIZE, ROOT, Result, run, tool

DEFAULT = next(path for path in CI_VALUES if path.name == "default-values.yaml")
# The runtime in standalone mode (docs/adr/0014); not a ci/ file: every ci/ render is an operator install.
STANDALONE = Path(__file__).with_name("standalone-values.yaml")


def conftest(manifests: str) -> Result:
    return run(
        [tool("conftest"), "test", "--combine", "--no-color", "--policy", str(ROOT / "dev" / "policy"), "-"],
        stdin=manifests,
    )


def test_every_ci_render_passes(renders, ci_values):
    result = conftest(yaml.safe_dump_all(renders(ci_values)))
    assert result.returncode == 0, result.output


@pytest.mark.parametrize("overlay", sorted((KUSTOMIZE / "overlays").iterdir()), ids=lambda p: p.name)
def test_every_overlay_passes(overlay):
    built = run([tool("kustomize"), "build", str(overlay)])
    assert built.returncode == 0, built.output
    result = conftest(built.stdout)
    assert result.returncode == 0, result.output


def deployment(docs, name):
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def flink(docs):
    return next(d for d in docs if d["kind"] == "FlinkDeployment")


def functions_container(docs):
    return deployment(docs, "fraud-functions")["spec"]["template"]["spec"]["containers"][0]


def jm_container(docs):
    return flink(docs)["spec"]["jobManager"]["podTemplate"]["spec"]["containers"][0]


BREAKS = {
    "root": (
        lambda d: functions_container(d)["securityContext"].update(runAsNonRoot=False, runAsUser=0),
        ["container functions: runAsNonRoot must be true", "container functions: runs as UID 0"],
    ),
    "writable root": (
        lambda d: jm_container(d)["securityContext"].update(readOnlyRootFilesystem=False),
        ["jobManager container flink-main-container: readOnlyRootFilesystem must be true"],
    ),
    "escalation": (
        lambda d: functions_container(d)["securityContext"].pop("allowPrivilegeEscalation"),
        ["container functions: allowPrivilegeEscalation must be false"],
    ),
    "capabilities": (
        lambda d: functions_container(d)["securityContext"]["capabilities"].update(drop=[], add=["NET_ADMIN"]),
        ["capabilities must drop ALL", "container functions: adds capabilities"],
    ),
    "privileged": (
        lambda d: functions_container(d)["securityContext"].update(privileged=True),
        ["container functions: privileged"],
    ),
    "seccomp": (
        lambda d: (
            deployment(d, "fraud-functions")["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile"),
            functions_container(d)["securityContext"].pop("seccompProfile"),
        ),
        ["container functions: seccompProfile must be RuntimeDefault"],
    ),
    "host network": (
        lambda d: deployment(d, "fraud-merchant-service")["spec"]["template"]["spec"].update(hostNetwork=True),
        ["Deployment/fraud-merchant-service: hostNetwork"],
    ),
    "host path": (
        lambda d: deployment(d, "fraud-functions")["spec"]["template"]["spec"]["volumes"].append(
            {"name": "host", "hostPath": {"path": "/"}}
        ),
        ["volume host: type hostPath is not allowed"],
    ),
    "no limits": (
        lambda d: functions_container(d)["resources"].pop("limits"),
        ["container functions: no limits.cpu", "container functions: no limits.memory"],
    ),
    "no flink resources": (
        lambda d: flink(d)["spec"]["taskManager"]["resource"].pop("memory"),
        ["FlinkDeployment/fraud-statefun: no taskManager.resource.memory"],
    ),
    "no probe": (
        lambda d: jm_container(d).pop("readinessProbe"),
        ["jobManager container flink-main-container: no readinessProbe"],
    ),
    "latest": (lambda d: functions_container(d).update(image="fraud-platform/functions:latest"), ["image tag latest"]),
    "no pdb": (
        lambda d: d.remove(
            next(x for x in d if x["kind"] == "PodDisruptionBudget" and x["metadata"]["name"] == "fraud-functions")
        ),
        ["Deployment/fraud-functions: no PodDisruptionBudget selects its pods"],
    ),
    "no spread": (
        lambda d: deployment(d, "fraud-functions")["spec"]["template"]["spec"].pop("topologySpreadConstraints"),
        ["Deployment/fraud-functions: more than one replica but no topologySpreadConstraints"],
    ),
    "read-write-once apart": (
        lambda d: [flink(d)["spec"][c]["podTemplate"]["spec"].pop("affinity") for c in ("jobManager", "taskManager")],
        [
            "FlinkDeployment/fraud-statefun taskManager: mounts the ReadWriteOnce claim fraud-statefun-data but is not"
            " held on one node with the other Flink pods",
            "FlinkDeployment/fraud-statefun: TaskManagers scale but have no topologySpreadConstraints",
        ],
    ),
    "token": (
        lambda d: deployment(d, "fraud-functions")["spec"]["template"]["spec"].pop("automountServiceAccountToken"),
        ["Deployment/fraud-functions: mounts a service account token"],
    ),
}


# The standalone runtime's Deployments (docs/adr/0014): the same rules as the FlinkDeployment's pods.
STANDALONE_BREAKS = {
    "read-write-once apart": (
        lambda d: deployment(d, "fraud-statefun-taskmanager")["spec"]["template"]["spec"].pop("affinity"),
        [
            "Deployment/fraud-statefun-taskmanager: mounts the ReadWriteOnce claim fraud-statefun-data but is not held"
            " on one node with the other Flink pods",
            "Deployment/fraud-statefun-taskmanager: more than one replica but no topologySpreadConstraints",
        ],
    ),
    "token": (
        lambda d: (
            deployment(d, "fraud-statefun-jobmanager")["metadata"]["labels"].update(
                {"app.kubernetes.io/name": "not-flink"}
            )
            or deployment(d, "fraud-statefun-jobmanager")["spec"]["template"]["metadata"]["labels"].update(
                {"app.kubernetes.io/name": "not-flink"}
            )
        ),
        ["Deployment/fraud-statefun-jobmanager: mounts a service account token"],
    ),
    "no limits": (
        lambda d: deployment(d, "fraud-statefun-taskmanager")["spec"]["template"]["spec"]["containers"][0].pop(
            "resources"
        ),
        ["Deployment/fraud-statefun-taskmanager container flink-main-container: no limits.cpu"],
    ),
}


def test_the_standalone_render_passes(renders):
    result = conftest(yaml.safe_dump_all(renders(STANDALONE)))
    assert result.returncode == 0, result.output


@pytest.mark.parametrize(
    ("values_file", "breaks", "name"),
    [(DEFAULT, BREAKS, name) for name in BREAKS]
    + [(STANDALONE, STANDALONE_BREAKS, name) for name in STANDALONE_BREAKS],
    ids=lambda x: x.name if isinstance(x, Path) else x if isinstance(x, str) else "",
)
def test_each_rule_fires_on_its_break(renders, values_file, breaks, name):
    docs = copy.deepcopy(renders(values_file))
    breaking, messages = breaks[name]
    breaking(docs)
    result = conftest(yaml.safe_dump_all(docs))
    assert result.returncode != 0
    for message in messages:
        assert message in result.stdout, result.stdout
