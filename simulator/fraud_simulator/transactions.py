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
from collections.abc import Callable
from datetime import datetime, timedelta

from fraud_common.contract import Transaction
from fraud_simulator.population import AccountPopulation, random_merchant

AMOUNT_MIN = 1
AMOUNT_MAX = 1000

# Fixed, naive (like the workshop's datetime.now().isoformat()) start instant.
SCENARIO_START = datetime(2024, 1, 1, 0, 0, 0)
SCENARIO_STEP = timedelta(seconds=1)
SCENARIO_ACCOUNTS = 1000
SCENARIO_SKEW = 1.1

# Compromised cards: now and then a transaction starts a burst of 4 to 8 larger ones from one card,
# picked uniformly (most cards are quiet), interleaved with everyone else's over a few seconds.
COMPROMISED_SHARE = 0.004
BURST_SIZE = (4, 8)
BURST_AMOUNT = (200, 1000)


class Payers:
    """Who pays next: the population by popularity, and now and then a compromised card in a burst."""

    def __init__(self, rng: random.Random, population: AccountPopulation, compromised_share: float) -> None:
        if not 0 <= compromised_share <= 1:
            raise ValueError("compromised_share must be between 0 and 1")
        self._rng = rng
        self._population = population
        self._share = compromised_share
        self._burst_account: str | None = None
        self._burst_left = 0

    def draw(self) -> tuple[str, bool]:
        """(account, whether this transaction is part of a compromised card's burst)."""
        if self._burst_left and self._rng.random() < 0.5:
            self._burst_left -= 1
            return self._burst_account, True  # type: ignore[return-value]
        if self._share and self._rng.random() < self._share:
            self._burst_account = self._rng.choice(self._population.accounts)
            self._burst_left = self._rng.randint(*BURST_SIZE) - 1
            return self._burst_account, True
        return self._population.draw(self._rng), False


def draw_transaction(
    rng: random.Random, payers: Payers, transaction_id: str, timestamp: str
) -> tuple[Transaction, bool]:
    """One transaction and whether it is a compromised card's; the single place that decides its fields."""
    account, compromised = payers.draw()
    low, high = BURST_AMOUNT if compromised else (AMOUNT_MIN, AMOUNT_MAX)
    transaction = Transaction(
        transaction_id=transaction_id,
        account=account,
        merchant=random_merchant(rng),
        amount=rng.randint(low, high),
        timestamp=timestamp,
    )
    return transaction, compromised


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
        compromised_share: float = COMPROMISED_SHARE,
    ) -> None:
        self._rng = rng
        self._payers = Payers(rng, population, compromised_share)
        self._now = now
        self._new_id = new_id

    def next(self) -> Transaction:
        """The next transaction."""
        return draw_transaction(self._rng, self._payers, self._new_id(), self._now().isoformat())[0]


def scenario_id(rng: random.Random) -> str:
    """A uuid4-shaped hex id drawn from the seeded RNG (deterministic, 32 hex digits)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def labelled_scenario(
    seed: int,
    count: int,
    *,
    accounts: int = SCENARIO_ACCOUNTS,
    skew: float = SCENARIO_SKEW,
    start: datetime = SCENARIO_START,
    step: timedelta = SCENARIO_STEP,
    compromised_share: float = COMPROMISED_SHARE,
) -> list[tuple[Transaction, bool]]:
    """The `count` transactions of scenario `seed`, each with whether it is a compromised card's (the ground truth)."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    payers = Payers(rng, AccountPopulation(rng, accounts, skew), compromised_share)
    return [
        draw_transaction(rng, payers, scenario_id(rng), (start + step * index).isoformat()) for index in range(count)
    ]


def scenario_transactions(seed: int, count: int) -> list[Transaction]:
    """The `count` transactions of scenario `seed`; the same arguments always give the same records."""
    return [transaction for transaction, _ in labelled_scenario(seed, count)]
