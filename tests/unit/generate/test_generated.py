"""The drift check: every generated file is what `make generate` writes, and a hand edit fails the check.

This is the check `make test` runs first (in the unit suite): `make generate` followed by `git diff
--exit-code`, without touching the tree. The kustomize part needs helm: tests/deploy/test_sync.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fraud_dev.generate import docs
from fraud_dev.generate.__main__ import main
from fraud_dev.generate.blocks import BlockError, closing, opening
from fraud_dev.generate.chart import DASHBOARDS, FILES, MODULE_SPEC
from fraud_dev.generate.files import OWNED, Declarations, diff, python_files, stale, write
from fraud_dev.paths import REPO_ROOT
from tests.support.generator_tree import copy_generator_tree


def test_every_generated_file_is_what_make_generate_writes():
    files = python_files(REPO_ROOT, Declarations.current())
    out_of_date = stale(REPO_ROOT, files, OWNED)
    assert out_of_date == [], "run `make generate`:\n" + "".join(diff(REPO_ROOT, p, files.get(p)) for p in out_of_date)


@pytest.fixture
def current_copy(tmp_path) -> Path:
    """A copy of the tree with every generated file as the generator writes it."""
    root = copy_generator_tree(tmp_path)
    write(root, python_files(root, Declarations.current()), OWNED)
    return root


@pytest.mark.parametrize(
    "path",
    [MODULE_SPEC, FILES / "module.yaml.tmpl", FILES / "topics.yaml", FILES / "flink-conf.yaml"],
    ids=str,
)
def test_a_hand_edited_generated_file_fails_the_check(current_copy, path):
    assert stale(current_copy, python_files(current_copy, Declarations.current())) == []
    edited = current_copy / path
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    assert stale(current_copy, python_files(current_copy, Declarations.current())) == [path]


def test_a_dashboard_no_longer_generated_is_an_orphan_the_generator_deletes(current_copy):
    for folder in (DASHBOARDS, FILES / "dashboards"):
        (current_copy / folder / "retired.json").write_text("{}\n")
    files = python_files(current_copy, Declarations.current())
    orphans = [FILES / "dashboards" / "retired.json", DASHBOARDS / "retired.json"]
    assert stale(current_copy, files, OWNED) == orphans
    assert write(current_copy, files, OWNED) == orphans
    assert not (current_copy / DASHBOARDS / "retired.json").exists() and stale(current_copy, files, OWNED) == []


def test_the_command_fails_with_a_diff_and_make_generate_repairs_it(current_copy, capsys):
    spec = current_copy / "charts" / "fraud-platform" / "files" / "topics.yaml"
    spec.write_text(spec.read_text().replace("dead-letters: 1", "dead-letters: 3"))
    assert main(["--check", "--without-helm", "--root", str(current_copy)]) == 1
    out, err = capsys.readouterr()
    assert "-dead-letters: 3\n+dead-letters: 1" in out
    assert "out of date: charts/fraud-platform/files/topics.yaml (run `make generate`)" in err
    assert main(["--without-helm", "--root", str(current_copy)]) == 0
    assert main(["--check", "--without-helm", "--root", str(current_copy)]) == 0


def test_prose_around_a_generated_block_is_the_authors_but_the_block_is_not(current_copy):
    configuration = current_copy / docs.CONFIGURATION
    text = configuration.read_text()
    configuration.write_text(text.replace("# Configuration", "# Configuration reference"))
    assert stale(current_copy, python_files(current_copy, Declarations.current())) == []
    configuration.write_text(text.replace("| `FUNCTIONS_PORT` | `8000` |", "| `FUNCTIONS_PORT` | `8080` |"))
    assert stale(current_copy, python_files(current_copy, Declarations.current())) == [docs.CONFIGURATION]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda text: text.replace(closing("topics"), ""), r"missing \['topics'\]"),
        (lambda text: text + opening("tables") + closing("tables") + "\n", r"unknown \['tables'\]"),
    ],
)
def test_a_document_without_its_blocks_or_with_unknown_ones_is_an_error(current_copy, change, message):
    architecture = current_copy / docs.ARCHITECTURE
    architecture.write_text(change(architecture.read_text()))
    with pytest.raises(BlockError, match=message):
        python_files(current_copy, Declarations.current())
