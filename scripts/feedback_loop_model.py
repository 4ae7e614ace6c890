"""Offline model of the confirmation feedback loop: alert rate over time, without Kafka or the runtime.

Draws transactions like the simulator (its account population), scores them with the
shipped model, confirms a share of alerted accounts (with an optional per-account
cooldown) and keeps confirmations in a sliding window like fraud-count. Prints the
cumulative alert rate every 5 simulated minutes, so population, skew and cooldown
settings can be compared side by side before changing defaults.

    .venv/bin/python scripts/feedback_loop_model.py --rate 10 --accounts 10000 --skew 0.8 --cooldown 1800
"""

from __future__ import annotations

import argparse
import collections
import random

from fraud_functions.scoring import load_logistic_model
from fraud_functions.settings import DEFAULT_MODEL_PATH
from fraud_simulator.population import AccountPopulation


def alert_rates(rate: float, accounts: int, skew: float, cooldown: float | None, minutes: int = 30,
                share: float = 0.05, window: float = 1800, threshold: float = 0.8, seed: int = 1) -> list[float]:
    """Cumulative alert rate (%) at every 5 simulated minutes."""
    model = load_logistic_model(DEFAULT_MODEL_PATH)
    rng = random.Random(seed)
    population = AccountPopulation(rng, accounts, skew)
    confirmations: dict[str, list[float]] = collections.defaultdict(list)
    last_confirmed: dict[str, float] = {}
    alerts, rates = 0, []
    total = int(rate * 60 * minutes)
    for index in range(total):
        now = index / rate
        account = population.draw(rng)
        recent = [t for t in confirmations[account] if t > now - window]
        confirmations[account] = recent
        values = {"transaction.amount": rng.randint(1, 1000), "fraud_count.count": len(recent),
                  "merchant.score": rng.randint(0, 100)}
        if model.score(values).score >= threshold:
            alerts += 1
            cooled = cooldown is None or now - last_confirmed.get(account, float("-inf")) >= cooldown
            if rng.random() < share and cooled:
                recent.append(now)
                last_confirmed[account] = now
        if (index + 1) % int(rate * 300) == 0:
            rates.append(round(100 * alerts / (index + 1), 1))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--skew", type=float, default=0.8)
    parser.add_argument("--cooldown", type=float, default=1800, help="seconds; negative = no cooldown")
    parser.add_argument("--minutes", type=int, default=30)
    args = parser.parse_args()
    cooldown = None if args.cooldown < 0 else args.cooldown
    print(f"alert rate % every 5 min: {alert_rates(args.rate, args.accounts, args.skew, cooldown, args.minutes)}")


if __name__ == "__main__":
    main()
