"""The deterministic scenario generator."""

import re
from datetime import datetime, timedelta

from fraud_simulator import scenario_transactions
from fraud_simulator.loops import transaction_record
from fraud_simulator.transactions import SCENARIO_START


def _bytes(seed: int, count: int) -> list[tuple[bytes, bytes]]:
    return [transaction_record(t) for t in scenario_transactions(seed, count)]


def test_same_seed_gives_byte_identical_records():
    assert _bytes(42, 300) == _bytes(42, 300)


def test_different_seed_gives_different_records():
    first, second = _bytes(42, 50), _bytes(43, 50)
    assert [k for k, _ in first] != [k for k, _ in second]
    assert [v for _, v in first] != [v for _, v in second]


def test_count_is_exact_and_prefix_stable():
    assert len(scenario_transactions(7, 0)) == 0
    assert len(scenario_transactions(7, 123)) == 123
    assert scenario_transactions(7, 10) == scenario_transactions(7, 20)[:10]


def test_ids_are_unique_uuid_shaped_hex():
    ids = [t.transaction_id for t in scenario_transactions(1, 1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_timestamps_come_from_a_fixed_start_plus_index_not_the_wall_clock():
    records = scenario_transactions(5, 3)
    stamps = [datetime.fromisoformat(t.timestamp) for t in records]
    assert stamps == [SCENARIO_START + timedelta(seconds=i) for i in range(3)]
    assert records[0].timestamp == "2024-01-01T00:00:00"


def test_scenario_accounts_recur():
    accounts = [t.account for t in scenario_transactions(3, 500)]
    assert len(set(accounts)) < 400


def test_compromised_cards_burst_with_larger_amounts_and_the_share_sets_how_often():
    from fraud_simulator.transactions import BURST_AMOUNT, labelled_scenario

    labelled = labelled_scenario(11, 20_000)
    burst = [t for t, compromised in labelled if compromised]
    assert 0.01 < len(burst) / len(labelled) < 0.04  # 0.4 % start a burst of about six
    assert all(BURST_AMOUNT[0] <= t.amount <= BURST_AMOUNT[1] for t in burst)
    # A burst is one card several times within a few positions of the stream.
    positions: dict[str, list[int]] = {}
    for index, (transaction, compromised) in enumerate(labelled):
        if compromised:
            positions.setdefault(transaction.account, []).append(index)
    tight = [p for p in positions.values() if len(p) >= 4 and max(p) - min(p) < 40]
    assert len(tight) >= 0.8 * len(positions)
    assert not any(compromised for _, compromised in labelled_scenario(11, 2000, compromised_share=0))
