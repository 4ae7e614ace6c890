"""Stand-ins for the two JVM base images of the Dockerfile's `statefun-runtime` target, made here (docs/adr/0014).

The official `flink` and `maven` images cannot be pulled here, so images made from Debian's packages and Maven
Central are imported under their names, and the Dockerfile builds unchanged on them (`--pull=never`), as the
Python targets build on a Debian root filesystem imported as the python image (images.py):

- flink (FLINK_BASE): Debian 12 with Debian's OpenJDK 17 runtime; /opt/flink/lib with the jars of Flink's
  distribution as Maven Central serves them (runtime/flink-base/pom.xml), /opt/flink/plugins/metrics-prometheus,
  /opt/flink/conf, empty jars in /opt/flink/opt under the names the Dockerfile links (the S3 file system, not
  served), the user flink (9999), and runtime/flink-base/docker-entrypoint.sh for the official entrypoint's
  `standalone-job`, `jobmanager` and `taskmanager` commands.
- maven (MAVEN_BASE): Debian 12 with Debian's Maven and OpenJDK 17. The jar stage's RUN steps have no network:
  images.py mounts the host's local Maven repository with an offline settings file, which
  `prime_maven_repository` fills first (the same commands, online, on the host).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from fraud_dev.cluster.config import REPO_ROOT
from fraud_dev.cluster.images import ImageBuilder, ImageError, qualified
from fraud_dev.maven import maven_repository, package
from fraud_dev.prerequisites import maven_executable

FLINK_BASE_PROJECT = REPO_ROOT / "runtime" / "flink-base"
FLINK_BASE_PACKAGES = ("openjdk-17-jre-headless",)
MAVEN_BASE_PACKAGES = ("maven", "openjdk-17-jdk-headless")
# OpenJDK's postinst links its man pages (update-alternatives) into a folder the rootfs excludes' leave out.
JVM_ROOTFS_FOLDERS = ("/usr/share/man/man1",)
# The official image's user, which the chart's pods run as.
FLINK_UID = 9999
# The artifact the Dockerfile's jar stage copies by `mvn dependency:copy` from outside any project.
STATEFUN_DISTRIBUTION = "org.apache.flink:statefun-flink-distribution:3.3.0"


def dockerfile_base(arg: str) -> str:
    """The image an `ARG <arg>=<image>` line of the Dockerfile names, as the CRI and buildah look it up."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    found = re.search(rf"^ARG {arg}=(\S+)$", text, re.MULTILINE)
    if found is None:
        raise ImageError(f"the Dockerfile has no ARG {arg}=<image>")
    repository, _, tag = found.group(1).rpartition(":")
    return qualified(repository, tag)


def linked_opt_jars() -> list[str]:
    """The /opt/flink/opt jars the Dockerfile links into plugins/ (the S3 file system): an official image has them."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    return re.findall(r"ln -s (/opt/flink/opt/\S+\.jar)", text)


def empty_jar(path: Path) -> Path:
    """A jar with a manifest only: in the stand-in it takes the place of an opt/ jar Maven Central does not serve,
    so the plugin folder the Dockerfile links it into loads (Flink refuses a plugin folder without a jar) and
    provides nothing (docs/adr/0014)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: fraud-platform stand-in\n")
    return path


def flink_distribution(log: Path) -> Path:
    """runtime/flink-base/target/flink (lib/ and plugins/), copied by Maven from Maven Central the first time."""
    return package(FLINK_BASE_PROJECT, FLINK_BASE_PROJECT / "target" / "flink", log)


def prime_maven_repository(log: Path) -> None:
    """What the Dockerfile's jar stage resolves, into the host's local repository, online: its own
    `mvn dependency:copy` outside any project picks the plugin version from the repository's metadata."""
    with tempfile.TemporaryDirectory() as scratch, log.open("ab") as sink:
        result = subprocess.run(
            [
                maven_executable(),
                "-B",
                "-q",
                f"-Dmaven.repo.local={maven_repository()}",
                "dependency:copy",
                f"-Dartifact={STATEFUN_DISTRIBUTION}",
                f"-DoutputDirectory={scratch}",
            ],
            cwd=scratch,
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        raise ImageError(f"mvn dependency:copy of {STATEFUN_DISTRIBUTION} failed; see {log}")


def _inputs_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            digest.update(file.name.encode())
            digest.update(file.read_bytes() if file.stat().st_size < 1 << 20 else str(file.stat().st_size).encode())
    return digest.hexdigest()[:16]


def ensure_jvm_bases(builder: ImageBuilder, distribution: Path) -> None:
    """Import the maven and flink stand-ins under the Dockerfile's base names, unless these very ones are there."""
    maven_rootfs = builder.base_rootfs(MAVEN_BASE_PACKAGES, JVM_ROOTFS_FOLDERS)
    maven = dockerfile_base("MAVEN_BASE")
    label = f"org.fraud-platform.rootfs={maven_rootfs.name}"
    if not builder.present(maven, label):
        started = time.monotonic()
        builder.from_rootfs(maven_rootfs, maven, label, ("--cmd", '["mvn"]'))
        builder.say(f"stand-in {maven} made in {time.monotonic() - started:.0f} s")

    flink_rootfs = builder.base_rootfs(FLINK_BASE_PACKAGES, JVM_ROOTFS_FOLDERS)
    flink = dockerfile_base("FLINK_BASE")
    entrypoint = FLINK_BASE_PROJECT / "docker-entrypoint.sh"
    log4j = REPO_ROOT / "runtime" / "conf" / "log4j2.properties"
    inputs = _inputs_digest(distribution, FLINK_BASE_PROJECT / "conf", entrypoint, log4j)
    inputs += hashlib.sha256(" ".join(linked_opt_jars()).encode()).hexdigest()[:8]
    label = f"org.fraud-platform.flink-base={flink_rootfs.name}-{inputs}"
    if builder.present(flink, label):
        return

    def layout(container: str) -> None:
        for source, target in (
            (distribution / "lib", "/opt/flink/lib"),
            (distribution / "plugins", "/opt/flink/plugins"),
            (FLINK_BASE_PROJECT / "conf", "/opt/flink/conf"),
            (log4j, "/opt/flink/conf/log4j-console.properties"),
            (entrypoint, "/docker-entrypoint.sh"),
            *((empty_jar(builder.run_dir / "opt" / Path(jar).name), jar) for jar in linked_opt_jars()),
        ):
            builder.buildah("copy", container, str(source), target, log="buildah-base")
        builder.buildah(
            "run",
            "--network=none",
            container,
            "--",
            "/bin/sh",
            "-c",
            f"groupadd --system --gid={FLINK_UID} flink"
            f" && useradd --system --home-dir /opt/flink --uid={FLINK_UID} --gid=flink flink"
            " && mkdir -p /opt/flink/log /opt/flink/opt && chown -R flink:flink /opt/flink"
            " && chmod 0755 /docker-entrypoint.sh",
            log="buildah-base",
        )

    started = time.monotonic()
    config = (
        *("--env", "FLINK_HOME=/opt/flink", "--workingdir", "/opt/flink"),
        *("--entrypoint", '["/docker-entrypoint.sh"]', "--cmd", '["help"]'),
    )
    builder.from_rootfs(flink_rootfs, flink, label, config, steps=layout)
    builder.say(f"stand-in {flink} made in {time.monotonic() - started:.0f} s")
