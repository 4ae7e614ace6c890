"""A tool a test needs and cannot find: skipped with the way to get it, or, under CI, a failure.

CI (`.ci/run`) sets REQUIRE_TOOLS: there every tool `make test` installs must be there, so a missing one is
a broken installation, not a reason to pass with less tested. Elsewhere (a quick `pytest` on a machine
without the Go tools) the test is skipped, saying which target builds the tool.
"""

from __future__ import annotations

import os

import pytest

REQUIRED = "REQUIRE_TOOLS"


def missing_tool(tool: str, how: str) -> None:
    """Stop the test for want of `tool`: a skip naming `how` to get it, or a failure when tools are required."""
    reason = f"{tool} is missing: {how}"
    if os.environ.get(REQUIRED):
        pytest.fail(f"{REQUIRED} is set, but {reason}", pytrace=False)
    pytest.skip(reason)
