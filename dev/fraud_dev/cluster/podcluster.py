"""The whole real-node cluster in one network namespace: up in dependency order, down leaving nothing.

Up: what needs the registries first, on the host (the Debian root filesystems, the wheelhouse, the
JVM classpaths and jars); then the namespace and the host outside the node (external.py); the images, built
inside it (the runtime's on stand-ins for its JVM bases, jvm_bases.py); then, with this process's thread in the
namespace, the control plane with a `RealNode` (containerd, kubelet, CNI, kube-proxy, CoreDNS, metrics-server,
kube-network-policies) and Kafka (on the external host). The StateFun runtime is the chart's, in pods.

Down: Kafka; every process left in the namespace (pods, shims, daemons, the control
plane); the control plane's run directory; the node's cgroups; the external host, the namespace and the
mount points made for it. `leftovers` then lists anything of it still on the host: processes, mounts, cgroups, files the
node's daemons would write by default, and iptables rules in the host's namespace (kube-proxy's and the
kubelet's live only inside).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fraud_dev.cluster.beside import BesideStack, resolve_classpaths
from fraud_dev.cluster.client import Tool, helm
from fraud_dev.cluster.config import REPO_ROOT, ClusterConfig, ClusterPorts
from fraud_dev.cluster.external import ExternalHost
from fraud_dev.cluster.images import PAUSE_IMAGE, ImageBuilder
from fraud_dev.cluster.jvm_bases import (
    FLINK_BASE_PACKAGES,
    JVM_ROOTFS_FOLDERS,
    MAVEN_BASE_PACKAGES,
    ensure_jvm_bases,
    flink_distribution,
    prime_maven_repository,
)
from fraud_dev.cluster.netns import BOUND_HOST_DIRS, NamespaceError, NetworkNamespace, terminate
from fraud_dev.cluster.plane import ControlPlane
from fraud_dev.cluster.realnode import CGROUP_FS, CGROUP_ROOT, RealNode
from fraud_dev.daemons import mounts_under, processes_using
from fraud_dev.say import Say
from fraud_dev.stack.config import Ports, StackConfig

# Written by containerd, runc, libcni, buildah and the kubelet when their defaults are used: inside the
# namespace they are a tmpfs or bind mounts, so on the host none of them may appear (if absent before).
DEFAULT_HOST_PATHS = (
    Path("/run/containerd"),
    Path("/run/containers"),
    Path("/run/runc"),
    Path("/var/run/netns"),
    Path("/etc/cni/net.d"),
    Path("/opt/cni"),
    Path("/opt/containerd"),
    Path("/var/lib/containerd"),
    Path("/var/run/kubernetes"),
    *BOUND_HOST_DIRS,
)


# Machine-wide (/run/lock is the standard place for such locks, emptied at boot); never removed, as the lock
# file of a waiting run must stay the same file.
MACHINE_LOCK = Path("/run/lock/fraud-real-node.lock")
# The root filesystems, the wheelhouse and buildah's storage, kept between runs (images.py).
IMAGE_CACHE = REPO_ROOT / ".cache" / "images"


@dataclass
class PodClusterSpec:
    """What to build."""

    image_tags: Mapping[str, tuple[str, ...]]  # Dockerfile target -> tags, each one a distinct build
    kafka_port: int = 9092


@dataclass
class PodCluster:
    run_dir: Path
    spec: PodClusterSpec
    tools_bin: Path = REPO_ROOT / ".cache" / "tools" / "bin"
    image_cache: Path = IMAGE_CACHE
    say: Say = print
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.netns = NetworkNamespace(self.run_dir / "netns")
        self.external = ExternalHost(self.netns)
        self.plane_config = ClusterConfig(
            run_dir=self.run_dir / "plane", ports=ClusterPorts(), tools_bin=self.tools_bin
        )
        self.stack_config = StackConfig(
            run_dir=self.run_dir / "stack", ports=Ports(kafka=self.spec.kafka_port), observability=False
        )
        self.node: RealNode | None = None
        self.plane: ControlPlane | None = None
        self.stack: BesideStack | None = None
        self._exit = ExitStack()
        self._lock: BinaryIO | None = None
        self._host_before = _host_state()

    # -- up -----------------------------------------------------------------------------------
    def __enter__(self) -> PodCluster:
        # One real node per machine at a time: its cgroup tree, its host mount points and the teardown's
        # comparison of the host before and after are machine-wide. A second run waits for the first.
        self._lock = open(MACHINE_LOCK, "a+b")  # held until down()
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._host_before = _host_state()
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.down()

    def _up(self) -> None:
        builder = ImageBuilder(self.image_cache, self.run_dir / "images", self.netns, say=self.say)
        with self._timed("registry inputs (root filesystems, wheelhouse, JVM classpaths and jars)"):
            distribution = registry_inputs(builder, self.stack_config)
        self.netns.create()
        self.external.create()
        with self._timed("images built"):
            names = build_images(builder, distribution, self.spec.image_tags)
        with self._timed("images exported"):
            archives = [builder.export(name) for name in names]
        self._exit.enter_context(self.netns.entered())
        self.node = RealNode(self.netns, images=archives)
        self.plane = ControlPlane(self.plane_config, nodes=self.node, say=self.say)
        with self._timed("control plane and node"):
            self.plane.up()
        self.stack = BesideStack(self.stack_config, self.external, say=self.say)
        with self._timed("Kafka"):
            self.stack.start()

    # -- down ---------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop and remove everything; returns what is left (empty when the teardown is complete)."""
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        node = self.node
        terminate(lambda: self.netns.members() + (node.cgroup_members() if node else []), timeout=5)
        if self.plane is not None:
            self.plane.down()
            self.plane = None
        if self.node is not None:
            _remove_cgroups(self.node.host_paths())
        self._exit.close()  # this thread back in the host's network namespace
        left = self.external.destroy() + self.netns.destroy()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        left += self.leftovers()
        if self._lock is not None:
            self._lock.close()  # releases the machine's lock
            self._lock = None
        return left

    def leftovers(self) -> list[str]:
        found = processes_using(self.run_dir) + [f"mount {m}" for m in mounts_under(self.run_dir)]
        found += [f"cgroup {path}" for path in CGROUP_FS.glob(f"*/{CGROUP_ROOT}")]
        if self.run_dir.exists():
            found.append(f"file {self.run_dir}")
        after = _host_state()
        found += [f"file {path} (created during the run)" for path in after["paths"] - self._host_before["paths"]]
        found += [
            f"host iptables rule {rule}" for rule in sorted(set(after["iptables"]) - set(self._host_before["iptables"]))
        ]
        found += [f"host interface {name}" for name in sorted(set(after["links"]) - set(self._host_before["links"]))]
        return found

    # -- for tests ----------------------------------------------------------------------------
    @property
    def kubectl(self) -> Tool:
        assert self.plane is not None
        return self.plane.kubectl

    def helm(self) -> Tool:
        return helm(
            self.plane_config.binary("helm"),
            self.plane_config.kubeconfig,
            self.plane_config.run_dir,
            REPO_ROOT / ".cache" / "tools" / "helm-plugins",
        )

    @contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.timings[what] = time.monotonic() - started
        self.say(f"{what}: {self.timings[what]:.1f} s")


def registry_inputs(builder: ImageBuilder, stack_config: StackConfig) -> Path:
    """Everything the cluster's start takes from the registries, made on the host (cached after the first time):
    the Debian root filesystems, the wheelhouse, the JVM classpaths and the local Maven repository the runtime's
    jar stage builds from offline. Returns the Flink distribution the runtime's stand-in base is laid out from."""
    builder.base_rootfs()
    for packages in (FLINK_BASE_PACKAGES, MAVEN_BASE_PACKAGES):
        builder.base_rootfs(packages, JVM_ROOTFS_FOLDERS)
    builder.wheelhouse()
    resolve_classpaths(stack_config)
    maven_log = stack_config.logs / "maven.log"
    maven_log.parent.mkdir(parents=True, exist_ok=True)  # Maven may have nothing to do before the priming
    distribution = flink_distribution(maven_log)
    prime_maven_repository(maven_log)
    return distribution


def build_images(builder: ImageBuilder, distribution: Path, image_tags: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The bases, then every Dockerfile target under each of its tags (one build per tag); the names to load."""
    builder.ensure_base()
    ensure_jvm_bases(builder, distribution)
    return [PAUSE_IMAGE] + [
        builder.build(target, tag, build_label=tag) for target, tags in image_tags.items() for tag in tags
    ]


def prepare_images(spec: PodClusterSpec, run_dir: Path, image_cache: Path = IMAGE_CACHE, say: Say = print) -> None:
    """What `PodCluster`'s start makes before the node, made ahead into the caches (`make test` runs this in the
    background while the JVM suites run, so a fresh machine's cluster suite finds its inputs and images built):
    the registry inputs, then every image, built in a namespace of its own that goes at the end. The cluster's
    start then finds them all cached; whatever this did not finish, it makes itself."""
    netns = NetworkNamespace(run_dir / "netns")
    builder = ImageBuilder(image_cache, run_dir / "images", netns, say=say)
    with open(MACHINE_LOCK, "a+b") as lock:  # its namespace's host mount points: as a cluster's, one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        distribution = registry_inputs(builder, StackConfig(run_dir=run_dir / "stack", observability=False))
        try:
            netns.create()
            build_images(builder, distribution, spec.image_tags)
        finally:
            left = netns.destroy()
            shutil.rmtree(run_dir, ignore_errors=True)
    if left:
        raise NamespaceError(f"the image namespace left {', '.join(left)}")


def _remove_cgroups(roots: tuple[Path, ...]) -> None:
    """rmdir each cgroup tree bottom-up (cgroupfs has no unlink; its directories go once empty)."""
    for root in roots:
        if not root.exists():
            continue
        for directory, _, _ in sorted(os.walk(root), key=lambda entry: -entry[0].count("/")):
            with suppress(OSError):
                os.rmdir(directory)


def _host_state() -> dict:
    """What the host's own namespaces show, to compare before and after a run."""
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout.splitlines()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout.splitlines()
    return {
        "paths": {path for path in DEFAULT_HOST_PATHS if path.exists()},
        "iptables": [rule for rule in rules if not rule.startswith(("#", ":"))],
        "links": [line.split(":")[1].strip().split("@")[0] for line in links if ":" in line],
    }
