"""Accounts and merchants, drawn so that the same accounts keep coming back.

Fraud features (velocity, spend per account, confirmed-fraud counts) only
light up when an account is seen many times, so accounts come from a fixed
population drawn with a Zipf-like skew instead of uniformly from 15 million
ids as the workshop did. Merchant names keep the workshop's style
(capitalised prefix + suffix, e.g. ``Hypergrid``) from our own word lists.
"""

from __future__ import annotations

import random
from itertools import accumulate

# Accounts use the workshop's id range and "0x%08X" format.
ACCOUNT_MIN = 0x100000
ACCOUNT_MAX = 0x1000000

MERCHANT_PREFIXES: tuple[str, ...] = (
    "alpha",
    "amber",
    "astro",
    "bright",
    "blue",
    "cobalt",
    "crisp",
    "delta",
    "dyna",
    "east",
    "ember",
    "fast",
    "fresh",
    "giga",
    "golden",
    "green",
    "hyper",
    "iron",
    "jade",
    "keen",
    "lunar",
    "maxi",
    "micro",
    "nova",
    "north",
    "nimble",
    "orbit",
    "polar",
    "quantum",
    "quick",
    "rapid",
    "royal",
    "sky",
    "smart",
    "sun",
    "terra",
    "ultra",
    "vector",
    "west",
    "zen",
)

MERCHANT_SUFFIXES: tuple[str, ...] = (
    "bank",
    "barn",
    "bazaar",
    "beam",
    "bench",
    "bird",
    "block",
    "books",
    "box",
    "bridge",
    "cart",
    "chain",
    "cloud",
    "corner",
    "craft",
    "crest",
    "depot",
    "desk",
    "field",
    "forge",
    "fox",
    "garden",
    "gate",
    "gear",
    "grid",
    "grove",
    "harbor",
    "hive",
    "house",
    "kitchen",
    "land",
    "leaf",
    "lane",
    "mart",
    "mill",
    "mint",
    "nest",
    "net",
    "outlet",
    "path",
    "peak",
    "pier",
    "point",
    "pulse",
    "quest",
    "rail",
    "ridge",
    "river",
    "shop",
    "source",
    "stack",
    "stone",
    "store",
    "stream",
    "street",
    "tower",
    "trade",
    "vault",
    "wave",
    "works",
)


def format_account(number: int) -> str:
    """The workshop's account id format, e.g. 0x00F3CD51."""
    return f"0x{number:08X}"


def random_merchant(rng: random.Random) -> str:
    """A merchant name such as 'Hypergrid' (capitalised prefix + lower-case suffix)."""
    return rng.choice(MERCHANT_PREFIXES).capitalize() + rng.choice(MERCHANT_SUFFIXES)


class AccountPopulation:
    """A fixed set of accounts with Zipf-like popularity.

    Account of rank r (1-based) is drawn with weight 1 / r**skew; skew 0 is
    uniform. The ids themselves are spread over the workshop's range so that
    popularity does not correlate with the id's value (or its Kafka partition).
    """

    def __init__(self, rng: random.Random, size: int = 1000, skew: float = 1.1) -> None:
        if size < 1:
            raise ValueError("an account population needs at least one account")
        if skew < 0:
            raise ValueError("skew must not be negative")
        self.accounts: tuple[str, ...] = tuple(
            format_account(n) for n in rng.sample(range(ACCOUNT_MIN, ACCOUNT_MAX + 1), size)
        )
        # Cumulative weights once, so each draw is a bisect rather than O(size).
        self._cumulative = list(accumulate(1.0 / (rank**skew) for rank in range(1, size + 1)))

    def __len__(self) -> int:
        return len(self.accounts)

    def draw(self, rng: random.Random) -> str:
        """One account, more popular ranks far more often."""
        return rng.choices(self.accounts, cum_weights=self._cumulative)[0]
