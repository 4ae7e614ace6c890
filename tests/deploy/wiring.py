"""Checks over rendered manifests that no schema can make: do the parts actually reach each other?

Each check takes the parsed documents of one render (plus what it compares them with) and returns
a list of problems, empty when the wiring holds. Tests run each check on real renders (no problem)
and on deliberately broken copies (the problem is reported), so a check that cannot fail is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from fraud_common.contract import Topic

Doc = dict[str, Any]
Problems = list[str]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc.get("kind") == kind]


def named(docs: Iterable[Doc], kind: str, name: str) -> Doc | None:
    return next((doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name), None)


def pod_templates(docs: Iterable[Doc]) -> list[tuple[str, Doc]]:
    """(owner, pod template or pod) of every workload, the helm test pod and both Flink components."""
    found: list[tuple[str, Doc]] = []
    for doc in docs:
        owner = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if doc.get("kind") in WORKLOAD_KINDS:
            found.append((owner, doc["spec"]["template"]))
        elif doc.get("kind") == "Pod":
            found.append((owner, doc))
        elif doc.get("kind") == "FlinkDeployment":
            for component in ("jobManager", "taskManager"):
                found.append((f"{owner}/{component}", doc["spec"][component].get("podTemplate", {})))
    return found


def env_values(docs: Iterable[Doc], name: str) -> list[tuple[str, str]]:
    """(owner, value) of every literal env entry called `name`."""
    found = []
    for owner, template in pod_templates(docs):
        for container in template.get("spec", {}).get("containers", []):
            for entry in container.get("env", []):
                if entry["name"] == name and "value" in entry:
                    found.append((owner, entry["value"]))
    return found


def module_spec(docs: Iterable[Doc]) -> list[Doc]:
    """The module spec documents of the ConfigMap the FlinkDeployment mounts."""
    (flink,) = of_kind(docs, "FlinkDeployment")
    uri = flink["spec"]["flinkConfiguration"]["statefun.remote.module-name"]
    path = urlsplit(uri).path
    for _, template in pod_templates([flink]):
        spec = template["spec"]
        mounts = {m["name"]: m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        for volume in spec.get("volumes", []):
            mount = mounts.get(volume["name"])
            if "configMap" in volume and mount and path.startswith(mount.rstrip("/") + "/"):
                config_map = named(docs, "ConfigMap", volume["configMap"]["name"])
                if config_map is None:
                    raise LookupError(f"the module spec ConfigMap {volume['configMap']['name']} is not rendered")
                text = config_map["data"][path[len(mount.rstrip("/")) + 1 :]]
                return [d for d in yaml.safe_load_all(text) if d]
    raise LookupError(f"no ConfigMap volume is mounted where {uri} points")


def container_port(template: Doc, port: int | str) -> tuple[Doc, int] | None:
    """(container, number) of a port given by number or name in a pod template."""
    for container in template["spec"]["containers"]:
        for declared in container.get("ports", []):
            if port in (declared.get("name"), declared["containerPort"]):
                return container, declared["containerPort"]
    return None


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


# ---------------------------------------------------------------- the checks


def check_functions_endpoint(docs: list[Doc], namespace: str, paths: set[str]) -> Problems:
    """The module spec's URL names a rendered Service (in this namespace) whose port leads to pods that
    declare that port, and the function server serves the URL's path (`paths`: its routes)."""
    endpoints = [d for d in module_spec(docs) if d["kind"] == "io.statefun.endpoints.v2/http"]
    if not endpoints:
        return ["the module spec has no HTTP endpoint"]
    problems = []
    for endpoint in endpoints:
        url = urlsplit(endpoint["spec"]["urlPathTemplate"])
        host = url.hostname or ""
        service_name, _, rest = host.partition(".")
        if rest not in (f"{namespace}.svc", f"{namespace}.svc.cluster.local"):
            problems.append(f"endpoint host {host} is not a Service of namespace {namespace}")
        service = named(docs, "Service", service_name)
        if service is None:
            problems.append(f"endpoint {url.geturl()} names Service {service_name}, which is not rendered")
            continue
        port = next((p for p in service["spec"]["ports"] if p["port"] == (url.port or 80)), None)
        if port is None:
            problems.append(f"Service {service_name} has no port {url.port}")
            continue
        backends = [
            (owner, t)
            for owner, t in pod_templates(docs)
            if selects(service["spec"]["selector"], t["metadata"].get("labels", {}))
        ]
        if not backends:
            problems.append(f"Service {service_name} selects no rendered pods")
        for owner, template in backends:
            target = container_port(template, port.get("targetPort", port["port"]))
            if target is None:
                problems.append(f"{owner} has no container port {port.get('targetPort')} for Service {service_name}")
            elif url.path not in paths:
                problems.append(f"{owner} does not serve {url.path}; the function server has {sorted(paths)}")
    return problems


def kafka_bootstrap(docs: list[Doc], namespace: str) -> str | None:
    """host:port of the rendered Strimzi cluster's plain internal listener, or None without one."""
    clusters = of_kind(docs, "Kafka")
    if not clusters:
        return None
    (kafka,) = clusters
    plain = [
        listener
        for listener in kafka["spec"]["kafka"]["listeners"]
        if listener["type"] == "internal" and not listener["tls"]
    ]
    if not plain:
        return None
    return f"{kafka['metadata']['name']}-kafka-bootstrap.{namespace}.svc:{plain[0]['port']}"


def check_kafka_bootstrap(docs: list[Doc], namespace: str) -> Problems:
    """Every Kafka address (module spec, env, KEDA) is the Strimzi cluster's bootstrap Service and listener."""
    expected = kafka_bootstrap(docs, namespace)
    if expected is None:
        return [] if not of_kind(docs, "Kafka") else ["the Kafka cluster has no plain internal listener"]
    used = [
        (f"module spec {d['spec']['id']}", d["spec"]["address"]) for d in module_spec(docs) if "address" in d["spec"]
    ]
    used += env_values(docs, "KAFKA_BOOTSTRAP_SERVERS")
    for scaled in of_kind(docs, "ScaledObject"):
        used += [
            (f"ScaledObject/{scaled['metadata']['name']}", t["metadata"]["bootstrapServers"])
            for t in scaled["spec"]["triggers"]
            if t["type"] == "kafka"
        ]
    if not used:
        return ["nothing uses the Kafka cluster"]
    return [
        f"{owner} uses Kafka at {address}, the cluster is {expected}" for owner, address in used if address != expected
    ]


def images(docs: list[Doc]) -> list[tuple[str, str]]:
    """(owner, image) of every container and of every FlinkDeployment."""
    found = [(f"FlinkDeployment/{d['metadata']['name']}", d["spec"]["image"]) for d in of_kind(docs, "FlinkDeployment")]
    for owner, template in pod_templates(docs):
        for container in template.get("spec", {}).get("containers", []) + template.get("spec", {}).get(
            "initContainers", []
        ):
            if "image" in container:
                found.append((owner, container["image"]))
    return found


def repository(image: str) -> str:
    """The image name without tag or digest."""
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def check_images_are_artifacts(docs: list[Doc], artifacts: set[str]) -> Problems:
    """Every image the chart runs is built by skaffold (an artifact image name)."""
    return [
        f"{owner} runs {image}, which no skaffold artifact builds"
        for owner, image in images(docs)
        if repository(image) not in artifacts
    ]


def check_probes(
    docs: list[Doc],
    routes_by_image: Mapping[str, tuple[str, set[str]]],
    flink_routes: Callable[[Doc, str], Mapping[int, set[str]]],
) -> Problems:
    """Every httpGet probe names a declared container port on which its application listens and serves the
    path (GET). `routes_by_image`: image repository -> (env variable holding the app's port, its GET routes)."""
    problems = []
    flinks = {f"FlinkDeployment/{d['metadata']['name']}": d for d in of_kind(docs, "FlinkDeployment")}
    for owner, template in pod_templates(docs):
        for container in template.get("spec", {}).get("containers", []):
            if owner.rsplit("/", 1)[0] in flinks:
                served = flink_routes(flinks[owner.rsplit("/", 1)[0]], owner.rsplit("/", 1)[1])
            else:
                served = listening(container, routes_by_image.get(repository(container.get("image", ""))))
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind)
                if probe is None:
                    if owner.startswith(("Deployment/", "FlinkDeployment/")):
                        problems.append(f"{owner} container {container['name']} has no {kind}")
                    continue
                get = probe.get("httpGet")
                if get is None:
                    problems.append(f"{owner} {kind} is not an HTTP GET on a route")
                    continue
                port = get["port"]
                if isinstance(port, str):
                    found = container_port(template, port)
                    if found is None:
                        problems.append(f"{owner} {kind} uses port {port!r}, which the container does not declare")
                        continue
                    port = found[1]
                if get["path"] not in served.get(port, set()):
                    problems.append(
                        f"{owner} {kind} GET {get['path']} on port {port}: the application serves "
                        f"{sorted(served.get(port, set())) or 'nothing'} there"
                    )
    return problems


def listening(container: Doc, app: tuple[str, set[str]] | None) -> dict[int, set[str]]:
    """{port the container's app listens on (from its env): its routes}; empty for an unknown app."""
    if app is None:
        return {}
    port_variable, paths = app
    port = next((e.get("value") for e in container.get("env", []) if e["name"] == port_variable), None)
    return {} if port is None else {int(port): paths}


def check_references(docs: list[Doc], external: Mapping[str, set[str]]) -> Problems:
    """Every ConfigMap, Secret, ServiceAccount and PVC a pod, binding or FlinkDeployment names is rendered
    (or is one of the `external` names the values say the user provides)."""
    rendered = {
        kind: {d["metadata"]["name"] for d in of_kind(docs, kind)}
        for kind in ("ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim", "Role")
    }
    wanted: list[tuple[str, str, str]] = []
    for owner, template in pod_templates(docs):
        spec = template.get("spec", {})
        if "serviceAccountName" in spec:
            wanted.append((owner, "ServiceAccount", spec["serviceAccountName"]))
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                wanted.append((owner, "ConfigMap", volume["configMap"]["name"]))
            if "secret" in volume:
                wanted.append((owner, "Secret", volume["secret"]["secretName"]))
            if "persistentVolumeClaim" in volume:
                wanted.append((owner, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
        for container in spec.get("containers", []):
            for entry in container.get("env", []):
                source = entry.get("valueFrom", {})
                if "secretKeyRef" in source:
                    wanted.append((owner, "Secret", source["secretKeyRef"]["name"]))
                if "configMapKeyRef" in source:
                    wanted.append((owner, "ConfigMap", source["configMapKeyRef"]["name"]))
    for flink in of_kind(docs, "FlinkDeployment"):
        wanted.append(
            (f"FlinkDeployment/{flink['metadata']['name']}", "ServiceAccount", flink["spec"]["serviceAccount"])
        )
    for binding in of_kind(docs, "RoleBinding"):
        owner = f"RoleBinding/{binding['metadata']['name']}"
        wanted.append((owner, binding["roleRef"]["kind"], binding["roleRef"]["name"]))
        wanted += [(owner, "ServiceAccount", s["name"]) for s in binding["subjects"] if s["kind"] == "ServiceAccount"]
    return [
        f"{owner} refers to {kind} {name}, which is not rendered"
        for owner, kind, name in wanted
        if name not in rendered.get(kind, set()) and name not in external.get(kind, set())
    ]


def adr_flink_version(adr_text: str) -> str:
    """`v1_16` from ADR 0001's title line ("... on Flink 1.16.2")."""
    match = re.search(r"^# .*Flink (\d+)\.(\d+)", adr_text, re.MULTILINE)
    if match is None:
        raise LookupError("ADR 0001 names no Flink version in its title")
    return f"v{match.group(1)}_{match.group(2)}"


def check_flink_version(docs: list[Doc], adr_0001: str, adr_0003: str) -> Problems:
    """flinkVersion is the runtime's Flink (ADR 0001) and the value ADR 0003 pins."""
    expected = adr_flink_version(adr_0001)
    problems = []
    if f"`flinkVersion: {expected}`" not in adr_0003:
        problems.append(f"ADR 0003 does not pin `flinkVersion: {expected}`")
    for flink in of_kind(docs, "FlinkDeployment"):
        if flink["spec"]["flinkVersion"] != expected:
            problems.append(
                f"FlinkDeployment/{flink['metadata']['name']} has flinkVersion "
                f"{flink['spec']['flinkVersion']}, ADR 0001 says {expected}"
            )
    return problems


def check_topics(docs: list[Doc], topics: Iterable[Topic]) -> Problems:
    """The rendered KafkaTopics are exactly the contract's topics with their partition counts."""
    rendered = {
        t["spec"].get("topicName", t["metadata"]["name"]): t["spec"]["partitions"] for t in of_kind(docs, "KafkaTopic")
    }
    declared = {topic.name: topic.partitions for topic in topics}
    if rendered == declared:
        return []
    return [
        f"KafkaTopics {dict(sorted(rendered.items()))} differ from fraud_common.contract.TOPICS "
        f"{dict(sorted(declared.items()))}"
    ]


def flink_conf(text: str) -> dict[str, str]:
    """A flink-conf.yaml read the way Flink 1.16 reads it: per line, '#' starts a comment, split at ': '."""
    conf = {}
    for line in text.splitlines():
        content = line.split("#", 1)[0].strip()
        if content:
            key, _, value = content.partition(": ")
            conf[key.strip()] = value.strip()
    return conf


def check_flink_configuration(docs: list[Doc], conf_text: str, exceptions: Mapping[str, str]) -> Problems:
    """The FlinkDeployment carries every key of runtime/conf/flink-conf.yaml with the same value,
    except the documented `exceptions` (key -> why)."""
    (flink,) = of_kind(docs, "FlinkDeployment")
    carried = flink["spec"]["flinkConfiguration"]
    problems = []
    for key, value in flink_conf(conf_text).items():
        if key in exceptions:
            continue
        if key not in carried:
            problems.append(f"flinkConfiguration lacks {key} (runtime/conf/flink-conf.yaml: {value})")
        elif str(carried[key]) != value:
            problems.append(
                f"flinkConfiguration {key} is {carried[key]!r}, runtime/conf/flink-conf.yaml says {value!r}"
            )
    return problems


def jvm_flags(text: str) -> list[str]:
    """The flags of runtime/conf/jvm-options.txt (a Java @argfile: one per line, '#' comments)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def check_java_options(docs: list[Doc], options_text: str, key: str) -> Problems:
    """The Flink JVM options key carries exactly runtime/conf/jvm-options.txt's flags, in order."""
    (flink,) = of_kind(docs, "FlinkDeployment")
    carried = flink["spec"]["flinkConfiguration"].get(key)
    if carried is None:
        return [f"flinkConfiguration lacks {key}"]
    if carried.split() != jvm_flags(options_text):
        return [f"flinkConfiguration {key} differs from runtime/conf/jvm-options.txt"]
    return []
