"""statefun.deployment standalone (docs/adr/0014): the render is valid Kubernetes, and its JobManager and TaskManager
pods are the FlinkDeployment's pod templates plus exactly what the operator would add, with the same Flink
configuration plus exactly the keys the operator would set: the one place both modes take their pods from."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import yaml

from tests.deploy import kubeconform
from tests.deploy.tools import documents, helm_template

STANDALONE = Path(__file__).with_name("standalone-values.yaml")
COMPONENTS = {"jobmanager": "jobManager", "taskmanager": "taskManager"}
# What the operator sets itself and the standalone Deployments must carry (keys of flink-conf.yaml).
OPERATOR_KEYS = {
    "kubernetes.cluster-id",
    "kubernetes.namespace",
    "jobmanager.rpc.address",
    "jobmanager.rpc.port",
    "high-availability.jobmanager.port",
    "blob.server.port",
    "taskmanager.rpc.port",
    "taskmanager.data.port",
    "jobmanager.memory.process.size",
    "taskmanager.memory.process.size",
}


def render(*values: str) -> list[dict]:
    result = helm_template("--values", str(STANDALONE), *values)
    assert result.returncode == 0, result.output
    return documents(result.stdout)


def one(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def flink_conf(text: str) -> dict[str, str]:
    """flink-conf.yaml read as Flink 1.16 reads it: `key: value` per line, split at the first ': '."""
    return dict(line.split(": ", 1) for line in text.splitlines() if line.strip())


def operator_view(template: dict, component: str) -> dict:
    """A standalone pod template without what only standalone mode adds (the operator adds it from the spec)."""
    pod = copy.deepcopy(template)
    pod["metadata"]["annotations"].pop("checksum/flink-config")
    spec = pod["spec"]
    spec.pop("serviceAccountName")
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "flink-config"]
    (container,) = spec["containers"]
    for key in ("image", "imagePullPolicy", "args", "resources"):
        container.pop(key)
    container["ports"] = [p for p in container["ports"] if p["name"] == "metrics"]
    container["env"] = [e for e in container["env"] if e["name"] != "POD_IP"]
    if not container["env"]:
        container.pop("env")
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != "flink-config"]
    if component == "jobmanager":
        container.pop("readinessProbe")
    return pod


def test_the_standalone_render_is_valid_kubernetes_with_no_flink_deployment():
    docs = render()
    result = kubeconform.validate(yaml.safe_dump_all(docs))
    assert result.returncode == 0, result.output
    assert not [d for d in docs if d["kind"] == "FlinkDeployment"]
    (hpa,) = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler" and "statefun" in d["metadata"]["name"]]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "fraud-statefun-taskmanager",
    }


def test_the_standalone_pods_are_the_flink_deployments_pod_templates_plus_what_the_operator_adds():
    standalone = render()
    operator = render("--set", "statefun.deployment=operator")
    (flink,) = [d for d in operator if d["kind"] == "FlinkDeployment"]
    for component, key in COMPONENTS.items():
        template = one(standalone, "Deployment", f"fraud-statefun-{component}")["spec"]["template"]
        expected = copy.deepcopy(flink["spec"][key]["podTemplate"])
        if component == "jobmanager":
            expected["spec"]["containers"][0].pop("readinessProbe")
        assert operator_view(template, component) == expected, component
        (container,) = template["spec"]["containers"]
        assert container["resources"] == {"requests": quantities(flink["spec"][key]["resource"])} | {
            "limits": quantities(flink["spec"][key]["resource"])
        }


def quantities(resource: dict, cpu_factor: float = 1, memory_factor: float = 1) -> dict[str, str]:
    """A FlinkDeployment's resource (cpu in cores, memory 1024m or 2g) as the operator makes it into a pod's."""
    mebibytes = int(resource["memory"][:-1]) * (1024 if resource["memory"].endswith("g") else 1)
    return {
        "cpu": f"{round(float(resource['cpu']) * 1000 * cpu_factor)}m",
        "memory": f"{round(mebibytes * memory_factor)}Mi",
    }


def test_the_limits_are_the_requests_times_flinks_limit_factors():
    docs = render(
        "--set-string",
        "statefun.flinkConfiguration.kubernetes\\.taskmanager\\.cpu\\.limit-factor=2.5",
        "--set-string",
        "statefun.flinkConfiguration.kubernetes\\.jobmanager\\.memory\\.limit-factor=1.5",
        "--set",
        "statefun.taskManager.resource.memory=2g",
    )
    resources = {
        c: one(docs, "Deployment", f"fraud-statefun-{c}")["spec"]["template"]["spec"]["containers"][0]["resources"]
        for c in COMPONENTS
    }
    assert resources["taskmanager"] == {
        "requests": quantities({"cpu": 1, "memory": "2g"}),
        "limits": quantities({"cpu": 1, "memory": "2g"}, cpu_factor=2.5),
    }
    assert resources["jobmanager"] == {
        "requests": quantities({"cpu": 0.5, "memory": "1024m"}),
        "limits": quantities({"cpu": 0.5, "memory": "1024m"}, memory_factor=1.5),
    }


def test_the_standalone_flink_configuration_is_the_flink_deployments_plus_what_the_operator_sets():
    standalone = render()
    (flink,) = [d for d in render("--set", "statefun.deployment=operator") if d["kind"] == "FlinkDeployment"]
    conf = flink_conf(one(standalone, "ConfigMap", "fraud-statefun-flink-config")["data"]["flink-conf.yaml"])
    assert set(conf) - set(flink["spec"]["flinkConfiguration"]) == OPERATOR_KEYS
    assert {k: v for k, v in conf.items() if k not in OPERATOR_KEYS} == flink["spec"]["flinkConfiguration"]
    assert conf["kubernetes.cluster-id"] == "fraud-statefun"
    assert conf["jobmanager.rpc.address"] == "fraud-statefun-jobmanager"


def test_the_jobmanager_runs_the_job_under_a_fixed_id_and_is_ready_only_while_it_runs():
    docs = render()
    (container,) = one(docs, "Deployment", "fraud-statefun-jobmanager")["spec"]["template"]["spec"]["containers"]
    job_id = hashlib.sha256(b"fraud-statefun").hexdigest()[:32]  # docs/adr/0014
    assert container["args"] == [
        "standalone-job",
        "--host",
        "$(POD_IP)",
        "--job-classname",
        "org.apache.flink.statefun.flink.core.StatefulFunctionsJob",
        "--job-id",
        job_id,
    ]
    probe = container["readinessProbe"]["exec"]["command"]
    assert probe[:2] == ["bash", "-c"] and f"GET /jobs/{job_id} " in probe[2] and '"state":"RUNNING"' in probe[2]
    (taskmanager,) = one(docs, "Deployment", "fraud-statefun-taskmanager")["spec"]["template"]["spec"]["containers"]
    assert taskmanager["args"] == ["taskmanager"]
