"""What each decision must be, derived from the input streams alone: the oracle of every suite that runs a scenario.

For each transaction the oracle works out its features from what the test itself sent: merchant-service's
score of the merchant (tests/support/reference_model.py restates it), the amount, the confirmed frauds of the
account inside the fraud window, the account's latest threshold record, and the account's own payments for
velocity. It scores them with the literal-weight model the golden vectors pin, and holds each decision's
recorded features, score, threshold and outcome to that. Nothing a decision records is used to compute what
it should have recorded: a recorded value is first checked to be one the inputs allow, and only then is the
outcome it implies compared.

Where the inputs alone cannot say, the oracle says so with a bounded set of allowed values rather than
reading the answer from the output:

- *Velocity* counts an account's payments in the order the runtime sees them, which is not the order they
  were produced (a transaction's record is keyed by its id, so one account's transactions travel on
  different partitions). When every velocity lookup of the run fell within one minute (the test measures an
  upper bound, `velocity_span_s`) and the accounts are new to the stack, the k-th lookup of an account
  answers k: the account's recorded spikes must be exactly 1..n, in some order (each capped at 10). When the
  runtime's clock is known (`handled_at_ms`, the in-process replay), the spike is computed from the
  account's earlier payments, and only a payment at the edge of a 10-second bucket (60 to 70 s old) may
  count either way. A longer run with unknown times, or an account that paid on the stack before the run
  (`earlier`), allows any spike from one of its payments in the hour being in the last minute to all of them.
- *Confirmations and thresholds* are handled concurrently with transactions (other topics, other
  partitions). One the test waited for (`at_ms=None`) counts for every transaction of the run; with
  `handled_at_ms`, one counts for the transactions after it, and at an exact tie either way.
- *Degraded lookups* (`may_degrade`: the lookups the test's faults may time out) allow their fallback value,
  flagged in the decision's `degraded`; any other degradation fails.
- A score within 1e-6 of the threshold may decide either way (a decision records its score to 6 digits).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraud_common.contract import Outcome, Transaction
from fraud_dev.ledger import LedgerReport
from tests.support.reference_model import SPIKE_CAP, THRESHOLD, Raw, merchant_score

MINUTE_MS, HOUR_MS = 60_000, 3_600_000
MINUTE_BUCKET_MS, HOUR_BUCKET_MS = 10_000, 60_000
FRAUD_WINDOW_MS = 30 * MINUTE_MS  # FRAUD_WINDOW_SECONDS' default; a test that shortens it says so
# What a lookup that did not answer by the deadline counts as (docs/architecture.md); merchant's is a setting.
FALLBACK_SPIKE, FALLBACK_FRAUD_COUNT, MERCHANT_FALLBACK = 1.0, 0, 50.0
RECORDED_DIGITS = 1e-6


@dataclass(frozen=True)
class Confirmation:
    """A confirmed fraud on the `confirmed` topic; `at_ms` None: handled before every transaction of the run."""

    account: str
    at_ms: int | None = None


@dataclass(frozen=True)
class ThresholdRecord:
    """An account's threshold (1..100) on the `thresholds` topic; `at_ms` as for a confirmation."""

    account: str
    threshold: int
    at_ms: int | None = None


@dataclass(frozen=True)
class Inputs:
    """What a test sent, and what it knows about when the runtime handled it."""

    transactions: Sequence[Transaction]
    confirmations: Sequence[Confirmation] = ()
    thresholds: Sequence[ThresholdRecord] = ()
    # Exact times at which the runtime handled each transaction (the in-process replay's clock), or None.
    handled_at_ms: Mapping[str, int] | None = None
    # Otherwise: an upper bound, by the test's clock, of the time between an account's first and last velocity
    # lookup (from the first record produced to the last decision read does).
    velocity_span_s: float | None = None
    fraud_window_ms: int = FRAUD_WINDOW_MS
    may_degrade: frozenset[str] = frozenset()
    merchant_fallback: float = MERCHANT_FALLBACK
    # Payments the stack handled before these, at times unknown but within the hour velocity remembers.
    earlier: Sequence[Transaction] = ()


@dataclass(frozen=True)
class Allowed:
    """The values the inputs allow one transaction's decision to be made of."""

    fraud_counts: frozenset[int]
    merchant_scores: frozenset[float]
    amount: float
    spikes: frozenset[float]
    thresholds: frozenset[tuple[float, str]]
    # Where times are too loose for a set: any spike from one payment in the hour's (low) to all of them (high).
    spike_range: tuple[float, float] | None = None


@dataclass
class Disagreements:
    found: list[str] = field(default_factory=list)

    def check(self, holds: bool, transaction: Transaction, what: str) -> bool:
        if not holds:
            self.found.append(f"{transaction.transaction_id} ({transaction.account}): {what}")
        return holds


def assert_decided_as_the_inputs_say(report: LedgerReport, inputs: Inputs) -> None:
    """Every transaction's one decision is what the oracle makes of the inputs (see the module's docstring)."""
    found = disagreements(report.decisions, inputs)
    assert not found, f"{len(found)} decisions disagree with the oracle:\n" + "\n".join(found[:20])


def disagreements(decisions: Mapping[str, Sequence[dict[str, Any]]], inputs: Inputs) -> list[str]:
    """What the oracle holds against the decisions; empty when every one is what the inputs allow."""
    out = Disagreements()
    allowed = allowed_values(inputs)
    spikes_by_account: dict[str, list[float]] = defaultdict(list)
    for transaction in inputs.transactions:
        found = decisions.get(transaction.transaction_id, [])
        if out.check(len(found) == 1, transaction, f"{len(found)} decisions"):
            spike = _check_decision(found[0], transaction, allowed[transaction.transaction_id], inputs, out)
            if spike is not None:
                spikes_by_account[transaction.account].append(spike)
    if inputs.handled_at_ms is None and _within_a_minute(inputs):
        _check_burst_positions(inputs, spikes_by_account, out)
    return out.found


def allowed_values(inputs: Inputs) -> dict[str, Allowed]:
    """Per transaction id, the feature values and thresholds its inputs allow."""
    degrade = inputs.may_degrade
    by_account = _by_account(inputs)
    result = {}
    earlier = Counter(t.account for t in inputs.earlier)
    for transaction in inputs.transactions:
        payments = by_account[transaction.account]
        loose = earlier[transaction.account] > 0 or not (inputs.handled_at_ms or _within_a_minute(inputs))
        result[transaction.transaction_id] = Allowed(
            fraud_counts=_fraud_counts(inputs, transaction)
            | ({FALLBACK_FRAUD_COUNT} if "fraud_count" in degrade else set()),
            merchant_scores=frozenset(
                {float(merchant_score(transaction.merchant))}
                | ({inputs.merchant_fallback} if "merchant" in degrade else set())
            ),
            amount=float(transaction.amount),
            spikes=(frozenset() if loose else _spikes(inputs, payments, transaction))
            | ({FALLBACK_SPIKE} if "velocity" in degrade else set()),
            thresholds=_thresholds(inputs, transaction) | ({(THRESHOLD, "model")} if "threshold" in degrade else set()),
            spike_range=_spike_range(earlier[transaction.account] + len(payments)) if loose else None,
        )
    return result


def _check_decision(
    decision: dict[str, Any], transaction: Transaction, allowed: Allowed, inputs: Inputs, out: Disagreements
) -> float | None:
    """Hold one decision to its allowed values; returns its velocity spike when it came from the lookup."""
    degraded = set(decision.get("degraded") or [])
    outcome = decision.get("outcome")
    scored = outcome in (Outcome.ALERT.value, Outcome.NO_ALERT.value)
    if not out.check(scored, transaction, f"decided {outcome!r} ({decision.get('reason')}), not scored"):
        return None
    if not out.check(degraded <= inputs.may_degrade, transaction, f"degraded {sorted(degraded)}, none allowed"):
        return None
    recorded = decision.get("features") or {}
    raw = _matching_raw(recorded, allowed, transaction, out)
    if raw is None:
        return None
    probability = raw.probability()
    score = decision.get("score")
    out.check(
        isinstance(score, (int, float)) and abs(score - probability) <= RECORDED_DIGITS,
        transaction,
        f"score {decision.get('score')}, the oracle's {probability:.7f} for {raw}",
    )
    recorded_threshold = (decision.get("threshold"), decision.get("threshold_source"))
    threshold = next(
        (value for value, source in allowed.thresholds if _same_threshold(recorded_threshold, value, source)), None
    )
    if threshold is None:
        out.check(False, transaction, f"threshold {recorded_threshold}, allowed {sorted(allowed.thresholds)}")
        return None
    alert = probability >= threshold
    expected = {alert, alert if abs(probability - threshold) > RECORDED_DIGITS else not alert}
    out.check(
        (outcome == Outcome.ALERT.value) in expected,
        transaction,
        f"{outcome} at {probability:.7f} against {threshold} for {raw}",
    )
    return None if "velocity" in degraded else raw.velocity_spike


def _same_threshold(recorded: tuple[Any, Any], value: float, source: str) -> bool:
    number, named = recorded
    return named == source and isinstance(number, (int, float)) and abs(number - value) <= 1e-9


def _matching_raw(
    recorded: Mapping[str, float], allowed: Allowed, transaction: Transaction, out: Disagreements
) -> Raw | None:
    """The allowed raw values whose transforms are what the decision recorded, or None (noted) when none are."""
    spikes = sorted(allowed.spikes)
    recorded_spike = recorded.get("velocity_spike")
    if allowed.spike_range is not None and isinstance(recorded_spike, (int, float)):
        low, high = allowed.spike_range
        if low - 1e-4 <= recorded_spike <= high:
            spikes.append(float(recorded_spike))  # checked to lie in the range; scored as it is
    candidates = itertools.product(
        sorted(allowed.fraud_counts), sorted(allowed.merchant_scores), [allowed.amount], spikes
    )
    for fraud_count, merchant, amount, spike in candidates:
        raw = Raw(fraud_count, merchant, amount, spike)
        expected = raw.transformed()
        if set(recorded) == set(expected) and all(
            abs(recorded[name] - value) <= RECORDED_DIGITS for name, value in expected.items()
        ):
            return raw
    out.check(
        False,
        transaction,
        f"recorded features {dict(recorded)} are none the inputs allow: fraud counts {sorted(allowed.fraud_counts)}, "
        f"merchant scores {sorted(allowed.merchant_scores)}, amount {allowed.amount}, "
        f"spikes {sorted(allowed.spikes)} or in {allowed.spike_range}",
    )
    return None


# -- velocity --------------------------------------------------------------------------------------------
def _within_a_minute(inputs: Inputs) -> bool:
    return inputs.velocity_span_s is not None and inputs.velocity_span_s * 1000 <= MINUTE_MS


def _by_account(inputs: Inputs) -> dict[str, list[Transaction]]:
    payments: dict[str, list[Transaction]] = defaultdict(list)
    for transaction in inputs.transactions:
        payments[transaction.account].append(transaction)
    return payments


def _spikes(inputs: Inputs, payments: list[Transaction], transaction: Transaction) -> frozenset[float]:
    if inputs.handled_at_ms is not None:
        return _spikes_at(inputs.handled_at_ms, payments, transaction)
    if inputs.velocity_span_s is None:
        raise ValueError("the oracle needs either the handling times or a bound of the run's length")
    return frozenset(float(k) for k in range(1, len(payments) + 1))


def _spike_range(payments_in_the_hour: int) -> tuple[float, float]:
    """Unknown times over more than a minute: from one payment in the last minute of `payments_in_the_hour`, known
    for a minute or less, to all of them in the last minute."""
    return _spike(1, payments_in_the_hour, 1), float(min(payments_in_the_hour, SPIKE_CAP))


def _spikes_at(
    handled_at_ms: Mapping[str, int], payments: list[Transaction], transaction: Transaction
) -> frozenset[float]:
    """The spikes of a payment handled at a known time, from the account's payments handled before it."""
    now = handled_at_ms[transaction.transaction_id]
    times = sorted(handled_at_ms[t.transaction_id] for t in payments if handled_at_ms[t.transaction_id] <= now)
    if len(times) >= HOUR_MS // MINUTE_BUCKET_MS or now - times[0] >= HOUR_MS:
        raise ValueError("the replay must stay within the hour the oracle models")
    ages = [now - at for at in times]
    surely = sum(age <= MINUTE_MS for age in ages)
    maybe = sum(MINUTE_MS < age < MINUTE_MS + MINUTE_BUCKET_MS for age in ages)  # a bucket may still reach in
    seen = (now - times[0]) // MINUTE_MS
    return frozenset(_spike(minute, len(times), seen) for minute in range(surely, surely + maybe + 1))


def _spike(minute: int, hour: int, seen_minutes: int) -> float:
    """The last minute's payments over the account's usual rate per minute in the rest of the hour."""
    usual = max(0, hour - minute) / max(1, seen_minutes)
    return round(minute / (1.0 + usual), 4)


def _check_burst_positions(inputs: Inputs, spikes: Mapping[str, list[float]], out: Disagreements) -> None:
    """Within a minute, an account's lookups answered 1, 2, ... n in some order: each position once (capped)."""
    by_account = _by_account(inputs)
    earlier = {t.account for t in inputs.earlier}
    for account, recorded in spikes.items():
        if account in earlier:
            continue  # its spikes were only held to a range
        payments = by_account[account]
        positions = Counter(float(min(k, SPIKE_CAP)) for k in range(1, len(payments) + 1))
        extra = Counter(recorded) - positions
        exact = len(recorded) < len(payments) or Counter(recorded) == positions
        out.check(
            not extra and exact,
            payments[0],
            f"velocity spikes {sorted(recorded)} for {len(payments)} payments, not each of 1..{len(payments)} once",
        )


# -- confirmations and thresholds ---------------------------------------------------------------------------
def _fraud_counts(inputs: Inputs, transaction: Transaction) -> frozenset[int]:
    """Confirmed frauds of the account in the window: those surely handled before and inside, plus the unsure."""
    surely, unsure = 0, 0
    for confirmation in inputs.confirmations:
        if confirmation.account != transaction.account:
            continue
        if confirmation.at_ms is None:
            surely += 1
            continue
        if inputs.handled_at_ms is None:
            unsure += 1  # racing the run's transactions; and its window's end cannot be placed either
            continue
        now = inputs.handled_at_ms[transaction.transaction_id]
        expires = confirmation.at_ms + inputs.fraud_window_ms
        if confirmation.at_ms < now < expires:
            surely += 1
        elif now in (confirmation.at_ms, expires):
            unsure += 1
    return frozenset(range(surely, surely + unsure + 1))


def _thresholds(inputs: Inputs, transaction: Transaction) -> frozenset[tuple[float, str]]:
    """The account's latest threshold record before the transaction, or the model's when there is none."""
    records = [r for r in inputs.thresholds if r.account == transaction.account]
    settled = [r for r in records if r.at_ms is None]
    if inputs.handled_at_ms is None:
        racing = [r for r in records if r.at_ms is not None]
        latest_before, candidates = (settled[-1:], racing)
    else:
        now = inputs.handled_at_ms[transaction.transaction_id]
        before = settled + sorted((r for r in records if r.at_ms is not None and r.at_ms < now), key=_at)
        latest_before, candidates = before[-1:], [r for r in records if r.at_ms == now]
    options = [(r.threshold / 100.0, "account") for r in latest_before + candidates]
    if not latest_before:
        options.append((THRESHOLD, "model"))
    return frozenset(options)


def _at(record: ThresholdRecord) -> int:
    return record.at_ms or 0
