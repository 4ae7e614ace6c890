"""skaffold.yaml: valid against its schema, renders offline on every path, and wires what the chart runs."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.deploy import network_policies, skaffold_config, wiring
from tests.deploy.kubeconform import validate
from tests.deploy.skaffold_config import SCHEMA, SKAFFOLD_YAML, artifact_images, render
from tests.deploy.tools import ROOT, documents, run, tool

PROFILES = [(), ("kind",), ("minikube",), ("kustomize",), ("kind", "kustomize"), ("kind", "monitoring")]


def schema_check(text: str):
    return run([tool("kubeconform"), "-strict", "-summary", "-schema-location", str(SCHEMA), "-"], stdin=text)


def test_skaffold_yaml_matches_the_v4beta13_schema():
    result = schema_check(SKAFFOLD_YAML.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.output
    assert all(config["apiVersion"] == "skaffold/v4beta13" for config in skaffold_config.configs())


def test_an_unknown_field_breaks_the_schema_check():
    broken = SKAFFOLD_YAML.read_text(encoding="utf-8").replace("  name: app\n", "  name: app\n  nmae: x\n", 1)
    result = schema_check(broken)
    assert result.returncode != 0 and "additional properties 'nmae'" in result.stdout


def test_modules_deploy_operators_then_kafka_then_the_app():
    requires = {
        c["metadata"]["name"]: [n for r in c.get("requires", []) for n in r["configs"]]
        for c in skaffold_config.configs()
    }
    assert requires == {"operators": [], "kafka": ["operators"], "app": ["kafka"]}


def test_one_artifact_per_dockerfile_target():
    targets = {
        a["image"]: a["docker"]["target"]
        for c in skaffold_config.configs()
        for a in c.get("build", {}).get("artifacts", [])
    }
    assert targets == {
        "fraud-platform/functions": "functions",
        "fraud-platform/merchant-service": "merchant-service",
        "fraud-platform/simulator": "simulator",
        "fraud-platform/statefun-runtime": "statefun-runtime",
    }


@pytest.mark.parametrize("profiles", PROFILES, ids=lambda p: ",".join(p) or "default")
def test_render_offline_builds_a_valid_wired_pipeline(profiles):
    result = render(*profiles)
    assert result.returncode == 0, result.output
    docs = documents(result.stdout)
    assert validate(result.stdout).returncode == 0
    assert wiring.check_images_are_artifacts(docs, artifact_images()) == []
    assert {image.rsplit(":", 1)[1][:4] for _, image in wiring.images(docs)} == {"git-"}, (
        "a tag without the prefix could be all digits, which helm --set turns into a number"
    )
    assert wiring.check_kafka_bootstrap(docs, "fraud") == []
    # minikube's API server listens on 8443 (docs/kubernetes.md): the profile opens it for Kubernetes HA.
    assert network_policies.any_address_ports(docs) == ({443, 6443, 8443} if "minikube" in profiles else {443, 6443})
    assert network_policies.check_no_open_rules(docs, network_policies.any_address_ports(docs)) == []
    kinds = {d["kind"] for d in docs}
    assert {"FlinkDeployment", "Kafka", "KafkaNodePool", "KafkaTopic", "Deployment"} <= kinds
    assert len(docs) == len({(d["kind"], d["metadata"]["name"]) for d in docs}), "an object is deployed twice"


def test_render_fails_on_a_broken_config(tmp_path):
    for name in ("skaffold.yaml", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("charts", "kustomize"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    configs = skaffold_config.configs()
    configs[2]["manifests"]["helm"]["releases"][0]["chartPath"] = "charts/no-such-chart"
    (tmp_path / "skaffold.yaml").write_text(yaml.safe_dump_all(configs, sort_keys=False), encoding="utf-8")
    result = render(cwd=tmp_path)
    assert result.returncode != 0 and "building helm dependencies" in result.output
