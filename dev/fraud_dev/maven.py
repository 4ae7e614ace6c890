"""Resolves the JVM classpaths with Maven, once, and reuses them until a pom changes.

`mvn package` on runtime/pom.xml builds the extension and the launcher and writes
the runtime classpath to runtime/launcher/target/classpath.txt; on
runtime/kafka/pom.xml it writes the broker's to runtime/kafka/target/classpath.txt.
The first resolution downloads about
300 MB from Maven Central into the local Maven repository (~/.m2, or
MAVEN_REPO_LOCAL); later runs work offline in a few seconds or not at all.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from fraud_common.settings import Setting
from fraud_dev.prerequisites import PrerequisiteError, maven_executable

log = logging.getLogger(__name__)

MAVEN_REPO_LOCAL = Setting(
    "MAVEN_REPO_LOCAL",
    None,
    "where Maven keeps the jars",
    shown_default="Maven's default (`~/.m2/repository`)",
)


def maven_repository() -> Path:
    """The local Maven repository the classpaths are resolved into (the image builds read it offline)."""
    repo = MAVEN_REPO_LOCAL.read()
    return Path(repo) if repo else Path.home() / ".m2" / "repository"


def _newest_input(project: Path) -> float:
    """The newest pom or Java source of the project and its modules (build output excluded)."""
    inputs = [
        path
        for pattern in ("pom.xml", "*.java")
        for path in project.rglob(pattern)
        if "target" not in path.relative_to(project).parts
    ]
    return max(path.stat().st_mtime for path in inputs)


def classpath(project: Path, output: Path, log_file: Path) -> str:
    """The classpath that `mvn package` of `project` writes to `output`, rebuilt only when an input changed."""
    return package(project, output, log_file).read_text(encoding="utf-8").strip()


def package(project: Path, output: Path, log_file: Path) -> Path:
    """`output` (a file or folder) as `mvn package` of `project` leaves it, packaged again only when an input
    changed (its time is set at each packaging: copied jars keep their own)."""
    if not output.exists() or output.stat().st_mtime < _newest_input(project):
        log.info(
            "resolving jars with Maven (the first run downloads from Maven Central)",
            extra={"project": str(project), "log": str(log_file)},
        )
        command = [maven_executable(), "-B", "-q", "-f", str(project / "pom.xml"), "package"]
        repo = MAVEN_REPO_LOCAL.read()
        if repo:
            command.insert(1, f"-Dmaven.repo.local={repo}")
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as sink:
            result = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0 or not output.exists():
            raise PrerequisiteError(f"Maven could not build {project / 'pom.xml'}; see {log_file}")
        output.touch()
    return output
