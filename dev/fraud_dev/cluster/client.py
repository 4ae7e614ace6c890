"""Running kubectl and helm against the control plane, with every file they write kept in the run directory.

kubectl caches discovery under ~/.kube/cache and helm writes ~/.cache/helm, ~/.config/helm and
~/.local/share/helm unless told otherwise; a teardown that leaves nothing behind needs them elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CommandError(RuntimeError):
    """A kubectl or helm command failed; the message has its stderr."""

    def __init__(self, argv: list[str], result: subprocess.CompletedProcess):
        self.result = result
        super().__init__(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr.strip()}")


@dataclass(frozen=True)
class Tool:
    """One binary with the environment it needs; `run` returns the finished process."""

    binary: str
    env: Mapping[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        argv = [self.binary, *args]
        result = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
            check=False,
        )
        if check and result.returncode != 0:
            raise CommandError(argv, result)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


def kubectl(binary: str, kubeconfig: Path, scratch: Path) -> Tool:
    return Tool(binary, {"KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(scratch / "kube-cache")})


def helm(binary: str, kubeconfig: Path, scratch: Path, plugins: Path) -> Tool:
    return Tool(
        binary,
        {
            "KUBECONFIG": str(kubeconfig),
            "HELM_CACHE_HOME": str(scratch / "helm" / "cache"),
            "HELM_CONFIG_HOME": str(scratch / "helm" / "config"),
            "HELM_DATA_HOME": str(scratch / "helm" / "data"),
            "HELM_PLUGINS": str(plugins),
        },
    )
