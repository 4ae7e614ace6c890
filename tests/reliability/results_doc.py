"""docs/reliability.md's results table: written by a passing run of the whole suite, never by hand.

The block between the markers is the table of that run with the commit it ran on, the date and how long the
suite took; a partial run (`-k`) or a failing one leaves it alone. tests/unit/test_reliability_table.py holds
the committed table's scenario names to tests/reliability/names.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

BEGIN = "<!-- reliability-results: written by `make test-reliability` (tests/reliability/conftest.py), do not edit -->"
END = "<!-- /reliability-results -->"
HEADER = (
    "| scenario | transactions | lost | duplicate decisions | duplicate alerts | outcomes | degraded | job restarts "
    "| note |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
)


def block(table: str, commit: str, date: str, minutes: float) -> str:
    """The block's text: when and on what the table was measured, then the table."""
    return (
        f"{BEGIN}\n\nMeasured {date} on commit {commit} by `make test-reliability`, which took {minutes:.1f} min.\n\n"
        f"{table}\n{END}"
    )


def replaced(document: str, new_block: str) -> str:
    """`document` with its results block replaced; exactly one block must be there."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if len(pattern.findall(document)) != 1:
        raise ValueError(f"docs/reliability.md must hold one results block, {BEGIN} ... {END}")
    return pattern.sub(lambda _: new_block, document)


def scenario_names(document: str) -> Sequence[str]:
    """The scenario column of the block's table."""
    body = document.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| scenario |")]
    return [row.split(" | ", 1)[0].removeprefix("| ") for row in rows]
