"""The telemetry binaries built by `dev/tools/install --set observability` report the versions dev/tools/versions pins
(the -X ldflags took effect), and the collector holds only the components the trace path uses (ADR 0006)."""

from __future__ import annotations

import json
import subprocess

from fraud_dev.stack.config import REPO_ROOT
from fraud_dev.stack.observability import TOOLS_BIN
from tests.support.required_tools import missing_tool


def pinned(tool: str) -> str:
    for line in (REPO_ROOT / "dev" / "tools" / "versions").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and fields[0] == tool:
            return fields[2]
    raise LookupError(tool)


def run(*argv: str) -> str:
    if not (TOOLS_BIN / argv[0]).exists():
        missing_tool(argv[0], "make tools-observability")
    done = subprocess.run([str(TOOLS_BIN / argv[0]), *argv[1:]], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def test_the_collector_reports_its_pin_and_holds_only_the_trace_paths_components():
    assert run("otelcol", "--version").strip() == f"otelcol version {pinned('otelcol')}"
    components = run("otelcol", "components")
    names = [line.split("name: ")[1] for line in components.splitlines() if "- name: " in line]
    assert sorted(names) == ["batch", "debug", "otlp", "otlphttp"]


def test_jaeger_reports_the_v2_release_of_its_module_version():
    minor = int(pinned("jaeger").split(".")[1])  # v1.76.0 is Jaeger v2.13.0
    version = json.loads(run("jaeger", "version"))
    assert version["gitVersion"] == f"v2.{minor - 63}.0"
