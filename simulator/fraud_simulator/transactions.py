"""Transaction generation, live (random, wall-clock) and scenario (deterministic).

Both modes share one drawing routine so a scenario exercises exactly the same
record shape as a live run. Scenario records are a pure function of
(seed, count): ids come from the seeded RNG and timestamps from a fixed start
instant plus the index, so tests and benchmarks can recompute the expected
input of a run without talking to Kafka.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Callable

from fraud_common.contract import Transaction

from fraud_simulator.population import AccountPopulation, random_merchant

AMOUNT_MIN = 1
AMOUNT_MAX = 1000

# Fixed, naive (like the workshop's datetime.now().isoformat()) start instant.
SCENARIO_START = datetime(2024, 1, 1, 0, 0, 0)
SCENARIO_STEP = timedelta(seconds=1)
SCENARIO_ACCOUNTS = 1000
SCENARIO_SKEW = 1.1


def draw_transaction(
    rng: random.Random,
    population: AccountPopulation,
    transaction_id: str,
    timestamp: str,
) -> Transaction:
    """One transaction; the single place that decides account, merchant and amount."""
    return Transaction(
        transaction_id=transaction_id,
        account=population.draw(rng),
        merchant=random_merchant(rng),
        amount=rng.randint(AMOUNT_MIN, AMOUNT_MAX),
        timestamp=timestamp,
    )


class TransactionGenerator:
    """Endless live transactions: uuid4 keys and wall-clock timestamps.

    `rng` makes the accounts/merchants/amounts reproducible when SIMULATOR_SEED
    is set; ids and times stay unique and real because a live run may be
    restarted against the same topics.
    """

    def __init__(
        self,
        rng: random.Random,
        population: AccountPopulation,
        now: Callable[[], datetime] = datetime.now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._rng = rng
        self._population = population
        self._now = now
        self._new_id = new_id

    def next(self) -> Transaction:
        """The next transaction."""
        return draw_transaction(self._rng, self._population, self._new_id(), self._now().isoformat())


def scenario_id(rng: random.Random) -> str:
    """A uuid4-shaped hex id drawn from the seeded RNG (deterministic, 32 hex digits)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def scenario_transactions(
    seed: int,
    count: int,
    *,
    accounts: int = SCENARIO_ACCOUNTS,
    skew: float = SCENARIO_SKEW,
    start: datetime = SCENARIO_START,
    step: timedelta = SCENARIO_STEP,
) -> list[Transaction]:
    """The `count` transactions of scenario `seed`; the same arguments always give the same records."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    population = AccountPopulation(rng, accounts, skew)
    return [
        draw_transaction(rng, population, scenario_id(rng), (start + step * index).isoformat())
        for index in range(count)
    ]
