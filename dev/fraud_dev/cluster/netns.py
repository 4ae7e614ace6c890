"""A network namespace of the cluster's own, with a private mount namespace beside it.

A long-lived holder (`unshare --net --mount --propagation private sleep infinity`) keeps both
namespaces alive; daemons are started inside with `nsenter -t HOLDER -n -m --wd=DIR`. The only
interfaces are loopback, one veth pair that carries the node's address (the kubelet refuses a loopback
node IP), the bridge the CNI plugin makes for pods, and the link to the host outside the node where Kafka
runs (external.py, a namespace of its own). Nothing joins either to the host's namespace, so no packet
sent inside can leave them: Kafka, the API server, pods and Services all talk among themselves.

The private mount namespace keeps what the node's daemons write to fixed host paths off the host:
a fresh tmpfs on /run (containerd's state, the xtables lock), bind mounts from the run directory
over /var/lib/kubelet, /var/lib/cni, /var/lib/containers and /etc/cni, and a resolv.conf naming the cluster's
DNS Service, so processes beside the cluster (the StateFun runtime) resolve Service names as pods do.
On the host only the empty mount points remain, and only those this run had to create; teardown
removes them.

The test process itself joins only the network namespace, and only in its calling thread
(`entered`): setns(CLONE_NEWNET) is per thread, and the threads it starts afterwards inherit it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from fraud_dev.daemons import ProcessRecord, is_running, start_ticks

CLONE_NEWNET = 0x40000000
# Host paths the node's daemons write whatever their settings (kubelet's device-plugin socket, libcni's
# result cache, the containers/image blob cache, and the lock buildah's network backend keeps in its CNI
# configuration folder, /etc/cni/net.d/cni.lock, even with --network=none): bind mounts from the run
# directory inside. A fresh machine has none of them; the mount points made for them go at teardown.
BOUND_HOST_DIRS = (Path("/var/lib/kubelet"), Path("/var/lib/cni"), Path("/var/lib/containers"), Path("/etc/cni"))


class NamespaceError(RuntimeError):
    """The namespace could not be made or a command inside it failed; the message has its output."""


@dataclass(frozen=True)
class Addressing:
    """The node's addresses inside the namespace. Fixed: nothing outside can see or clash with them."""

    node_ip: str = "10.200.0.1"
    node_prefix: int = 24
    pod_cidr: str = "10.244.0.0/24"
    pod_gateway: str = "10.244.0.1"
    service_cidr: str = "10.96.0.0/16"
    dns_service_ip: str = "10.96.0.10"
    cluster_domain: str = "cluster.local"
    # The host outside the node (external.py): the node's end of the link, and the host's own address.
    external_gateway: str = "10.200.1.1"
    external_host: str = "10.200.1.2"
    external_prefix: int = 24


def _namespace_inode(pid: int | str, kind: str = "net") -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except OSError:
        return None


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    with open(path, "rb") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise NamespaceError(f"setns({path}) failed: {os.strerror(errno)}")


@dataclass
class Holder:
    """A `sleep infinity` in namespaces of its own (`unshare` flags), keeping them alive while commands
    run inside with `nsenter` (the same flags: "net", "mount")."""

    name: str
    namespaces: tuple[str, ...]
    record: ProcessRecord | None = None

    @property
    def pid(self) -> int:
        if self.record is None:
            raise NamespaceError(f"the {self.name} namespace holder is not running")
        return self.record.pid

    def start(self) -> None:
        flags = [f"--{kind}" for kind in self.namespaces]
        if "mount" in self.namespaces:
            flags += ["--propagation", "private"]
        holder = subprocess.Popen(
            ["unshare", *flags, "sleep", "infinity"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        ticks = start_ticks(holder.pid)
        if ticks is None:
            raise NamespaceError("unshare exited at once")
        self.record = ProcessRecord(f"{self.name}-holder", holder.pid, ticks)
        host_net = _namespace_inode("self")
        deadline = time.monotonic() + 10
        while _namespace_inode(holder.pid) in (None, host_net):  # unshare has not exec'd sleep yet
            if holder.poll() is not None or time.monotonic() > deadline:
                raise NamespaceError(f"unshare did not make a network namespace (exit {holder.poll()})")
            time.sleep(0.02)

    def stop(self, timeout: float) -> None:
        """SIGTERM what is left inside, SIGKILL it after `timeout`, then the holder."""
        if self.record is None or not is_running(self.record):
            return
        terminate(self.members, timeout)
        os.killpg(self.record.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while is_running(self.record) and time.monotonic() < deadline:
            with suppress(ChildProcessError):
                os.waitpid(self.record.pid, os.WNOHANG)
            time.sleep(0.05)

    def members(self) -> list[int]:
        """Every process whose network namespace is this one (the holder and this process excluded)."""
        if self.record is None:
            return []
        target = _namespace_inode(self.record.pid)
        if target is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if (
                entry.name.isdigit()
                and int(entry.name) not in (os.getpid(), self.record.pid)
                and _namespace_inode(entry.name) == target
                and not _is_zombie(int(entry.name))
            ):
                found.append(int(entry.name))
        return found

    def argv(self, argv: Sequence[str], wd: Path) -> list[str]:
        """`argv` run inside the namespaces, in `wd` (nsenter execs it: the pid stays the program's)."""
        flags = ["-n" if kind == "net" else "-m" for kind in self.namespaces]
        return ["nsenter", "-t", str(self.pid), *flags, f"--wd={wd}", "--", *argv]

    def run(self, *argv: str, input: str | None = None) -> str:
        result = subprocess.run(
            self.argv(argv, Path("/")),
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise NamespaceError(f"{' '.join(argv)} (inside) exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout


@dataclass
class NetworkNamespace:
    """The holder and what was set up around it; `create` then `destroy`, or use `session`."""

    run_dir: Path
    addressing: Addressing = field(default_factory=Addressing)
    holder: Holder = field(default_factory=lambda: Holder("netns", ("net", "mount")))
    made_mount_points: list[Path] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.holder.pid

    @property
    def resolv_conf(self) -> Path:
        return self.run_dir / "resolv.conf"

    # -- life cycle ---------------------------------------------------------------------------
    def create(self) -> None:
        """Start the holder, then give the namespace its interfaces, routes, sysctls and mounts."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.holder.start()
        self._configure_network()
        self._configure_mounts()

    def destroy(self, timeout: float = 20) -> list[str]:
        """Stop every process left in the namespace, then the holder; remove the mount points made on
        the host. Returns what is still there (empty when clean)."""
        self.holder.stop(timeout)
        left = [f"pid {pid} still in the namespace" for pid in self.members()]
        for path in reversed(self.made_mount_points):
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError as err:
                left.append(f"mount point {path}: {err}")
        self.made_mount_points.clear()
        return left

    def members(self) -> list[int]:
        """Every process whose network namespace is this one (the holder and this process excluded)."""
        return self.holder.members()

    # -- running things inside ----------------------------------------------------------------
    def argv(self, argv: Sequence[str], wd: Path) -> list[str]:
        """`argv` run inside both namespaces, in `wd` (nsenter execs it: the pid stays the program's)."""
        return self.holder.argv(argv, wd)

    def run(self, *argv: str, input: str | None = None) -> str:
        return self.holder.run(*argv, input=input)

    @contextmanager
    def entered(self) -> Iterator[None]:
        """Move the calling thread into the namespace's network (not its mounts) and back afterwards."""
        host = f"/proc/self/task/{threading.get_native_id()}/ns/net"
        with open(host, "rb") as saved:
            _setns(f"/proc/{self.pid}/ns/net")
            try:
                yield
            finally:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(saved.fileno(), CLONE_NEWNET) != 0:
                    raise NamespaceError(f"could not return to the host network: {os.strerror(ctypes.get_errno())}")

    # -- setup --------------------------------------------------------------------------------
    def _configure_network(self) -> None:
        a = self.addressing
        for command in (
            ["ip", "link", "set", "lo", "up"],
            # The node's address lives on one end of a veth pair whose other end is in this namespace
            # too: an interface that is not loopback, and no way out.
            ["ip", "link", "add", "node0", "type", "veth", "peer", "name", "node0-peer"],
            ["ip", "addr", "add", f"{a.node_ip}/{a.node_prefix}", "dev", "node0"],
            ["ip", "link", "set", "node0", "up"],
            ["ip", "link", "set", "node0-peer", "up"],
            # Local processes need a route to Service IPs before kube-proxy's DNAT rewrites them.
            ["ip", "route", "add", a.service_cidr, "dev", "node0"],
            ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
            ["sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1"],
        ):
            self.run(*command)
        # Pod traffic crossing the bridge must see kube-proxy's rules (per namespace since Linux 5.3).
        self.run(
            "sh",
            "-c",
            "modprobe br_netfilter 2>/dev/null; sysctl -q -w net.bridge.bridge-nf-call-iptables=1 "
            "|| echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables",
        )

    def _configure_mounts(self) -> None:
        a = self.addressing
        self.resolv_conf.write_text(
            f"nameserver {a.dns_service_ip}\n"
            f"search default.svc.{a.cluster_domain} svc.{a.cluster_domain} {a.cluster_domain}\n"
            "options ndots:5\n",
            encoding="utf-8",
        )
        self.run("mount", "-t", "tmpfs", "-o", "mode=0755,size=512m", "fraud-node-run", "/run")
        self.run("mount", "--bind", str(self.resolv_conf), "/etc/resolv.conf")
        for path in BOUND_HOST_DIRS:
            if not path.exists():
                path.mkdir(parents=True)
                self.made_mount_points.append(path)
            source = self.run_dir / "host" / path.relative_to("/")
            source.mkdir(parents=True, exist_ok=True)
            self.run("mount", "--bind", str(source), str(path))


def terminate(find: Callable[[], list[int]], timeout: float) -> None:
    """SIGTERM every process `find` names, then SIGKILL what is still there after `timeout`."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        for pid in find():
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while find() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not find():
            return


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"
