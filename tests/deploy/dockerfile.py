"""A small reader and linter of the project's Dockerfile (no Docker here, so its structure is what can be proved).

The rules are the image contract of docs/kubernetes.md: one target per component; Python images on a
pinned slim Debian Python 3.11 base with the venv from a builder stage, no compilers and no RUN in the
final stages, a numeric non-root user, python3 and the venv called by path only; the runtime image on
the pinned upstream Flink image of ADR 0001's version with the jars where the FlinkDeployment expects them.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

PYTHON_TARGETS = ("functions", "merchant-service", "simulator")
RUNTIME_TARGET = "statefun-runtime"
COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cc)\b")
# A command (start of RUN, after && ; | or an exec-form's first element) that is python/pip found on PATH.
BARE_PYTHON = re.compile(r"(^|&&|;|\||\[\s*\")\s*(python|pip|pip3)[\s\"]")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: dict[str, Stage]

    def chain(self, target: str) -> list[Stage]:
        """The target and the stages it is built FROM, nearest first."""
        stages = []
        name = target
        while name in self.stages:
            stages.append(self.stages[name])
            name = self.stages[name].base
        return stages

    def resolved_base(self, target: str) -> str:
        """The external image the target finally builds on, build args substituted."""
        base = self.chain(target)[-1].base
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), m.group(0)), base)

    def last(self, target: str, keyword: str) -> str | None:
        for stage in self.chain(target):
            found = stage.all(keyword)
            if found:
                return found[-1]
        return None

    def env(self, target: str) -> dict[str, str]:
        """ENV of the target, inherited values first (KEY=VALUE form only)."""
        values: dict[str, str] = {}
        for stage in reversed(self.chain(target)):
            for args in stage.all("ENV"):
                for pair in shlex.split(args):
                    key, _, value = pair.partition("=")
                    values[key] = value
        return values

    def command(self, target: str) -> list[str]:
        """ENTRYPOINT + CMD (exec form) the container runs."""
        entrypoint = json.loads(self.last(target, "ENTRYPOINT") or "[]")
        cmd = json.loads(self.last(target, "CMD") or "[]")
        return entrypoint + cmd


def parse(text: str) -> Dockerfile:
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and current is None:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else f"stage{len(stages)}"
            current = stages[name] = Stage(name, parts[0])
        elif current is not None:
            current.instructions.append((keyword, rest.strip()))
    return Dockerfile(args, stages)


def lint(text: str, flink_version: str) -> list[str]:
    """Problems of the Dockerfile against the image contract; empty when it holds."""
    dockerfile = parse(text)
    problems = []
    for target in (*PYTHON_TARGETS, RUNTIME_TARGET):
        if target not in dockerfile.stages:
            problems.append(f"no target {target}")
    if problems:
        return problems
    for target in PYTHON_TARGETS:
        base = dockerfile.resolved_base(target)
        if not re.fullmatch(
            r"(docker\.io/(library/)?)?python:3\.11(\.\d+)?-slim-bookworm(@sha256:[0-9a-f]{64})?", base
        ):
            problems.append(f"{target}: base {base} is not a pinned slim Debian 12 Python 3.11")
        if any(stage.all("RUN") for stage in dockerfile.chain(target)):
            problems.append(f"{target}: RUN in the final image (build in the builder stage)")
        command = dockerfile.command(target)
        if not command or not command[0].startswith("/opt/venv/bin/"):
            problems.append(f"{target}: entrypoint {command} does not call the venv by path")
        if "/opt/venv" not in " ".join(s for stage in dockerfile.chain(target) for s in stage.all("COPY")):
            problems.append(f"{target}: the venv is not copied from a builder stage")
    for target in (*PYTHON_TARGETS, RUNTIME_TARGET):
        user = dockerfile.last(target, "USER")
        if user is None or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user):
            problems.append(f"{target}: USER {user} is not a numeric non-root UID[:GID]")
    for stage in dockerfile.stages.values():
        for keyword, args in stage.instructions:
            if keyword in ("RUN", "ENTRYPOINT", "CMD") and BARE_PYTHON.search(args):
                problems.append(
                    f"stage {stage.name}: {keyword} calls python/pip by name (use python3 or /opt/venv/bin/...)"
                )
            if keyword == "RUN" and "apt-get install" in args and COMPILERS.search(args):
                problems.append(f"stage {stage.name}: installs a compiler")
    runtime_base = dockerfile.resolved_base(RUNTIME_TARGET)
    if not re.fullmatch(
        rf"flink:{re.escape(flink_version)}-scala_2\.12-java(11|17)(@sha256:[0-9a-f]{{64}})?", runtime_base
    ):
        problems.append(f"{RUNTIME_TARGET}: base {runtime_base} is not the pinned Flink {flink_version} image")
    copies = " ".join(dockerfile.stages[RUNTIME_TARGET].all("COPY"))
    for jar in ("/opt/flink/lib/statefun-flink-distribution.jar", "/opt/flink/lib/statefun-fraud-extension.jar"):
        if jar not in copies:
            problems.append(f"{RUNTIME_TARGET}: nothing is copied to {jar}")
    if "flink-metrics-prometheus" in copies:
        problems.append(f"{RUNTIME_TARGET}: a second Prometheus reporter next to the image's plugin")
    return problems


def copied_paths(text: str) -> list[str]:
    """Build-context paths the Dockerfile COPYs (not --from another stage)."""
    paths = []
    for stage in parse(text).stages.values():
        for args in stage.all("COPY"):
            parts = [p for p in args.split() if not p.startswith("--")]
            if "--from" not in args:
                paths += parts[:-1]
    return paths


def dockerignore_allows(ignore_text: str, path: str) -> bool:
    """Whether a context path survives .dockerignore (last matching pattern wins; directories by prefix)."""
    allowed = True
    for raw in ignore_text.splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(regex + "(/.*)?", path.rstrip("/")):
            allowed = negate
    return allowed


# Each image and the product folders it is built from: a Python image fraud_common and its own component, the
# runtime's only runtime/ (its jars' build stage), nothing else.
COMPONENT_FOLDERS = {
    "functions": {"common/", "functions/"},
    "merchant-service": {"common/", "merchant-service/"},
    "simulator": {"common/", "simulator/"},
    RUNTIME_TARGET: {"runtime/"},
}
# What exists only to run and test the product here: never in an image.
WORKSHOP_FOLDERS = ("dev/", "tests/")


def folders_copied_into(text: str, target: str) -> set[str]:
    """The top-level folders of the build context that reach `target`: COPYs of its own chain and of the
    stages it copies from (--from), followed transitively."""
    dockerfile = parse(text)
    seen: set[str] = set()
    folders: set[str] = set()
    pending = [target]
    while pending:
        for stage in dockerfile.chain(pending.pop()):
            if stage.name in seen:
                continue
            seen.add(stage.name)
            for args in stage.all("COPY"):
                source = re.search(r"--from=(\S+)", args)
                if source:
                    pending.append(source.group(1))
                    continue
                parts = [part for part in args.split() if not part.startswith("--")]
                folders |= {part.split("/", 1)[0] + "/" for part in parts[:-1] if "/" in part}
    return folders


def context_problems(root: Path, text: str, ignore_text: str, tracked: list[str]) -> list[str]:
    """COPY sources that do not exist or that .dockerignore keeps out of the context; an image built from other
    product folders than its own; and any tracked file of the workshop the context would hold."""
    problems = []
    for path in copied_paths(text):
        if not (root / path).exists():
            problems.append(f"COPY {path}: no such path")
        elif not dockerignore_allows(ignore_text, path):
            problems.append(f"COPY {path}: excluded by .dockerignore")
    for target, expected in COMPONENT_FOLDERS.items():
        found = folders_copied_into(text, target)
        if found != expected:
            problems.append(f"{target}: built from {sorted(found)}, not only {sorted(expected)}")
    problems += [
        f"{path} (workshop) reaches the build context"
        for path in tracked
        if path.startswith(WORKSHOP_FOLDERS) and dockerignore_allows(ignore_text, path)
    ]
    return problems
