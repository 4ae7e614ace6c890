"""`up` and `down` from separate commands, as `make cluster-up` / `make cluster-down` run them:
the plane outlives the command that started it, and `down` leaves no process, mount or file behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fraud_dev.cluster.config import REPO_ROOT, ClusterPorts
from fraud_dev.cluster.plane import ControlPlane
from fraud_dev.daemons import mounts_under, processes_using
from fraud_dev.ports import port_is_free
from tests.cluster.conftest import TOOLS_CACHE, private_config

# Paths that Kubernetes components, kubectl, helm or kwok write by default whatever their root
# directories are set to (see docs/kubernetes-local-control-plane.md): none may appear.
HOST_PATHS = [
    Path(p)
    for p in (
        "/var/run/kubernetes",
        "/var/lib/kubelet",
        "/var/lib/cni",
        "/run/containerd",
        "/var/lib/etcd",
        "/etc/kubernetes",
    )
] + [Path.home() / p for p in (".kube/cache", ".kwok", ".cache/helm", ".config/helm")]


def cluster_command(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fraud_dev.cluster", command],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_up_then_down_from_separate_commands_leaves_nothing(built_tools, tmp_path):
    ports = ClusterPorts.free()
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "CLUSTER_RUN_DIR": str(run_dir),
        "TOOLS_BIN": str(TOOLS_CACHE / "bin"),
        **{variable: str(getattr(ports, name)) for name, variable in ports.variables().items()},
    }
    existed_before = {path for path in HOST_PATHS if path.exists()}

    up = cluster_command("up", env)
    assert up.returncode == 0, up.stderr
    assert (run_dir / "kubeconfig").is_file()
    status = cluster_command("status", env)
    assert "kube-apiserver" in status.stdout and "ready" in status.stdout and "kwok-node-0" in status.stdout
    running = processes_using(run_dir)
    assert len(running) >= 5, running  # etcd, apiserver, controller-manager, scheduler, kwok

    down = cluster_command("down", env)
    assert down.returncode == 0, down.stderr
    for name in ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"):
        assert f"{name}: terminated" in down.stderr  # each exited on SIGTERM; none needed SIGKILL
    assert processes_using(run_dir) == []
    assert mounts_under(run_dir) == []
    assert not run_dir.exists()
    assert {path for path in HOST_PATHS if path.exists()} == existed_before
    assert all(port_is_free(getattr(ports, name)) for name in ports.variables())


def test_down_without_a_plane_is_harmless(tmp_path):
    env = {**os.environ, "CLUSTER_RUN_DIR": str(tmp_path / "never-started")}
    down = cluster_command("down", env)
    assert down.returncode == 0, down.stderr
    assert cluster_command("status", env).stdout.strip().endswith("not running")


class FailingNodes:
    """A node provider that fails, as a real one might: the half-started plane must not survive it."""

    def start(self, config, launch, kubectl) -> None:
        raise RuntimeError("no node today")

    def host_paths(self) -> tuple[Path, ...]:
        return ()

    def control_plane_flags(self, component: str, config) -> list[str]:
        return []


def test_a_failed_start_stops_what_it_started_and_keeps_only_the_logs(built_tools, tmp_path):
    config = private_config(tmp_path / "run")
    plane = ControlPlane(config, nodes=FailingNodes(), say=print)
    with pytest.raises(RuntimeError, match="no node today"):
        plane.up()
    assert processes_using(config.run_dir) == []
    assert [path.name for path in config.run_dir.iterdir()] == ["logs"]
    assert "kube-apiserver.log" in {path.name for path in config.logs.iterdir()}
    assert plane.down().leftovers == []
    assert not config.run_dir.exists()
