"""The upgrade step of ADR 0016: which thresholds are sent again (the latest of each account, not expired ones)."""

from __future__ import annotations

from typing import NamedTuple

from fraud_common.reseed import latest


class Record(NamedTuple):
    """What the reseed reads of a Kafka record (aiokafka's ConsumerRecord has these fields)."""

    key: bytes | None
    value: bytes | None
    timestamp: int


def test_the_last_record_of_each_account_is_kept_byte_for_byte():
    records = [
        Record(b"0xA", b'{"account": "0xA", "threshold": 90}', 1_000),
        Record(b"0xB", b'{"account": "0xB", "threshold": 10}', 1_100),
        Record(b"0xA", b'{"account": "0xA", "threshold": 35}', 1_200),
    ]
    assert latest(records, not_before_ms=0) == {
        b"0xA": b'{"account": "0xA", "threshold": 35}',
        b"0xB": b'{"account": "0xB", "threshold": 10}',
    }


def test_a_tombstone_removes_its_account_and_a_later_record_brings_it_back():
    records = [Record(b"0xA", b"90", 1), Record(b"0xA", None, 2), Record(b"0xB", b"10", 3), Record(b"0xB", None, 4)]
    assert latest([*records, Record(b"0xA", b"20", 5)], not_before_ms=0) == {b"0xA": b"20"}


def test_a_threshold_older_than_its_time_to_live_is_not_brought_back():
    records = [Record(b"0xOLD", b"50", 999), Record(b"0xNEW", b"60", 1_000), Record(b"0xREKEYED", b"70", 500)]
    records.append(Record(b"0xREKEYED", b"75", 2_000))  # set again lately: counts from then
    assert latest(records, not_before_ms=1_000) == {b"0xNEW": b"60", b"0xREKEYED": b"75"}


def test_a_record_without_a_key_is_ignored():
    assert latest([Record(None, b"50", 1)], not_before_ms=0) == {}
