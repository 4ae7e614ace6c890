"""docs/reliability.md's results table is the suite's own: a row for every scenario the tests record, by the names
they record under (tests/reliability/names.py), each once, and the commit it was measured on.

Until a passing run of every scenario is committed the block says so and holds no row at all, so a table typed
by hand cannot stand in for one.
"""

from __future__ import annotations

import re

from fraud_dev.paths import REPO_ROOT
from tests.reliability import names, results_doc

DOCUMENT = (REPO_ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
NOT_YET = "No passing run of every scenario recorded yet."


def measured() -> bool:
    return NOT_YET not in DOCUMENT.split(results_doc.BEGIN, 1)[1].split(results_doc.END, 1)[0]


def mismatch(document: str) -> dict[str, list[str]]:
    """How the block's scenario names differ from the tests'; empty when they are the same, each once."""
    found = results_doc.scenario_names(document)
    differences = {
        "in the table only": sorted(set(found) - set(names.SCENARIOS)),
        "recorded by the tests only": sorted(set(names.SCENARIOS) - set(found)),
        "twice": sorted({name for name in found if found.count(name) > 1}),
    }
    return {what: which for what, which in differences.items() if which}


def test_the_committed_table_has_a_row_for_each_scenario_the_tests_record_and_no_other():
    if not measured():
        assert results_doc.scenario_names(DOCUMENT) == [], "rows in a block that says no run was recorded"
        return
    assert mismatch(DOCUMENT) == {}


def test_a_table_missing_renaming_or_repeating_a_scenario_differs():
    def document(scenarios) -> str:
        rows = "".join(f"| {name} | 1 | 0 | 0 | 0 | `{{}}` | 0 | 0 |  |\n" for name in scenarios)
        return results_doc.block(results_doc.HEADER + rows, "`0123456789ab`", "2026-12-02", 14.0)

    assert mismatch(document(names.SCENARIOS)) == {}
    assert mismatch(document(names.SCENARIOS[:-1])) == {"recorded by the tests only": [names.SCENARIOS[-1]]}
    renamed = ("soak: 300 s at 100 tx/s", *names.SCENARIOS[:-1])
    assert set(mismatch(document(renamed))) == {"in the table only", "recorded by the tests only"}
    assert mismatch(document((*names.SCENARIOS, names.FUZZ))) == {"twice": [names.FUZZ]}


def test_the_table_names_the_commit_it_was_measured_on():
    if not measured():
        return
    assert re.search(r"Measured \d{4}-\d\d-\d\d on commit `[0-9a-f]{12}` by", DOCUMENT), "a clean checkout's run"


def test_every_name_is_recorded_by_a_test():
    sources = "".join(
        path.read_text(encoding="utf-8") for path in (REPO_ROOT / "tests" / "reliability").glob("test_*.py")
    )
    constants = {name for name, value in vars(names).items() if value in names.SCENARIOS}
    assert {name for name in constants if f"names.{name}" not in sources} == set()


def test_a_block_is_replaced_whole_and_only_when_it_is_there_once():
    table = results_doc.HEADER + "| a scenario | 1 | 0 | 0 | 0 | `{}` | 0 | 0 |  |\n"
    written = results_doc.replaced(
        f"before\n{results_doc.BEGIN}\nold\n{results_doc.END}\nafter",
        results_doc.block(table, "`0123456789ab`", "2026-12-02", 12.5),
    )
    assert written.startswith("before\n") and written.endswith("\nafter") and "old" not in written
    assert results_doc.scenario_names(written) == ["a scenario"]
    for broken in ("no block", results_doc.BEGIN + results_doc.END + results_doc.BEGIN + results_doc.END):
        try:
            results_doc.replaced(broken, "x")
        except ValueError:
            continue
        raise AssertionError(f"replaced {broken!r}")
