"""Kubernetes JSON schemas for kubeconform, made offline from the PyPI package kubernetes-validate.

kubernetes-validate ships the schemas of Kubernetes 1.25-1.37 (`*-local-strict`: no additional
properties allowed), but every file's `$ref`s point into a shared `_definitions.json` under a
kubernetes.io `$id`, which kubeconform would try to fetch. This module rewrites each resource
schema into standalone form: the definitions it reaches are copied into its own `$defs` and the
references made local. Output, with a PROVENANCE file, goes to .cache/k8s-schemas/<version>-standalone-strict,
named like kubeconform expects (`{kind}-{group}-{version}.json`).

Usage: python -m tests.deploy.k8s_schemas  (the wheel is fetched by pip into .cache once)
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.deploy.tools import CACHE, KUBE_VERSION

PACKAGE = "kubernetes-validate"
PACKAGE_VERSION = "1.37.0"
WHEEL_DIR = CACHE / "k8s-schemas" / "wheel"
SOURCE_DIR = f"kubernetes_validate/kubernetes-json-schema/v{KUBE_VERSION}-local-strict/"
REF_PREFIX = "/api/_definitions.json#/$defs/"
LOCAL_PREFIX = "#/$defs/"


def schema_dir(version: str = KUBE_VERSION) -> Path:
    return CACHE / "k8s-schemas" / f"v{version}-standalone-strict"


def wheel() -> Path:
    """The pinned wheel, downloaded by pip (the ordinary client of the registry) on first use."""
    found = sorted(WHEEL_DIR.glob(f"kubernetes_validate-{PACKAGE_VERSION}-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                str(WHEEL_DIR),
                f"{PACKAGE}=={PACKAGE_VERSION}",
            ],
            check=True,
            timeout=600,
        )
        found = sorted(WHEEL_DIR.glob(f"kubernetes_validate-{PACKAGE_VERSION}-*.whl"))
    return found[0]


def _refs(node: Any) -> set[str]:
    """Names of the definitions `node` refers to, by the shared file's URL or (inside it) locally."""
    if isinstance(node, dict):
        ref = str(node.get("$ref", ""))
        found = {ref.split("#/$defs/", 1)[1]} if ref.startswith((REF_PREFIX, LOCAL_PREFIX)) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _localise(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                LOCAL_PREFIX + value[len(REF_PREFIX) :]
                if key == "$ref" and str(value).startswith(REF_PREFIX)
                else _localise(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_localise(value) for value in node]
    return node


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the definitions it reaches inlined and every reference local; no `$id` to resolve against."""
    needed: set[str] = set()
    pending = _refs(schema)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending |= _refs(definitions[name])
    result = {key: value for key, value in _localise(schema).items() if key != "$id"}
    result["$defs"] = {name: _localise(definitions[name]) for name in sorted(needed)}
    return result


def build(out: Path | None = None) -> Path:
    """Write the standalone schemas of every top-level resource kind; idempotent (skips a finished build)."""
    out = out or schema_dir()
    provenance = out / "PROVENANCE.md"
    if provenance.exists():
        return out
    source = wheel()
    with zipfile.ZipFile(source) as archive:
        definitions = json.loads(archive.read(SOURCE_DIR + "_definitions.json"))["$defs"]
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        for name in archive.namelist():
            if not name.startswith(SOURCE_DIR) or name.endswith(("/_definitions.json", "/all.json")):
                continue
            schema = json.loads(archive.read(name))
            if "x-kubernetes-group-version-kind" not in schema:
                continue  # a sub-object, not something a manifest can be
            (out / Path(name).name).write_text(json.dumps(standalone(schema, definitions)), encoding="utf-8")
            written += 1
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    provenance.write_text(
        f"# Provenance\n\n- source: PyPI `{PACKAGE}=={PACKAGE_VERSION}`, file `{source.name}` (sha256 {digest})\n"
        f"- from: `{SOURCE_DIR}` (Kubernetes v{KUBE_VERSION}, strict)\n"
        f"- transformed by: tests/deploy/k8s_schemas.py (definitions inlined, `$ref`s local, `$id` dropped)\n"
        f"- resource schemas: {written}\n- made: {datetime.now(UTC).isoformat(timespec='seconds')}\n",
        encoding="utf-8",
    )
    return out


if __name__ == "__main__":
    print(build())
