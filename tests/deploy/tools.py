"""Paths of the project and of the pinned tools (`make tools`), and one way to run them.

The tools are installed by dev/tools/install into .cache/tools/bin; these tests never
download anything. A missing tool is a failure that names `make tools`, not a skip:
`make verify-deploy` must prove what it claims or fail.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "fraud-platform"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
KUSTOMIZE = ROOT / "kustomize"
CACHE = ROOT / ".cache"
TOOLS_BIN = CACHE / "tools" / "bin"
HELM_PLUGINS = CACHE / "tools" / "helm-plugins"
CRD_SCHEMAS = ROOT / "dev" / "third_party" / "crds" / "jsonschema"
KUBE_VERSION = "1.34.0"


def tool(name: str) -> str:
    """Absolute path of a pinned tool; fails naming `make tools` when it is missing."""
    path = TOOLS_BIN / name
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is missing: run `make tools`")
    return str(path)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(
    args: Sequence[str],
    *,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    stdin: str | None = None,
) -> Result:
    """Run a tool with a bounded time; never raises on a non-zero exit (callers assert on it)."""
    full_env = {**os.environ, "HELM_PLUGINS": str(HELM_PLUGINS), **(env or {})}
    done = subprocess.run(
        list(args), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, input=stdin
    )
    return Result(done.returncode, done.stdout, done.stderr)


def helm_template(*extra: str, chart: Path = CHART, release: str = "fraud", namespace: str = "fraud") -> Result:
    """`helm template` with the Kubernetes version the platform targets, tests included."""
    return run(
        [
            tool("helm"),
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--kube-version",
            KUBE_VERSION,
            *extra,
        ]
    )


def documents(text: str) -> list[dict]:
    """The non-empty YAML documents of a multi-document stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def merged_values(values_file: Path) -> dict:
    """The chart's values.yaml with a ci/ values file over it (maps merge, everything else replaces)."""

    def merge(base: dict, over: dict) -> dict:
        return {
            **base,
            **{
                k: merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
                for k, v in over.items()
            },
        }

    base = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    return merge(base, yaml.safe_load(values_file.read_text(encoding="utf-8")) or {})
