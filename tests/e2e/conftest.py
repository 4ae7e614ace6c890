"""One real local stack (Kafka, StateFun runtime, functions, merchant-service) for all end-to-end tests.

It runs on free ports in a temporary directory, so it neither disturbs nor is
disturbed by a `make run` on the same machine. The fraud window is shortened
so expiry can be observed. Its broker is the secured one (KAFKA_SECURITY=sasl_ssl:
TLS, a SCRAM user per component with its declared ACLs), so every scenario here
also proves the runtime and the simulator work through it with no more rights
than they are granted; the tests' own helpers connect as the stack's super user.
The reliability, observability and benchmark stacks stay plaintext. The function server scores a
challenger in shadow on every transaction (it never alerts) and re-reads its model files every second, so
test_models.py can promote one under traffic.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fraud_dev.pipeline import Kafka
from fraud_dev.stack.kafka_security import SASL_SSL
from fraud_dev.stack.private import private_stack
from fraud_dev.stack.stack import LocalStack
from fraud_functions.settings import DEFAULT_MODEL_PATH
from tests.support import challenger

FRAUD_WINDOW_SECONDS = 75
MODEL_RELOAD_SECONDS = 1


@dataclass(frozen=True)
class ModelFiles:
    """The files the stack's function server scores with: a copy of the shipped model as the champion (a test may
    promote another and must roll it back) and tests/support/challenger.py's model in shadow."""

    champion: Path
    challenger: Path


# Leaves the runtime's job with restarts behind (its tasks fail until the password is fixed), while other scenarios
# count the job's restarts from zero: it runs after them.
LAST = {"test_a_runtime_with_a_wrong_password_waits_and_once_fixed_decides_every_transaction_once"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.name in LAST)  # stable: the others keep their order


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> ModelFiles:
    folder = tmp_path_factory.mktemp("models")
    champion = folder / "champion.json"
    shutil.copyfile(DEFAULT_MODEL_PATH, champion)
    return ModelFiles(champion, challenger.write(folder / "challenger.json"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory, model_files) -> Iterator[LocalStack]:
    env = {
        "FRAUD_WINDOW_SECONDS": str(FRAUD_WINDOW_SECONDS),
        "MODEL_PATH": str(model_files.champion),
        "CHALLENGER_MODEL_PATH": str(model_files.challenger),
        "MODEL_RELOAD_SECONDS": str(MODEL_RELOAD_SECONDS),
    }
    with private_stack(tmp_path_factory.mktemp("stack"), env, kafka_security=SASL_SSL) as running:
        yield running


@pytest.fixture(scope="session")
def kafka(stack) -> Kafka:
    return Kafka(stack.config.kafka_connection())
