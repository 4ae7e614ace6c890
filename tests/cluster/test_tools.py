"""The pinned tools: each binary reports the version dev/tools/versions pins (the version ldflags took
effect), and the wrapper modules' generated go.mod lines match upstream's go.mod."""

from __future__ import annotations

import json
import shutil
import subprocess

from fraud_dev.cluster.config import REPO_ROOT
from tests.cluster.conftest import TOOLS_CACHE, load_wrapper_script

BIN = TOOLS_CACHE / "bin"
WRAPPER = REPO_ROOT / "dev" / "tools" / "wrapper"


def pinned() -> dict[str, str]:
    return {name: pin.version for name, pin in load_wrapper_script().read_pins().items()}


def output(*argv: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, check=True, env=env)
    return result.stdout + result.stderr


def test_the_cluster_binaries_report_their_pinned_versions(built_tools):
    versions = pinned()
    for command in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"):
        assert output(command, "--version").strip() == f"Kubernetes {versions['kubernetes']}"
    client = json.loads(output("kubectl", "version", "--client", "-o", "json"))["clientVersion"]
    assert (client["gitVersion"], client["major"], client["minor"]) == (versions["kubernetes"], "1", "34")
    assert f"etcd Version: {versions['etcd'].lstrip('v')}" in output("etcd", "--version")
    assert versions["kwok"] in output("kwok", "--version")


def test_the_deploy_tools_report_their_pinned_versions(deploy_tools, tmp_path):
    versions = pinned()
    assert output("helm", "version", "--short").strip() == versions["helm"]
    assert output("kubeconform", "-v").strip() == versions["kubeconform"]
    assert output("kustomize", "version").strip() == versions["kustomize"]
    assert f"Version:\t {versions['ct']}" in output("ct", "version")
    assert f"Conftest: {versions['conftest'].lstrip('v')}" in output("conftest", "--version")
    assert output("skaffold", "version").strip() == versions["skaffold"]
    helm_env = {
        "HELM_PLUGINS": str(TOOLS_CACHE / "helm-plugins"),
        "HELM_CONFIG_HOME": str(tmp_path),
        "HELM_DATA_HOME": str(tmp_path),
        "HELM_CACHE_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    plugins = output("helm", "plugin", "list", env=helm_env).splitlines()
    assert any(line.split()[:2] == ["unittest", versions["helm-unittest"].lstrip("v")] for line in plugins[1:])
    assert "hooks" not in (TOOLS_CACHE / "helm-plugins" / "unittest" / "plugin.yaml").read_text(encoding="utf-8")


def test_the_wrapper_modules_are_in_step_with_upstream(built_tools):
    result = subprocess.run([str(WRAPPER), "check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"kubernetes: in step with k8s.io/kubernetes {pinned()['kubernetes']} (31 replace" in result.stdout


def test_a_dropped_replace_line_is_reported(built_tools, tmp_path):
    shutil.copytree(REPO_ROOT / "dev" / "tools" / "modules" / "etcd", tmp_path / "etcd")
    go = load_wrapper_script().GO
    subprocess.run([go, "mod", "edit", "-dropreplace=go.etcd.io/etcd/api/v3"], cwd=tmp_path / "etcd", check=True)
    result = subprocess.run(
        [str(WRAPPER), "--modules", str(tmp_path), "check", "etcd"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "missing replace go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.6" in result.stderr
