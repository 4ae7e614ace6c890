"""One private local stack for the reliability scenarios, and a record of each scenario's result.

The scenarios run one after another against the same stack (each with its own
seeded transaction ids) and break it in turn: processes killed, merchant-service
down or slow, poison records, fuzzed requests, a soak, an overload. Each adds a
row to the results table printed at the end of the run (and written to
`.run/reliability/results.md`); a passing run of every scenario also writes it into docs/reliability.md,
with the commit it ran on (tests/reliability/results_doc.py).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from fraud_dev.ledger import LedgerReport
from fraud_dev.pipeline import Kafka
from fraud_dev.stack.config import REPO_ROOT
from fraud_dev.stack.private import private_stack
from fraud_dev.stack.stack import LocalStack
from tests.reliability import names, results_doc

RESULTS: list[Result] = []
RESULTS_FILE = REPO_ROOT / ".run" / "reliability" / "results.md"
RESULTS_DOC = REPO_ROOT / "docs" / "reliability.md"
STARTED = pytest.StashKey[float]()


@dataclass(frozen=True)
class Result:
    scenario: str
    transactions: int
    lost: int
    duplicate_decisions: int
    duplicate_alerts: int
    outcomes: str
    degraded: int
    job_restarts: int
    note: str = ""


def record(scenario: str, report: LedgerReport, job_restarts: int, note: str = "") -> None:
    RESULTS.append(
        Result(
            scenario,
            len(report.ids),
            len(report.lost),
            len(report.duplicate_decisions),
            len(report.duplicate_alerts),
            json.dumps(report.outcomes()),
            report.degraded(),
            job_restarts,
            note,
        )
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)


def results_table() -> str:
    return results_doc.HEADER + "".join(
        f"| {r.scenario} | {r.transactions} | {r.lost} | {r.duplicate_decisions} | {r.duplicate_alerts} | "
        f"`{r.outcomes}` | {r.degraded} | {r.job_restarts} | {r.note} |\n"
        for r in RESULTS
    )


def pytest_sessionstart(session):
    session.config.stash[STARTED] = time.monotonic()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(results_table(), encoding="utf-8")
    (RESULTS_FILE.with_suffix(".json")).write_text(json.dumps([asdict(r) for r in RESULTS], indent=2))
    terminalreporter.write_sep("=", "reliability results")
    terminalreporter.write(results_table())
    terminalreporter.write_line(f"(also in {RESULTS_FILE})")
    if exitstatus == 0 and sorted(r.scenario for r in RESULTS) == sorted(names.SCENARIOS):
        minutes = (time.monotonic() - config.stash[STARTED]) / 60
        written = results_doc.block(results_table(), commit(), time.strftime("%Y-%m-%d"), minutes)
        RESULTS_DOC.write_text(results_doc.replaced(RESULTS_DOC.read_text(encoding="utf-8"), written), encoding="utf-8")
        terminalreporter.write_line(f"(and in {RESULTS_DOC}, every scenario having passed)")


def commit() -> str:
    """The commit the suite ran on, marked when the checkout had changes beyond the results themselves."""
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", f":!{RESULTS_DOC.relative_to(REPO_ROOT)}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if head.returncode != 0:
        return "unknown (not a git checkout)"  # a CI copy without .git
    return f"`{head.stdout.strip()}`" + (" (with uncommitted changes)" if changes.stdout.strip() else "")


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    with private_stack(tmp_path_factory.mktemp("reliability")) as running:
        yield running


@pytest.fixture(scope="session")
def kafka(stack) -> Kafka:
    return Kafka(stack.config.kafka_connection())


def set_merchant_faults(stack: LocalStack, **faults: float) -> None:
    """Change merchant-service's injected faults through its admin endpoint."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.config.ports.merchant_service}/admin/faults",
        data=json.dumps(faults).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.admin_token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for pid {pid}")
