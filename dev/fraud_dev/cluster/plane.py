"""Brings the control plane up in dependency order and down again, leaving nothing behind.

Up: certificates and kubeconfigs, etcd, kube-apiserver (/readyz), kube-controller-manager and
kube-scheduler (/healthz), the nodes, the operators' CRDs applied server-side and Established, and
the `default` ServiceAccount (pods are refused until it exists). Each process is recorded in
the run directory's state file as soon as it starts, so a failed start, a crashed test session or
another shell can still tear it all down.

Down: node processes, scheduler and controller-manager together, then the API server (it takes
more than 10 s to exit), then etcd; then the run directory, and a check that no process, mount or
host path is left.
"""

from __future__ import annotations

import shutil
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fraud_dev.cluster import components, pki
from fraud_dev.cluster.client import Tool, kubectl
from fraud_dev.cluster.config import CRDS_DIR, ClusterConfig
from fraud_dev.cluster.nodes import KwokNodes, NodeProvider
from fraud_dev.daemons import StateFile, is_running, mounts_under, processes_using, stop
from fraud_dev.ports import PortsInUse
from fraud_dev.process import Service, ServiceError
from fraud_dev.readiness import http_ok
from fraud_dev.say import CLUSTER_SAYS, Say

CONTROL_PLANE_ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


class ClusterError(RuntimeError):
    """The control plane cannot start or did not stop cleanly; the message says why."""


def https_ok(url: str, ca: Path, cert: Path | None = None, key: Path | None = None) -> bool:
    """A 200 over TLS verified against our CA, optionally presenting a client certificate."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert and key:
        context.load_cert_chain(str(cert), str(key))
    with urllib.request.urlopen(url, timeout=2, context=context) as response:
        return response.status == 200


@dataclass
class TeardownReport:
    stopped: dict[str, str] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)


class ControlPlane:
    def __init__(self, config: ClusterConfig, nodes: NodeProvider | None = None, say: Say = CLUSTER_SAYS):
        self.config = config
        self.nodes = nodes if nodes is not None else KwokNodes(config.kwok_nodes)
        self.say = say
        self.state = StateFile(config.run_dir / "state.json")
        self.kubectl: Tool = kubectl(config.binary("kubectl"), config.kubeconfig, config.run_dir)

    # -- public -------------------------------------------------------------------------------
    def up(self) -> None:
        """Start everything, or do nothing if this run directory's plane is already up and ready."""
        if self.is_ready():
            self.say(f"already running: KUBECONFIG={self.config.kubeconfig}")
            return
        if self.state.records():
            self.say("a previous control plane in this run directory is not ready: tearing it down first")
            self.down()
        started = time.monotonic()
        try:
            self._up()
        except BaseException:
            self.down(keep_logs=True)
            raise
        self.say(
            f"control plane ready in {time.monotonic() - started:.1f} s: export KUBECONFIG={self.config.kubeconfig}"
        )

    def down(self, keep_logs: bool = False) -> TeardownReport:
        """Stop every recorded process and remove the run directory (all but logs/ if `keep_logs`,
        after a failed start, so its cause can be read; the next `down` removes them)."""
        records = self.state.records()
        report = TeardownReport()
        by_name = {record.name: record for record in records}
        first = [r for r in records if r.name not in CONTROL_PLANE_ORDER]  # nodes: they talk to the rest
        stages = [
            first,
            [by_name[n] for n in ("kube-scheduler", "kube-controller-manager") if n in by_name],
            [by_name[n] for n in ("kube-apiserver",) if n in by_name],
            [by_name[n] for n in ("etcd",) if n in by_name],
        ]
        for stage in stages:
            if stage:
                self.say(f"stopping {', '.join(r.name for r in stage)}")
                report.stopped.update(stop(stage, timeout=60))
        if keep_logs and self.config.run_dir.is_dir():
            for path in self.config.run_dir.iterdir():
                if path == self.config.logs:
                    continue
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            self.say(f"logs kept in {self.config.logs}")
        else:
            shutil.rmtree(self.config.run_dir, ignore_errors=True)
        for path in self.nodes.host_paths():
            shutil.rmtree(path, ignore_errors=True)
        report.leftovers = self.leftovers(keep_logs)
        if report.leftovers:
            self.say("left behind: " + "; ".join(report.leftovers))
        return report

    def leftovers(self, logs_kept: bool = False) -> list[str]:
        """Processes, mounts and files of this plane that still exist (empty after a clean teardown)."""
        run_dir = self.config.run_dir
        found = processes_using(run_dir) + [f"mount {m}" for m in mounts_under(run_dir)]
        files = [*self.nodes.host_paths()] + ([] if logs_kept else [run_dir])
        found += [f"file {path}" for path in files if path.exists()]
        return found

    def is_ready(self) -> bool:
        records = self.state.records()
        if not records or not all(is_running(record) for record in records):
            return False
        try:
            return self._apiserver_ready()
        except OSError:
            return False

    def status(self) -> list[str]:
        lines = [f"run directory {self.config.run_dir}"]
        records = self.state.records()
        if not records:
            return [*lines, "not running"]
        lines += [f"{r.name}: pid {r.pid} {'running' if is_running(r) else 'STOPPED'}" for r in records]
        if self.is_ready():
            lines.append(f"kube-apiserver {self.config.apiserver_url} ready; KUBECONFIG={self.config.kubeconfig}")
            lines.append(self.kubectl.run("get", "nodes", "-o", "wide").stdout.rstrip())
        else:
            lines.append("kube-apiserver not ready")
        return lines

    # -- steps --------------------------------------------------------------------------------
    def _up(self) -> None:
        config = self.config
        self._check_prerequisites()
        config.logs.mkdir(parents=True, exist_ok=True)
        self.say(f"run directory {config.run_dir}; making certificates")
        pki.make_all(config.pki)
        pki.write_kubeconfig(config.kubeconfig, config.apiserver_url, config.pki, pki.ADMIN)
        for identity in (pki.CONTROLLER_MANAGER, pki.SCHEDULER, pki.KWOK):
            pki.write_kubeconfig(
                components.component_kubeconfig(config, identity), config.apiserver_url, config.pki, identity
            )
        ca = config.pki / "ca.crt"
        self._launch(components.etcd(config), lambda: http_ok(f"http://127.0.0.1:{config.ports.etcd}/health"), 30)
        self._launch(self._with_node_flags(components.kube_apiserver(config)), self._apiserver_ready, 90)
        self._launch(
            self._with_node_flags(components.kube_controller_manager(config)),
            lambda: https_ok(f"https://127.0.0.1:{config.ports.controller_manager}/healthz", ca),
            60,
        )
        self._launch(
            components.kube_scheduler(config),
            lambda: https_ok(f"https://127.0.0.1:{config.ports.scheduler}/healthz", ca),
            60,
        )
        started = time.monotonic()
        self.nodes.start(config, self._launch, self.kubectl)
        self.say(f"nodes Ready in {time.monotonic() - started:.1f} s")
        self._install_crds()
        # Pods are refused until the controller-manager has made it (about 5 s after its start): waited
        # for last, so the nodes and CRDs take that time instead of adding to it.
        self._wait_for(
            lambda: self.kubectl.run("get", "serviceaccount", "default", check=False).returncode == 0,
            "the default ServiceAccount",
            60,
        )

    def _check_prerequisites(self) -> None:
        missing = [
            name
            for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")
            if not Path(self.config.binary(name)).exists()
        ]
        if missing:
            raise ClusterError(
                f"not built: {', '.join(missing)} in {self.config.tools_bin}; "
                "run `make tools-cluster` (dev/tools/install --set cluster)"
            )
        if not shutil.which("openssl"):
            raise ClusterError("openssl not found: apt-get install openssl")
        try:
            self.config.ports.check_free(hint="another control plane? `make cluster-down`")
        except PortsInUse as error:
            raise ClusterError(str(error)) from error

    def _apiserver_ready(self) -> bool:
        pki_dir = self.config.pki
        return https_ok(
            f"{self.config.apiserver_url}/readyz", pki_dir / "ca.crt", pki_dir / "admin.crt", pki_dir / "admin.key"
        )

    def _with_node_flags(self, service: Service) -> Service:
        service.argv = [*service.argv, *self.nodes.control_plane_flags(service.name, self.config)]
        return service

    def _launch(self, service: Service, ready: Callable[[], bool], timeout: float) -> None:
        started = time.monotonic()
        service.start()
        assert service.pid is not None
        self.state.add(service.name, service.pid)
        service.wait_ready(ready, timeout)
        self.say(f"{service.name} ready in {time.monotonic() - started:.1f} s (pid {service.pid})")

    def _wait_for(self, check: Callable[[], bool], what: str, timeout: float) -> None:
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout:
                raise ServiceError(f"{what} did not appear within {timeout:.0f} s")
            time.sleep(0.5)
        self.say(f"{what} after {time.monotonic() - started:.1f} s")

    def _install_crds(self) -> None:
        files = sorted(p for p in CRDS_DIR.iterdir() if p.suffix in (".yaml", ".yml"))
        started = time.monotonic()
        applied = self.kubectl.run(
            "apply", "--server-side", "-o", "name", *[arg for path in files for arg in ("-f", str(path))]
        ).stdout.split()
        self.kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *applied)
        self.say(
            f"{len(applied)} CRDs from {CRDS_DIR.relative_to(CRDS_DIR.parents[1])} Established "
            f"in {time.monotonic() - started:.1f} s"
        )
