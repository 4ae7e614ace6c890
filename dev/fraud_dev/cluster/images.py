"""The project's images, built from its own Dockerfile with buildah, with no registry anywhere.

- Base: a Debian 12 root filesystem made by mmdebstrap from Debian's packages (python3-venv brings
  Debian's Python 3.11 and ensurepip), imported under the upstream base image's name
  (python:3.11-slim-bookworm), so the Dockerfile's FROM resolves to it unchanged (`--pull=never`).
- Python packages: a wheelhouse made on the host by `pip download` (the project's dependencies and
  its build backend, under constraints.txt). The build mounts it read-only with a pip.conf that says
  `no-index`, only while RUN steps run (`--volume`): the Dockerfile is not changed, its RUN steps
  have no network at all (`--network=none`), and neither file ends up in a layer.
- buildah runs inside the cluster's namespaces, so the blob cache it keeps under /var/lib/containers
  lands in the run directory; its storage (base and layers) is cached under .cache/images, so an
  unchanged tree rebuilds from cache in seconds.
- Loading: `buildah push` to a docker-archive, `ctr images import` into containerd's k8s.io namespace.

mmdebstrap and pip download reach Debian's archive and PyPI through their ordinary clients, once:
the root filesystem and the wheelhouse are cached, keyed by what they are made from.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fraud_dev.cluster.config import REPO_ROOT
from fraud_dev.cluster.netns import NetworkNamespace
from fraud_dev.maven import maven_repository
from fraud_dev.say import Say

BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
BASE_PACKAGES = ("python3-venv",)
DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# What a slim image leaves out anyway.
MMDEBSTRAP_EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")
# The CRI's sandbox ("pause") container only has to sleep: the base image with `sleep infinity`.
PAUSE_IMAGE = "localhost/fraud-cluster/pause:1"
# Dockerfile target -> repository (as the chart's images.*.repository; the CRI adds docker.io/).
TARGETS = {
    "functions": "fraud-platform/functions",
    "merchant-service": "fraud-platform/merchant-service",
    "simulator": "fraud-platform/simulator",
    "statefun-runtime": "fraud-platform/statefun-runtime",
}
PIP_CONF = "[global]\nno-index = true\nfind-links = /wheels\n"
# The runtime's jar stage runs Maven with no network: on the host's local repository, which resolve_classpaths and
# jvm_bases.prime_maven_repository filled from Maven Central (docs/adr/0014).
MAVEN_SETTINGS = "<settings><offline>true</offline><localRepository>/root/.m2/repository</localRepository></settings>\n"


class ImageError(RuntimeError):
    """A build step failed; the message has the command's output or names its log."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def qualified(repository: str, tag: str) -> str:
    """The name the CRI looks an image up by, as Docker normalises it: `fraud-platform/functions:x` is
    docker.io/fraud-platform/functions:x (a first component without a dot, colon or `localhost` is no host)."""
    first = repository.split("/")[0]
    if "/" in repository and ("." in first or ":" in first or first == "localhost"):
        return f"{repository}:{tag}"
    return f"docker.io/{repository if '/' in repository else 'library/' + repository}:{tag}"


IMAGE_COMPONENTS = ("common", "functions", "merchant-service", "simulator")


def wheel_requirements(root: Path = REPO_ROOT) -> list[str]:
    """What the Dockerfile's pip installs need: every component's third-party dependencies and its build backend."""
    found: list[str] = []
    for component in IMAGE_COMPONENTS:
        project = tomllib.loads((root / component / "pyproject.toml").read_text(encoding="utf-8"))
        for requirement in (*project["project"]["dependencies"], *project["build-system"]["requires"]):
            if not requirement.startswith("fraud-") and requirement not in found:
                found.append(requirement)
    return found


@dataclass
class ImageBuilder:
    cache: Path  # .cache/images: root filesystem, wheelhouse, buildah storage
    run_dir: Path  # this run's buildah state, archives and logs
    netns: NetworkNamespace
    say: Say = print

    @property
    def storage(self) -> Path:
        return self.cache / "storage"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    # -- inputs made on the host (registries, once) --------------------------------------------
    def base_rootfs(self, packages: tuple[str, ...] = BASE_PACKAGES, folders: tuple[str, ...] = ()) -> Path:
        """A Debian root filesystem with `packages` (minbase besides), made once per package list; `folders` are made
        before anything is installed (a maintainer script may need one that the excludes leave out)."""
        key = _digest(DEBIAN_SUITE, *packages, *DEBIAN_SOURCES, *MMDEBSTRAP_EXCLUDES, *folders)
        tarball = self.cache / f"rootfs-{DEBIAN_SUITE}-{key}.tar"
        if tarball.exists():
            return tarball
        self.cache.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial")
        started = time.monotonic()
        self._run(
            [
                "nice",
                "-n",
                "10",
                "mmdebstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                *[f"--dpkgopt=path-exclude={path}" for path in MMDEBSTRAP_EXCLUDES],
                *[f'--setup-hook=mkdir -p "$1{folder}"' for folder in folders],
                '--aptopt=Acquire::Languages "none"',
                "--format=tar",
                DEBIAN_SUITE,
                str(partial),
                *DEBIAN_SOURCES,
            ],
            "mmdebstrap",
        )
        partial.rename(tarball)
        self.say(
            f"Debian {DEBIAN_SUITE} root filesystem with {', '.join(packages)} made by mmdebstrap"
            f" in {time.monotonic() - started:.0f} s"
        )
        return tarball

    def wheelhouse(self) -> Path:
        requirements = wheel_requirements()
        constraints = (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8")
        folder = self.cache / f"wheels-{_digest(*requirements, constraints)}"
        if folder.is_dir():
            return folder
        partial = folder.with_suffix(".partial")
        started = time.monotonic()
        self._run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--only-binary=:all:",
                "--dest",
                str(partial),
                "--constraint",
                str(REPO_ROOT / "constraints.txt"),
                *requirements,
            ],
            "pip-download",
        )
        partial.rename(folder)
        self.say(
            f"wheelhouse of {len(list(folder.iterdir()))} wheels by pip download in {time.monotonic() - started:.0f} s"
        )
        return folder

    # -- buildah inside the namespace ----------------------------------------------------------
    def buildah(self, *args: str, log: str) -> str:
        argv = [
            "buildah",
            "--root",
            str(self.storage),
            "--runroot",
            str(self.run_dir / "buildah-run"),
            "--storage-driver",
            "overlay",
            *args,
        ]
        return self._run(self.netns.argv(argv, REPO_ROOT), log)

    def present(self, name: str, label: str) -> bool:
        """Whether image `name` is in the storage with `label` (key=value): made from these very inputs."""
        found = self.buildah(
            "images",
            "--noheading",
            "--filter",
            f"label={label}",
            "--format",
            "{{.Name}}:{{.Tag}}",
            log="buildah-images",
        )
        return name in found.split()

    def from_rootfs(
        self, rootfs: Path, name: str, label: str, config: tuple[str, ...], steps: Callable[[str], None] | None = None
    ) -> None:
        """Commit image `name` from a root filesystem tarball: `steps(container)` (copies, commands) run on it
        before `buildah config` with the label, a standard PATH and LANG, and `config`'s further options."""
        container = self.buildah("from", "scratch", log="buildah-base").strip()
        self.buildah("add", container, str(rootfs), "/", log="buildah-base")
        if steps is not None:
            steps(container)
        self.buildah(
            "config",
            "--label",
            label,
            "--env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--env",
            "LANG=C.UTF-8",
            *config,
            container,
            log="buildah-base",
        )
        self.buildah("commit", "--rm", "--quiet", container, name, log="buildah-base")

    def ensure_base(self) -> None:
        """Import the root filesystem as the base image, unless this very one is imported already."""
        rootfs = self.base_rootfs()
        label = f"org.fraud-platform.rootfs={rootfs.name}"
        if self.present(BASE_IMAGE, label):
            return
        started = time.monotonic()
        self.from_rootfs(rootfs, BASE_IMAGE, label, ("--cmd", '["python3"]'))
        pause = self.buildah("from", "--pull=never", BASE_IMAGE, log="buildah-base").strip()
        self.buildah("config", "--entrypoint", '["/bin/sleep", "infinity"]', "--cmd", "", pause, log="buildah-base")
        self.buildah("commit", "--rm", "--quiet", pause, PAUSE_IMAGE, log="buildah-base")
        self.say(f"base image {BASE_IMAGE} imported from {rootfs.name} in {time.monotonic() - started:.0f} s")

    def build(self, target: str, tag: str, build_label: str) -> str:
        """Build one Dockerfile target; `build_label` makes otherwise identical builds distinct images."""
        wheels = self.wheelhouse()
        pip_conf = self.run_dir / "pip.conf"
        pip_conf.write_text(PIP_CONF, encoding="utf-8")
        maven_settings = self.run_dir / "maven-settings.xml"
        maven_settings.write_text(MAVEN_SETTINGS, encoding="utf-8")
        name = qualified(TARGETS[target], tag)
        started = time.monotonic()
        self.buildah(
            "bud",
            "--network=none",
            "--pull=never",
            "--layers",
            "--quiet",
            "--target",
            target,
            "--label",
            f"org.fraud-platform.build={build_label}",
            "--volume",
            f"{wheels}:/wheels:ro",
            "--volume",
            f"{pip_conf}:/etc/pip.conf:ro",
            "--volume",
            f"{maven_repository()}:/root/.m2/repository",
            "--volume",
            f"{maven_settings}:/root/.m2/settings.xml:ro",
            "--file",
            str(REPO_ROOT / "Dockerfile"),
            "--tag",
            name,
            str(REPO_ROOT),
            log=f"build-{target}",
        )
        self.say(f"{name} built in {time.monotonic() - started:.1f} s")
        return name

    def export(self, name: str) -> Path:
        archive = self.run_dir / "archives" / f"{_digest(name)}.tar"
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.unlink(missing_ok=True)
        self.buildah("push", "--quiet", name, f"docker-archive:{archive}:{name}", log="buildah-push")
        return archive

    # -- plumbing -------------------------------------------------------------------------------
    def _run(self, argv: list[str], log: str) -> str:
        self.logs.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        with (self.logs / f"{log}.log").open("a", encoding="utf-8") as sink:
            sink.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            raise ImageError(
                f"{' '.join(argv[:6])}... exited {result.returncode} (log {self.logs / log}.log):\n"
                f"{result.stderr.strip()[-2000:]}"
            )
        return result.stdout


def import_into_containerd(archives: list[Path], ctr: list[str]) -> None:
    """`ctr images import` each archive into the k8s.io namespace (the one the CRI plugin serves)."""
    for archive in archives:
        result = subprocess.run(
            [*ctr, "--namespace", "k8s.io", "images", "import", str(archive)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ImageError(f"ctr images import {archive} exited {result.returncode}: {result.stderr.strip()}")
