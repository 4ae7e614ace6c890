"""How the model's velocity weight was chosen: alert rates on a simulated hour, for candidate weights.

Replays an hour of the simulator's live traffic (its default population: 10,000
accounts, skew 0.8, 10 transactions/s, compromised cards bursting in 0.4 % of
draws) through the velocity function's own window arithmetic
(fraud_functions/functions/velocity.py) and merchant-service's scores, then
scores every transaction with the shipped model with another velocity weight w
(the intercept lowered by w, since an ordinary payment has a spike of 1, so
ordinary traffic keeps its alert rate). Prints, per w: the alert rate of
ordinary transactions, the share of burst transactions alerted, the share of
compromised cards with at least one alert, and the precision.

    .venv/bin/python scripts/choose_velocity_weight.py [--minutes 60] [--rate 10]
"""

from __future__ import annotations

import argparse
import heapq
from dataclasses import replace

from fraud_functions.functions.velocity import expire, expiry_delay, record, values
from fraud_functions.scoring import LogisticModel, load_logistic_model
from fraud_functions.settings import DEFAULT_MODEL_PATH
from fraud_simulator.transactions import labelled_scenario
from merchant_service.scoring import risk_score


def features(minutes: int, rate: float, seed: int) -> list[tuple[dict[str, float], bool, str]]:
    """(values by source, compromised, account) of each transaction of the simulated stream."""
    count = int(minutes * 60 * rate)
    states: dict[str, dict] = {}
    due: list[tuple[int, int, str, object]] = []
    rows = []
    for index, (transaction, compromised) in enumerate(labelled_scenario(seed, count, accounts=10_000, skew=0.8)):
        now = int(index * 1000 / rate)
        while due and due[0][0] <= now:
            _, _, account, expiry = heapq.heappop(due)
            if account in states and expire(states[account], expiry) is None:
                del states[account]
        state, opened = record(states.get(transaction.account), now, transaction.amount)
        states[transaction.account] = state
        for expiry in opened:
            heapq.heappush(due, (now + int(expiry_delay(expiry).total_seconds() * 1000), len(due) + index,
                                 transaction.account, expiry))
        velocity = values(state, now)
        rows.append(({"transaction.amount": transaction.amount, "fraud_count.count": 0,
                      "merchant.score": risk_score(transaction.merchant), "velocity.spike_1m": velocity["spike_1m"]},
                     compromised, transaction.account))
    return rows


def with_velocity_weight(shipped: LogisticModel, weight: float) -> LogisticModel:
    """The shipped model with another velocity weight, the intercept lowered by it (ordinary spike: 1)."""
    velocity = next(f for f in shipped.features if f.source == "velocity.spike_1m")
    return replace(shipped, intercept=shipped.intercept + velocity.weight - weight,
                   features=tuple(replace(f, weight=weight) if f is velocity else f for f in shipped.features))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    shipped = load_logistic_model(DEFAULT_MODEL_PATH)
    rows = features(args.minutes, args.rate, args.seed)
    cards = {account for _, compromised, account in rows if compromised}
    print(f"{len(rows)} transactions, {sum(c for _, c, _ in rows)} from {len(cards)} compromised cards")
    print("weight  ordinary-alert-rate  burst-alerted  cards-caught  precision")
    for weight in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        model = with_velocity_weight(shipped, weight)
        alerted = [(compromised, account) for row, compromised, account in rows
                   if model.score(row).score >= model.threshold]
        ordinary = sum(1 for c, _ in alerted if not c) / sum(1 for _, c, _ in rows if not c)
        burst = sum(1 for c, _ in alerted if c) / max(1, sum(1 for _, c, _ in rows if c))
        caught = len({a for c, a in alerted if c}) / max(1, len(cards))
        precision = sum(1 for c, _ in alerted if c) / max(1, len(alerted))
        print(f"{weight:6.1f}  {ordinary:19.2%}  {burst:13.1%}  {caught:12.1%}  {precision:9.1%}")


if __name__ == "__main__":
    main()
