"""The repository's top level is the product and its interfaces; the workshop lives under dev/."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The card's eight, the product's own rooms, the workshop, and the files that describe and build it all.
AGREED = {
    "functions",
    "merchant-service",
    "simulator",
    "charts",
    "kustomize",
    "tests",
    "Dockerfile",
    "skaffold.yaml",
    "common",
    "runtime",
    "observability",
    "docs",
    "dev",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "constraints.txt",
    ".ci",
    ".gitignore",
    ".dockerignore",
}


def top_level(tracked: list[str]) -> set[str]:
    return {path.split("/", 1)[0] for path in tracked}


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_the_top_level_holds_only_the_agreed_entries():
    assert top_level(tracked()) == AGREED


def test_an_entry_outside_the_agreed_set_is_caught():
    assert top_level([*tracked(), "bench/__init__.py"]) - AGREED == {"bench"}


def test_the_readmes_folder_table_is_the_tree():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Where each part lives") : readme.index("## How long")]
    listed = set(re.findall(r"^\| `([^`/]+)/` \|", table, re.MULTILINE))
    folders = {entry for entry in top_level(tracked()) if (ROOT / entry).is_dir() and not entry.startswith(".")}
    assert listed == folders
