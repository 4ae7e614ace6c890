"""Shared, session-scoped renders of the chart: every check reads the same output once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import CHART, CI_VALUES, documents, helm_template


def pytest_configure(config: pytest.Config) -> None:
    """Registered here, next to the tests that use it (pyproject.toml is shared)."""
    config.addinivalue_line("markers", "deploy: Kubernetes packaging checks with the pinned tools (make verify-deploy)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/deploy is `make verify-deploy`'s (marker `deploy`)."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.deploy)


class Renders:
    """helm template of each ci/ values file, rendered on first use."""

    def __init__(self) -> None:
        self._docs: dict[str, list[dict]] = {}

    def __call__(self, values_file: Path) -> list[dict]:
        if values_file.name not in self._docs:
            result = helm_template("--values", str(values_file))
            assert result.returncode == 0, result.output
            self._docs[values_file.name] = documents(result.stdout)
        return self._docs[values_file.name]


@pytest.fixture(scope="session")
def renders() -> Renders:
    return Renders()


@pytest.fixture(scope="session")
def values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(params=CI_VALUES, ids=lambda path: path.name)
def ci_values(request: pytest.FixtureRequest) -> Path:
    return request.param
