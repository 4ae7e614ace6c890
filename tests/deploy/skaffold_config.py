"""skaffold.yaml as data, and skaffold run the only way these tests may: offline, in a scratch HOME,
without network (`unshare -n` where the kernel allows it), metrics and update checks off."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.deploy.tools import CACHE, ROOT, TOOLS_BIN, Result, run, tool

SKAFFOLD_YAML = ROOT / "skaffold.yaml"
SCHEMA = ROOT / "dev" / "third_party" / "skaffold" / "v4beta13.json"
HOME = CACHE / "skaffold-home"
GLOBAL_CONFIG = "global:\n  collect-metrics: false\n  update:\n    check: false\n  survey:\n    disable-prompt: true\n"


def configs(path: Path = SKAFFOLD_YAML) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def artifact_images(path: Path = SKAFFOLD_YAML) -> set[str]:
    """The image names skaffold builds."""
    return {artifact["image"] for config in configs(path) for artifact in config.get("build", {}).get("artifacts", [])}


def skaffold(*args: str, cwd: Path = ROOT) -> Result:
    """Run skaffold with no way to phone home; helm and kubectl come from the pinned tools."""
    (HOME / ".skaffold").mkdir(parents=True, exist_ok=True)
    (HOME / ".skaffold" / "config").write_text(GLOBAL_CONFIG, encoding="utf-8")
    command = [tool("skaffold"), *args]
    if shutil.which("unshare") and run(["unshare", "-n", "true"]).returncode == 0:
        command = ["unshare", "-n", *command]
    return run(
        command,
        cwd=cwd,
        env={
            "HOME": str(HOME),
            "SKAFFOLD_UPDATE_CHECK": "false",
            "SKAFFOLD_COLLECT_METRICS": "false",
            "PATH": f"{TOOLS_BIN}:/usr/bin:/bin",
        },
    )


def render(*profiles: str, cwd: Path = ROOT) -> Result:
    """`skaffold render` offline, images tagged (not resolved to digests). `offline` comes last: skaffold applies
    profiles in the order named, and `offline` empties the operators' releases that `monitoring` appends to."""
    return skaffold(
        "render", "--offline=true", "--digest-source=tag", "--profile", ",".join((*profiles, "offline")), cwd=cwd
    )
