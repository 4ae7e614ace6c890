"""One real local stack (Kafka, StateFun runtime, functions, merchant-service) for all end-to-end tests.

It runs on free ports in a temporary directory, so it neither disturbs nor is
disturbed by a `make run` on the same machine. The fraud window is shortened
so expiry can be observed.
"""

from __future__ import annotations

import socket

import pytest

from fraud_stack.config import Ports, StackConfig
from fraud_stack.stack import LocalStack
from tests.e2e.pipeline import Kafka

FRAUD_WINDOW_SECONDS = 75


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> LocalStack:
    ports = Ports(**{name: free_port() for name in Ports.VARIABLES})
    config = StackConfig(
        run_dir=tmp_path_factory.mktemp("stack"),
        ports=ports,
        service_env={
            "FRAUD_WINDOW_SECONDS": str(FRAUD_WINDOW_SECONDS),
            "MERCHANT_TIMEOUT_SECONDS": "0.5",
            "MERCHANT_LATENCY_MS_MIN": "1",
            "MERCHANT_LATENCY_MS_MAX": "5",
        },
    )
    with LocalStack(config, simulator_args=None, say=lambda message: print(f"[stack] {message}")) as running:
        yield running


@pytest.fixture(scope="session")
def kafka(stack) -> Kafka:
    return Kafka(stack.config.bootstrap_servers)
