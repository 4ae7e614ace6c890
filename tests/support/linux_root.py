"""The cluster suites need Linux and root (namespaces, containerd, cgroups). Elsewhere their tests are
skipped with the reason; with REQUIRE_CLUSTER_TESTS set (CI, which is Linux and root), that is an error."""

from __future__ import annotations

import os
import sys

import pytest

REQUIRED = "REQUIRE_CLUSTER_TESTS"


def missing_linux_root(what: str, why_root: str) -> str | None:
    """Why `what` cannot run on this machine, or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"{what} runs on Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return f"{what} needs root ({why_root}), as in CI"
    return None


def skip_unless_runnable(item: pytest.Item, reason: str | None) -> None:
    """Skip `item` for `reason`, or fail the session when the cluster tests are required."""
    if reason is None:
        return
    if os.environ.get(REQUIRED):
        raise pytest.UsageError(f"{REQUIRED} is set, but {reason}")
    item.add_marker(pytest.mark.skip(reason=reason))
