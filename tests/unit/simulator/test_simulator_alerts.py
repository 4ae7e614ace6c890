"""Alert printing and confirmation decisions."""

import io
import json
import logging
import random

import pytest

from fraud_simulator.alerts import AlertPrinter, ConfirmationPolicy


def _alert(account: str, transaction_id: str, **extra) -> dict:
    return {
        "account": account,
        "merchant": "Hypergrid",
        "amount": 36,
        "timestamp": "2024-01-01T00:00:00",
        "transaction_id": transaction_id,
        **extra,
    }


def test_alert_is_printed_exactly_in_the_workshop_format():
    out = io.StringIO()
    printer = AlertPrinter(out)
    value = json.dumps(_alert("0x00F3CD51", "t1", score=0.97)).encode()
    assert printer.handle(value)["transaction_id"] == "t1"
    assert out.getvalue() == "Suspected Fraud for account id 0x00F3CD51 at Hypergrid for 36 USD\n"


def test_workshop_alert_without_extra_fields_is_printed():
    out = io.StringIO()
    AlertPrinter(out).handle(b'{"account": "0x00100000", "merchant": "Novamart", "amount": 1, "timestamp": "x"}')
    assert out.getvalue() == "Suspected Fraud for account id 0x00100000 at Novamart for 1 USD\n"


@pytest.mark.parametrize("raw", [None, b"", b"not json", b"[1,2]", b'{"account": "a"}', b"\xff\xfe", b'"str"'])
def test_unreadable_alert_is_counted_and_logged_not_raised(raw, caplog):
    out = io.StringIO()
    printer = AlertPrinter(out)
    with caplog.at_level(logging.WARNING):
        assert printer.handle(raw) is None
    assert printer.malformed == 1 and printer.printed == 0
    assert out.getvalue() == ""
    assert any("unreadable alert" in r.getMessage() for r in caplog.records)


def test_confirmation_share_is_about_five_percent_and_each_account_once():
    policy = ConfirmationPolicy(0.05, random.Random(1))
    confirmed = [policy.decide(_alert(f"0x{i:08X}", f"t{i}")) for i in range(20_000)]
    accounts = [a for a in confirmed if a is not None]
    assert 0.04 * 20_000 < len(accounts) < 0.06 * 20_000
    assert len(accounts) == len(set(accounts))


def test_redelivered_alert_is_never_confirmed_twice():
    policy = ConfirmationPolicy(1.0, random.Random(1))
    alert = _alert("0x00000001", "t1")
    assert policy.decide(alert) == "0x00000001"
    assert policy.decide(dict(alert)) is None
    # A different alert of the same account is a new decision.
    assert policy.decide(_alert("0x00000001", "t2")) == "0x00000001"


def test_zero_share_confirms_nothing():
    policy = ConfirmationPolicy(0.0, random.Random(1))
    assert all(policy.decide(_alert(f"a{i}", f"t{i}")) is None for i in range(1000))


def test_decisions_are_reproducible_with_a_seed():
    def run(seed):
        policy = ConfirmationPolicy(0.3, random.Random(seed))
        return [policy.decide(_alert(f"a{i}", f"t{i}")) for i in range(200)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_remembered_alerts_are_bounded():
    """Only the last `remember` alerts are recognised as redelivered: an older one counts as new again."""
    policy = ConfirmationPolicy(1.0, random.Random(1), remember=100)
    for i in range(101):
        assert policy.decide(_alert(f"a{i}", f"t{i}")) == f"a{i}"
    assert policy.decide(_alert("a1", "t1")) is None, "the 100th last alert is still remembered"
    assert policy.decide(_alert("a0", "t0")) == "a0", "the 101st last was forgotten"


def test_an_account_is_not_confirmed_again_within_the_cooldown():
    now = [0.0]
    policy = ConfirmationPolicy(1.0, random.Random(1), cooldown_seconds=1800, clock=lambda: now[0])
    assert policy.decide(_alert("acct", "t1")) == "acct"
    now[0] = 1799.0
    assert policy.decide(_alert("acct", "t2")) is None
    assert policy.decide(_alert("other", "t3")) == "other"  # the cooldown is per account
    now[0] = 1800.0
    assert policy.decide(_alert("acct", "t4")) == "acct"


def test_remembered_confirmations_are_bounded():
    """Only the last `remember` confirmed accounts are held to the cooldown: an older one is confirmed again."""
    policy = ConfirmationPolicy(1.0, random.Random(1), remember=50, cooldown_seconds=1800, clock=lambda: 0.0)
    for i in range(51):
        assert policy.decide(_alert(f"a{i}", f"t{i}")) == f"a{i}"
    assert policy.decide(_alert("a50", "again-50")) is None, "still in its cooldown"
    assert policy.decide(_alert("a0", "again-0")) == "a0", "forgotten, so confirmed again"
