"""Every generated file, what it is made from, and the two things done with them: write them, or compare.

Two parts: what Python alone makes (the module spec template, the dashboards, the chart's files, the docs'
tables), and the kustomize tree, which `helm template` makes from the chart (so it comes second, from the
chart as the first part wrote it). `make generate` runs from the repository's root, where observability/
(the dashboards' source, which needs the test extra's grafana-foundation-sdk) is importable.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fraud_common.contract import TOPICS, Topic
from fraud_dev.generate import docs, values_reference
from fraud_dev.generate.chart import DASHBOARDS, FILES, MODULE_SPEC, chart_files, read_text
from fraud_dev.generate.kustomize import kustomize_files
from fraud_dev.generate.module_spec import template
from fraud_functions.declarations import Declared, check_ingresses, declared
from observability import dashboards as dashboard_source

Files = dict[Path, str]
Owned = tuple[tuple[Path, str], ...]


@dataclass(frozen=True)
class Declarations:
    """What the generated files are made from: the topics and the functions (a test swaps in its own)."""

    topics: Sequence[Topic]
    functions: Sequence[Declared]

    @classmethod
    def current(cls) -> Declarations:
        return cls(TOPICS, declared())


# Folders whose files of these kinds are all the Python part's: one it no longer makes is an orphan.
OWNED: Owned = ((DASHBOARDS, "*.json"), (FILES / "dashboards", "*.json"))


@functools.cache
def dashboards() -> Files:
    """observability/dashboards/*.json, from observability/dashboards.py (the same in every call of a run)."""
    return {DASHBOARDS / path.name: text for path, text in dashboard_source.rendered().items()}


def python_files(root: Path, declarations: Declarations) -> Files:
    """The generated files Python makes, by path relative to the repository at `root`."""
    check_ingresses(declarations.topics, declarations.functions)
    module_spec = template(declarations.topics)
    boards = dict(dashboards())
    return {
        MODULE_SPEC: module_spec,
        **boards,
        **chart_files(root, declarations.topics, module_spec, boards),
        docs.ARCHITECTURE: docs.architecture(root, declarations.functions, declarations.topics),
        docs.CONFIGURATION: docs.configuration(root),
        docs.SECURITY: docs.security(root, declarations.topics),
        values_reference.README: values_reference.readme(root),
    }


def helm_files(root: Path) -> Files:
    """The kustomize tree, from the chart as it is on disk under `root`."""
    return kustomize_files(root)


def orphans(root: Path, files: Mapping[Path, str], owned: Owned) -> list[Path]:
    """Files in the `owned` folders that the generator does not make (a dashboard removed from its source)."""
    return sorted(
        path.relative_to(root)
        for folder, pattern in owned
        for path in (root / folder).glob(pattern)
        if path.relative_to(root) not in files
    )


def stale(root: Path, files: Mapping[Path, str], owned: Owned = ()) -> list[Path]:
    """The generated files whose content on disk differs from what the generator makes (or that are absent),
    then the orphans of the `owned` folders."""
    differing = [path for path, text in files.items() if not (root / path).exists() or read_text(root / path) != text]
    return differing + orphans(root, files, owned)


def diff(root: Path, path: Path, text: str | None, lines: int = 40) -> str:
    """The first `lines` lines of a unified diff from the file on disk to what the generator makes (None: an
    orphan, to be deleted)."""
    if text is None:
        return f"--- {path} (on disk)\n+++ /dev/null: no longer generated\n"
    on_disk = read_text(root / path).splitlines(keepends=True) if (root / path).exists() else []
    changes = list(difflib.unified_diff(on_disk, text.splitlines(keepends=True), f"{path} (on disk)", f"{path}"))
    shown = "".join(changes[:lines])
    return shown + (f"... ({len(changes) - lines} more diff lines)\n" if len(changes) > lines else "")


def write(root: Path, files: Mapping[Path, str], owned: Owned = ()) -> list[Path]:
    """Write what changed (byte for byte, no newline translation) and delete the orphans; the paths touched."""
    changed = stale(root, files, owned)
    for path in changed:
        if path not in files:
            (root / path).unlink()
            continue
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(files[path].encode("utf-8"))
    return changed
