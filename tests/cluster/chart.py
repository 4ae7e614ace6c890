"""The chart on the local control plane: releases in restricted namespaces, and what the server made of them.

Each check returns a list of problems (empty when it holds), so a test can assert `== []` on a good
release and on a broken one that the expected problem is reported: the check itself is shown to fail.
"""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from fraud_dev.cluster.client import Tool
from tests.deploy.tools import CHART, documents
from tests.deploy.wiring import pod_templates

Doc = dict[str, Any]
Problems = list[str]
RELEASE = "fraud"
# Labelled as a hardened cluster labels its application namespaces: Pod Security `restricted` is enforced
# (pods that break it are refused) and warned about (helm prints what a workload's pods would break).
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
# What every namespace holds before anything is installed, and what no release owns.
NAMESPACE_DEFAULTS = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
PSA_REFUSAL = 'violates PodSecurity "restricted:latest"'


def wait_for(check: Callable[[], Problems], timeout: float, interval: float = 1.0) -> Problems:
    """Poll `check` until it reports no problem or `timeout` passes; returns the last problems."""
    deadline = time.monotonic() + timeout
    while (problems := check()) and time.monotonic() < deadline:
        time.sleep(interval)
    return problems


def create_restricted_namespace(kubectl: Tool, name: str) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": RESTRICTED}}
    kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(namespace))


def delete_namespaces(kubectl: Tool, *names: str) -> None:
    """Without waiting for the namespace controller (about 10 s each): callers delete the releases and custom
    resources in them first, so later tests that list those cluster-wide find none."""
    kubectl.run("delete", "namespace", "--ignore-not-found", "--wait=false", *names)


def prerequisite_secrets(values: Mapping[str, Any], namespace: str) -> list[Doc]:
    """Secrets a values file names but the chart leaves to the user (docs/kubernetes.md), with dummy contents."""
    secrets = []
    admin = values["merchantService"]["admin"]
    if admin["enabled"]:
        secrets.append((admin["tokenSecret"]["name"], {admin["tokenSecret"]["key"]: "local-control-plane-token"}))
    storage = values["statefun"]["storage"]
    if storage["type"] == "s3":
        keys = storage["s3"]["credentialsSecret"]
        secrets.append((keys["name"], {keys["accessKeyIdKey"]: "local", keys["secretAccessKeyKey"]: "local-secret"}))
    kafka = values["kafka"]["external"]
    if kafka["bootstrapServers"]:  # a Kafka of the user's own: its Secrets are the user's too
        security = kafka["security"]
        for component, credentials in security["credentials"].items():
            if credentials["secretName"]:
                login = {credentials["usernameKey"]: component, credentials["passwordKey"]: "local-password"}
                secrets.append((credentials["secretName"], login))
        if security["caSecret"]["name"]:
            secrets.append((security["caSecret"]["name"], {security["caSecret"]["key"]: "not a certificate here"}))
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}, "stringData": data}
        for name, data in secrets
    ]


@dataclass(frozen=True)
class Release:
    """One helm release of the chart in a namespace of its own."""

    namespace: str
    helm: Tool
    kubectl: Tool
    name: str = RELEASE

    def install(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.helm.run(
            "install", self.name, str(CHART), "-n", self.namespace, *args, check=False, timeout=timeout
        )

    def manifest(self) -> list[Doc]:
        return documents(self.helm.run("get", "manifest", self.name, "-n", self.namespace).stdout)

    def hooks(self) -> list[Doc]:
        return documents(self.helm.run("get", "hooks", self.name, "-n", self.namespace).stdout)

    def stored(self, docs: Iterable[Doc]) -> dict[tuple[str, str], Doc]:
        """What the server holds for each manifest, by (kind, name), in one request per call."""
        refs = [f"{'.'.join(filter(None, (doc['kind'], group(doc))))}/{doc['metadata']['name']}" for doc in docs]
        if not refs:
            return {}
        found = self.kubectl.json("get", "-n", self.namespace, *refs)
        return {key(item): item for item in found.get("items", [found])}  # one name: the object, not a List

    def items(self, *kinds: str, selector: str | None = None) -> list[Doc]:
        args = ["get", ",".join(kinds), "-n", self.namespace] + (["-l", selector] if selector else [])
        return self.kubectl.json(*args)["items"]


def key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def group(doc: Doc) -> str:
    """The API group of a manifest ('' for the core group), as kubectl's kind.group wants it."""
    api_version = doc["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


# -------------------------------------------------------------------------- workloads
def expected_replicas(manifest: Iterable[Doc]) -> dict[str, int]:
    """Ready replicas each Deployment of a manifest must reach here: its replicas (Kubernetes' default of 1
    when unset, as under an autoscaler), raised to the minReplicas of an HPA that targets it (the HPA
    controller raises a Deployment below its minimum even without metrics). A KEDA ScaledObject leaves the
    default: no KEDA runs here to scale."""
    docs = list(manifest)
    minimum = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"].get("minReplicas", 1)
        for hpa in docs
        if hpa["kind"] == "HorizontalPodAutoscaler" and hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    }
    return {
        d["metadata"]["name"]: max(d["spec"].get("replicas", 1), minimum.get(d["metadata"]["name"], 1))
        for d in docs
        if d["kind"] == "Deployment"
    }


def deployment_problems(release: Release, expected: Mapping[str, int]) -> Problems:
    """Each expected Deployment has exactly its replicas ready, all pods Running on kwok nodes with the
    template's images; a ReplicaSet that cannot create pods reports why (Pod Security admission, quota...)."""
    problems: Problems = []
    found = {d["metadata"]["name"]: d for d in release.items("deployments")}
    if set(found) != set(expected):
        problems.append(f"Deployments {sorted(found)}, expected {sorted(expected)}")
    for replica_set in release.items("replicasets"):
        for condition in replica_set.get("status", {}).get("conditions", []):
            if condition["type"] == "ReplicaFailure" and condition["status"] == "True":
                problems.append(f"ReplicaSet {replica_set['metadata']['name']}: {condition['message']}")
    pods = release.items("pods")
    for name, replicas in expected.items():
        deployment = found.get(name)
        if deployment is None:
            continue
        status = deployment.get("status", {})
        if (status.get("readyReplicas", 0), status.get("updatedReplicas", 0), status.get("replicas", 0)) != (
            replicas,
            replicas,
            replicas,
        ):
            problems.append(
                f"Deployment {name}: ready/updated/total {status.get('readyReplicas', 0)}/"
                f"{status.get('updatedReplicas', 0)}/{status.get('replicas', 0)}, expected {replicas}"
            )
        images = sorted(c["image"] for c in deployment["spec"]["template"]["spec"]["containers"])
        selector = deployment["spec"]["selector"]["matchLabels"]
        for pod in pods:
            if not all(pod["metadata"].get("labels", {}).get(k) == v for k, v in selector.items()):
                continue
            if sorted(c["image"] for c in pod["spec"]["containers"]) != images:
                problems.append(f"pod {pod['metadata']['name']} runs {[c['image'] for c in pod['spec']['containers']]}")
            if pod["status"].get("phase") != "Running" or not pod["spec"].get("nodeName", "").startswith("kwok-node-"):
                problems.append(
                    f"pod {pod['metadata']['name']}: {pod['status'].get('phase')} on {pod['spec'].get('nodeName')}"
                )
    return problems


def service_problems(release: Release) -> Problems:
    """Every Service of the release has ready endpoints: the real EndpointSlice controller matched its
    selector to Running pods of the release (a selector that matches nothing leaves it without any)."""
    problems = []
    for service in release.items("services"):
        name = service["metadata"]["name"]
        slices = release.items("endpointslices.discovery.k8s.io", selector=f"kubernetes.io/service-name={name}")
        ready = [e for s in slices for e in s.get("endpoints") or [] if e.get("conditions", {}).get("ready")]
        if not ready:
            problems.append(f"Service {name} selects no ready pod ({service['spec'].get('selector')})")
    return problems


def flink_pod_problems(release: Release, manifest: Iterable[Doc]) -> Problems:
    """Pods built from the FlinkDeployment's pod templates, as the operator would create them (template
    plus image), are admitted by this namespace's Pod Security admission: a server-side dry run, so the
    `restricted` check reaches pods that no operator creates here."""
    problems = []
    docs = list(manifest)
    images = {d["metadata"]["name"]: d["spec"]["image"] for d in docs if d["kind"] == "FlinkDeployment"}
    for owner, template in pod_templates(docs):
        if not owner.startswith("FlinkDeployment/"):
            continue
        flink_name, component = owner.split("/")[1:3]
        spec = copy.deepcopy(template["spec"])
        for container in spec["containers"]:
            container.setdefault("image", images[flink_name])
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{flink_name}-{component.lower()}-admission",
                "namespace": release.namespace,
                "labels": template.get("metadata", {}).get("labels", {}),
            },
            "spec": spec,
        }
        result = release.kubectl.run("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(pod), check=False)
        if result.returncode != 0:
            problems.append(f"{owner}: {result.stderr.strip()}")
    return problems


# -------------------------------------------------------------------------- what the server stored
def drift(rendered: Any, stored: Any, path: str = "") -> Problems:
    """Every value the chart set that the server does not hold as set: pruned, changed or retyped."""
    if isinstance(rendered, dict) and isinstance(stored, dict):
        problems = []
        for field, value in rendered.items():
            if field not in stored:
                problems.append(f"{path}.{field}: pruned (set to {value!r})")
            else:
                problems += drift(value, stored[field], f"{path}.{field}")
        return problems
    if isinstance(rendered, list) and isinstance(stored, list):
        if len(rendered) != len(stored):
            return [f"{path}: {len(rendered)} items set, {len(stored)} stored"]
        return [p for i, (a, b) in enumerate(zip(rendered, stored, strict=True)) for p in drift(a, b, f"{path}[{i}]")]
    return (
        []
        if rendered == stored and type(rendered) is type(stored)
        else [f"{path}: set to {rendered!r}, stored {stored!r}"]
    )


def stored_problems(release: Release, manifest: list[Doc]) -> Problems:
    """Every object of `manifest` that the server does not hold exactly as rendered, with what differs."""
    stored = release.stored(manifest)
    return [f"{key(doc)} {p}" for doc in manifest for p in drift(doc, stored.get(key(doc), {}))]


def additions(rendered: Any, stored: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of everything the server holds that the chart did not set."""
    if isinstance(rendered, dict) and isinstance(stored, dict):
        found = []
        for field, value in stored.items():
            found += (
                [((*path, field), value)]
                if field not in rendered
                else additions(rendered[field], value, (*path, field))
            )
        return found
    if isinstance(rendered, list) and isinstance(stored, list):
        return [a for i, (r, s) in enumerate(zip(rendered, stored, strict=False)) for a in additions(r, s, (*path, i))]
    return []


_NO_DEFAULT = object()


def schema_default(schema: Mapping[str, Any], path: tuple) -> Any:
    """The `default` the CRD's structural schema declares at `path` (list indices walk `items`)."""
    node: Mapping[str, Any] = schema
    for step in path:
        if isinstance(step, int):
            node = node.get("items", {})
        else:
            properties = node.get("properties", {})
            node = properties[step] if step in properties else node.get("additionalProperties") or {}
        if not isinstance(node, Mapping):
            return _NO_DEFAULT
    return node.get("default", _NO_DEFAULT)


def crd_schema(crds: Iterable[Doc], doc: Doc) -> Mapping[str, Any]:
    """The served schema of a custom resource's kind and version, from the server's CRDs."""
    api_group, version = doc["apiVersion"].split("/")
    (crd,) = [c for c in crds if c["spec"]["group"] == api_group and c["spec"]["names"]["kind"] == doc["kind"]]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return served["schema"]["openAPIV3Schema"]


def custom_resource_problems(rendered: Doc, stored: Doc, schema: Mapping[str, Any]) -> Problems:
    """The chart's spec and labels stored as set (nothing pruned or changed); anything the server added
    is a default its CRD declares."""
    problems = drift(rendered.get("spec"), stored.get("spec"), "spec")
    problems += drift(rendered["metadata"].get("labels", {}), stored["metadata"].get("labels", {}), "metadata.labels")
    for path, value in additions(rendered.get("spec"), stored.get("spec"), ("spec",)):
        default = schema_default(schema, path)
        if default is _NO_DEFAULT or default != value:
            problems.append(f"{'.'.join(map(str, path))}: {value!r} added by the server, not a default of its CRD")
    return problems


def is_custom(doc: Doc) -> bool:
    """A custom resource: its API group is not one of Kubernetes' own (apps, policy, *.k8s.io...)."""
    return "." in group(doc) and not group(doc).endswith(".k8s.io")


# -------------------------------------------------------------------------- what is left
def namespace_contents(kubectl: Tool, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of everything in the namespace that anything could own (events and the namespace's
    own defaults aside), over every listable namespaced resource type the server serves."""
    types = kubectl.run("api-resources", "--verbs=list", "--namespaced", "-o", "name").stdout.split()
    types = [t for t in types if t not in ("events", "events.events.k8s.io")]
    items = kubectl.json("get", ",".join(types), "-n", namespace)["items"]
    return {(i["kind"], i["metadata"]["name"]) for i in items} - NAMESPACE_DEFAULTS
