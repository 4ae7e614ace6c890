"""The control plane's parts that need neither its binaries nor root: settings, certificates, stopping
processes by pid, and how wrapper modules' replace lines are derived from upstream's go.mod."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from fraud_common.settings import SettingsError
from fraud_dev.cluster import pki
from fraud_dev.cluster.config import ClusterConfig, ClusterPorts
from fraud_dev.daemons import (
    ProcessRecord,
    StateFile,
    is_running,
    processes_using,
    stop,
)
from fraud_dev.process import Service
from tests.cluster.conftest import load_wrapper_script


def test_ports_and_the_run_directory_come_from_the_environment(tmp_path):
    config = ClusterConfig.from_env({"CLUSTER_APISERVER_PORT": "26443", "CLUSTER_RUN_DIR": str(tmp_path)})
    assert config.ports.apiserver == 26443 and config.ports.etcd == ClusterPorts().etcd
    assert config.kubeconfig == tmp_path / "kubeconfig"
    with pytest.raises(SettingsError, match="CLUSTER_ETCD_PORT"):
        ClusterPorts.from_env({"CLUSTER_ETCD_PORT": "etcd"})


def test_the_default_ports_stay_clear_of_the_local_stack():
    assert not set(vars(ClusterPorts()).values()) & {8000, 8081, 8090, 9092, 9093, 9249}


def openssl_text(path) -> str:
    return subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout


def test_certificates_are_signed_by_the_ca_with_the_identity_and_names_each_needs(tmp_path):
    pki.make_ca(tmp_path)
    pki.issue(tmp_path, pki.APISERVER)
    pki.issue(tmp_path, pki.ADMIN)
    for name in ("kube-apiserver", "admin"):
        verified = subprocess.run(
            ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / f"{name}.crt")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
    server = openssl_text(tmp_path / "kube-apiserver.crt")
    assert "IP Address:127.0.0.1" in server and "DNS:kubernetes.default.svc" in server
    assert "TLS Web Server Authentication" in server
    admin = openssl_text(tmp_path / "admin.crt")
    assert "O = system:masters, CN = fraud-cluster-admin" in admin
    assert "TLS Web Client Authentication" in admin and "TLS Web Server Authentication" not in admin
    assert oct((tmp_path / "admin.key").stat().st_mode & 0o777) == "0o600"


def start(tmp_path, name: str, script: str) -> tuple[Service, ProcessRecord]:
    service = Service(name=name, argv=[sys.executable, "-c", script, str(tmp_path)], log_path=tmp_path / f"{name}.log")
    service.start()
    time.sleep(0.3)  # let the interpreter install its signal handlers
    assert service.pid is not None
    return service, StateFile(tmp_path / "state.json").add(name, service.pid)


def test_stop_terminates_gracefully_and_kills_what_ignores_sigterm(tmp_path):
    _, polite = start(tmp_path, "polite", "import time; time.sleep(60)")
    _, stubborn = start(
        tmp_path, "stubborn", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    assert processes_using(tmp_path)
    assert stop([polite, stubborn], timeout=1) == {"polite": "terminated", "stubborn": "killed"}
    assert not is_running(polite) and not is_running(stubborn)
    assert processes_using(tmp_path) == []


def test_a_pid_that_now_belongs_to_another_process_is_never_signalled(tmp_path):
    service, record = start(tmp_path, "bystander", "import time; time.sleep(60)")
    reused = ProcessRecord(record.name, record.pid, record.start_ticks + 1)
    try:
        assert stop([reused], timeout=1) == {"bystander": "not running"}
        assert service.running
    finally:
        service.stop()


def test_the_state_file_keeps_processes_in_start_order(tmp_path):
    state = StateFile(tmp_path / "state.json")
    assert state.records() == []
    first, _ = start(tmp_path, "first", "import time; time.sleep(60)")
    second, _ = start(tmp_path, "second", "import time; time.sleep(60)")
    try:
        state.add("first", first.pid)
        state.add("second", second.pid)
        assert [r.name for r in state.records()][-2:] == ["first", "second"]
    finally:
        first.stop()
        second.stop()


WRAPPER = load_wrapper_script()


def test_local_replaces_become_published_modules_and_guards_stay():
    kubernetes = WRAPPER.Pin("kubernetes", "k8s.io/kubernetes", "v1.34.4")
    upstream = {
        "Require": [
            {"Path": "k8s.io/api", "Version": "v0.0.0"},
            {"Path": "go.etcd.io/etcd/api/v3", "Version": "v3.6.4"},
        ],
        "Replace": [
            {"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./staging/src/k8s.io/api"}},
            {"Old": {"Path": "go.etcd.io/tests/v3"}, "New": {"Path": "./FORBIDDEN_DEPENDENCY"}},
            {
                "Old": {"Path": "github.com/docker/docker"},
                "New": {"Path": "github.com/docker/docker", "Version": "v27.5.1+incompatible"},
            },
        ],
        "Exclude": [{"Path": "github.com/karrick/godirwalk", "Version": "v1.17.0"}],
    }
    replaces, excludes = WRAPPER.derived_directives(kubernetes, upstream)
    assert replaces == [
        "k8s.io/api => k8s.io/api v0.34.4",
        "go.etcd.io/tests/v3 => ./FORBIDDEN_DEPENDENCY",
        "github.com/docker/docker => github.com/docker/docker v27.5.1+incompatible",
    ]
    assert excludes == ["github.com/karrick/godirwalk v1.17.0"]


def test_siblings_required_at_real_versions_keep_them():
    etcd = WRAPPER.Pin("etcd", "go.etcd.io/etcd/server/v3", "v3.6.6")
    upstream = {
        "Require": [{"Path": "go.etcd.io/etcd/api/v3", "Version": "v3.6.6"}],
        "Replace": [{"Old": {"Path": "go.etcd.io/etcd/api/v3"}, "New": {"Path": "../api"}}],
    }
    assert WRAPPER.derived_directives(etcd, upstream) == (
        ["go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.6"],
        [],
    )
