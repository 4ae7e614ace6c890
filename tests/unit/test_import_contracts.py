"""The import contracts of pyproject.toml (`make lint`) can fail: each breaks on a deliberate violation.

Each case copies the Python packages into a temporary tree, adds one import that a contract forbids
and runs import-linter on that copy, with only that contract; the untouched copy keeps every contract,
so a case fails only because of its violation, and a violation that went unnoticed fails the case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Where each root package lives, relative to the repository (what `make venv` installs editable).
SOURCE_ROOTS = ("common", "functions", "merchant-service", "simulator", "dev", ".")
PACKAGES = {
    "common/fraud_common",
    "functions/fraud_functions",
    "functions/fraud_backtest",
    "merchant-service/merchant_service",
    "simulator/fraud_simulator",
    "dev/fraud_dev",
    "observability",
    "tests",
}


def copy_tree(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, destination / package, ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    shutil.copy(REPO / "pyproject.toml", destination / "pyproject.toml")
    return destination


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / root) for root in SOURCE_ROOTS)}
    selected = [argument for contract in contracts for argument in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *selected],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_tree(tmp_path_factory.mktemp("pristine"))


def test_the_copied_tree_keeps_every_contract(pristine: Path) -> None:
    result = lint_imports(pristine)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    "contract, module, line",
    [
        ("product-stays-product", "simulator/fraud_simulator/violation.py", "import fraud_dev.ledger"),
        ("product-stays-product", "observability/violation.py", "import tests.unit.counters"),
        ("workshop-not-tests", "dev/fraud_dev/violation.py", "import tests.unit.counters"),
        ("components-on-common", "common/fraud_common/violation.py", "import fraud_functions.messages"),
        ("components-on-common", "merchant-service/merchant_service/violation.py", "import fraud_simulator.population"),
        ("components-on-common", "functions/fraud_functions/violation.py", "import observability.dashboards"),
        ("components-on-common", "functions/fraud_functions/violation.py", "import fraud_backtest.evaluate"),
        ("product-stays-product", "functions/fraud_backtest/violation.py", "import fraud_dev.ledger"),
        ("no-cycles", "common/fraud_common/contract.py", "import fraud_common.envelope"),
    ],
)
def test_a_contract_breaks_on_its_violation(
    pristine: Path, tmp_path: Path, contract: str, module: str, line: str
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    target = tree / module
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(existing + f"\n{line}  # the deliberate violation\n", encoding="utf-8")

    result = lint_imports(tree, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 1 broken." in result.stdout, result.stdout
