"""Record format, accounts, merchants and skew."""

import json
import random
import re
from collections import Counter
from datetime import datetime

from fraud_common.contract import CONFIRMED_TOPIC, parse_confirmation, parse_transaction
from fraud_simulator.loops import confirmation_record, transaction_record
from fraud_simulator.population import (
    ACCOUNT_MAX,
    ACCOUNT_MIN,
    MERCHANT_PREFIXES,
    MERCHANT_SUFFIXES,
    AccountPopulation,
    format_account,
    random_merchant,
)
from fraud_simulator.transactions import TransactionGenerator

ACCOUNT = re.compile(r"^0x[0-9A-F]{8}$")


def _generator(seed: int = 1, now: datetime = datetime(2025, 5, 6, 7, 8, 9, 123456)) -> TransactionGenerator:
    rng = random.Random(seed)
    return TransactionGenerator(rng, AccountPopulation(rng, 50, 1.1), now=lambda: now, new_id=lambda: "ab" * 16)


def test_value_has_exactly_the_workshop_fields_in_order_and_types():
    key, value = transaction_record(_generator().next())
    record = json.loads(value)
    assert list(record) == ["account", "merchant", "amount", "timestamp"]
    assert isinstance(record["account"], str) and ACCOUNT.match(record["account"])
    assert isinstance(record["merchant"], str)
    assert type(record["amount"]) is int and 1 <= record["amount"] <= 1000
    assert record["timestamp"] == "2025-05-06T07:08:09.123456"  # datetime.now().isoformat()
    assert key == b"ab" * 16


def test_record_is_accepted_by_the_pipeline_contract():
    generator = _generator()
    for _ in range(200):
        transaction = generator.next()
        key, value = transaction_record(transaction)
        assert parse_transaction(key.decode(), value) == transaction


def test_live_ids_are_uuid4_hex_and_unique():
    rng = random.Random(3)
    generator = TransactionGenerator(rng, AccountPopulation(rng, 10))
    ids = [generator.next().transaction_id for _ in range(100)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == 100


def test_live_timestamp_comes_from_the_wall_clock_by_default():
    rng = random.Random(3)
    before = datetime.now()
    stamp = datetime.fromisoformat(TransactionGenerator(rng, AccountPopulation(rng, 10)).next().timestamp)
    assert before <= stamp <= datetime.now()


def test_account_format_is_the_workshops():
    assert format_account(0x00F3CD51) == "0x00F3CD51"
    assert format_account(0x100000) == "0x00100000"
    population = AccountPopulation(random.Random(5), 300)
    assert len(set(population.accounts)) == 300
    assert all(ACCOUNT.match(a) and ACCOUNT_MIN <= int(a, 16) <= ACCOUNT_MAX for a in population.accounts)


def test_merchants_are_capitalised_prefix_plus_suffix_from_own_word_lists():
    assert 35 <= len(MERCHANT_PREFIXES) <= 50 and 50 <= len(MERCHANT_SUFFIXES) <= 75
    assert len(set(MERCHANT_PREFIXES)) == len(MERCHANT_PREFIXES)
    assert len(set(MERCHANT_SUFFIXES)) == len(MERCHANT_SUFFIXES)
    assert "hyper" in MERCHANT_PREFIXES and "grid" in MERCHANT_SUFFIXES  # 'Hypergrid' is possible
    rng = random.Random(9)
    names = {random_merchant(rng) for _ in range(2000)}
    valid = {p.capitalize() + s for p in MERCHANT_PREFIXES for s in MERCHANT_SUFFIXES}
    assert names <= valid
    assert len(names) > 500  # drawn from the full cross product, not a handful


def test_skew_makes_the_top_account_recur_far_more_than_uniform():
    rng = random.Random(11)
    population = AccountPopulation(rng, 1000, 1.1)
    draws = Counter(population.draw(rng) for _ in range(20_000))
    top_account, top_count = draws.most_common(1)[0]
    uniform_expectation = 20_000 / 1000
    assert top_count > 50 * uniform_expectation
    assert top_account == population.accounts[0]  # rank 1 is the most popular


def test_zero_skew_is_roughly_uniform():
    rng = random.Random(11)
    population = AccountPopulation(rng, 100, 0.0)
    draws = Counter(population.draw(rng) for _ in range(20_000))
    assert draws.most_common(1)[0][1] < 3 * 200


def test_seeded_population_is_reproducible():
    assert AccountPopulation(random.Random(4), 20).accounts == AccountPopulation(random.Random(4), 20).accounts
    assert AccountPopulation(random.Random(4), 20).accounts != AccountPopulation(random.Random(5), 20).accounts


def test_confirmation_record_matches_the_contract():
    key, value = confirmation_record("0x00F3CD51")
    assert key == b"0x00F3CD51"
    assert json.loads(value) == {"account": "0x00F3CD51"}
    assert parse_confirmation(key.decode(), value).account == "0x00F3CD51"
    assert CONFIRMED_TOPIC == "confirmed"
