"""One real local stack (Kafka, StateFun runtime, functions, merchant-service) for all end-to-end tests.

It runs on free ports in a temporary directory, so it neither disturbs nor is
disturbed by a `make run` on the same machine. The fraud window is shortened
so expiry can be observed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fraud_dev.pipeline import Kafka
from fraud_dev.stack.private import private_stack
from fraud_dev.stack.stack import LocalStack

FRAUD_WINDOW_SECONDS = 75


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    with private_stack(
        tmp_path_factory.mktemp("stack"), {"FRAUD_WINDOW_SECONDS": str(FRAUD_WINDOW_SECONDS)}
    ) as running:
        yield running


@pytest.fixture(scope="session")
def kafka(stack) -> Kafka:
    return Kafka(stack.config.bootstrap_servers)
