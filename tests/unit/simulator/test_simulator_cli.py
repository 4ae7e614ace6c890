"""Argument parsing and the commands wired to fake Kafka clients."""

import asyncio
import io
import json

import pytest

from fraud_common.contract import TRANSACTIONS_TOPIC, encode
from fraud_simulator import cli, scenario_transactions
from fraud_simulator.kafka_io import KafkaUnavailable
from fraud_simulator.loops import transaction_record

from .fakes import FakeSink, FakeSource


def test_run_defaults_come_from_the_environment():
    args = cli.parse_args(
        ["run"],
        env={
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:29092",
            "SIMULATOR_RATE": "25",
            "SIMULATOR_ACCOUNTS": "10",
            "SIMULATOR_SKEW": "2",
            "SIMULATOR_SEED": "4",
            "SIMULATOR_GROUP": "grp",
            "SIMULATOR_CONFIRM_SHARE": "0.2",
            "SIMULATOR_STATUS_INTERVAL": "0",
            "SIMULATOR_MAX_TRANSACTIONS": "7",
            "SIMULATOR_BURST": "3",
        },
    )
    assert args.command == "run"
    assert (args.bootstrap_servers, args.rate, args.burst, args.accounts, args.skew) == ("kafka:29092", 25, 3, 10, 2)
    assert (args.seed, args.group, args.confirm_share, args.status_interval, args.max_transactions) == (
        4,
        "grp",
        0.2,
        0,
        7,
    )


def test_builtin_defaults():
    args = cli.parse_args(["run"], env={})
    assert (args.bootstrap_servers, args.rate, args.burst, args.accounts, args.skew) == (
        "localhost:9092",
        10,
        None,
        10_000,
        0.8,
    )
    assert (args.seed, args.group, args.confirm_share, args.status_interval, args.max_transactions) == (
        None,
        "fraud-simulator",
        0.05,
        5,
        None,
    )


def test_flags_override_the_environment():
    args = cli.parse_args(
        [
            "run",
            "--rate",
            "3.5",
            "--max-transactions",
            "9",
            "--seed",
            "1",
            "--bootstrap-servers",
            "b:1",
            "--confirm-share",
            "0",
        ],
        env={"SIMULATOR_RATE": "100", "SIMULATOR_SEED": "2"},
    )
    assert (args.rate, args.max_transactions, args.seed, args.bootstrap_servers, args.confirm_share) == (
        3.5,
        9,
        1,
        "b:1",
        0,
    )


def test_no_subcommand_means_run():
    assert cli.parse_args([], env={}).command == "run"
    assert cli.parse_args(["--rate", "2"], env={}).rate == 2


def test_scenario_arguments():
    args = cli.parse_args(["scenario", "--seed", "42", "--count", "500", "--timeout", "12"], env={})
    assert (args.command, args.seed, args.count, args.timeout) == ("scenario", 42, 500, 12)
    defaults = cli.parse_args(["scenario"], env={"SIMULATOR_SEED": "8"})
    assert (defaults.seed, defaults.count, defaults.timeout) == (8, 100, 30)


@pytest.mark.parametrize(
    "argv", [["run", "--rate", "0"], ["run", "--confirm-share", "2"], ["scenario", "--count", "x"], ["bogus"]]
)
def test_invalid_flags_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(argv, env={})
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_main_reports_a_bad_variable_by_name_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("SIMULATOR_ACCOUNTS", "many")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "SIMULATOR_ACCOUNTS" in err and "Traceback" not in err


def test_main_turns_unreachable_kafka_into_a_message(monkeypatch, capsys):
    async def unreachable(args, stop, *rest):
        raise KafkaUnavailable("producer: Kafka not reachable after 3 attempts")

    monkeypatch.setattr(cli, "run_command", unreachable)
    monkeypatch.setattr(cli, "configure_stderr_logging", lambda: None)
    assert cli.main(["run"]) == 1
    assert "Kafka not reachable" in capsys.readouterr().err


def _factories(sink, source):
    async def producer(bootstrap):
        return sink

    async def alerts(bootstrap, group):
        return source

    async def alerts_at_end(bootstrap):
        return source

    return cli.KafkaFactories(producer=producer, alerts=alerts, alerts_at_end=alerts_at_end)


async def test_scenario_command_prints_one_json_summary_and_closes_clients():
    transactions = scenario_transactions(3, 20)
    sink, source = (
        FakeSink(),
        FakeSource(
            [encode({**transactions[4].to_record(), "transaction_id": transactions[4].transaction_id, "score": 0.9})]
        ),
    )
    out, err = io.StringIO(), io.StringIO()
    args = cli.parse_args(
        ["scenario", "--seed", "3", "--count", "20", "--timeout", "0", "--rate", "100000", "--status-interval", "0"],
        env={},
    )
    assert await cli.run_command(args, asyncio.Event(), _factories(sink, source), out, err) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["produced"] == 20
    assert sink.on(TRANSACTIONS_TOPIC) == [transaction_record(t) for t in transactions]
    assert sink.closed and source.closed


async def test_run_command_with_max_transactions_stops_and_closes():
    sink, source = FakeSink(), FakeSource()
    args = cli.parse_args(
        [
            "run",
            "--max-transactions",
            "12",
            "--rate",
            "100000",
            "--status-interval",
            "0",
            "--seed",
            "1",
            "--drain",
            "0",
        ],
        env={},
    )
    assert await cli.run_command(args, asyncio.Event(), _factories(sink, source), io.StringIO(), io.StringIO()) == 0
    assert len(sink.on(TRANSACTIONS_TOPIC)) == 12
    assert sink.closed and source.closed


@pytest.mark.parametrize("command", ["run", "scenario", "smoke"])
async def test_a_stop_before_kafka_is_reached_is_giving_up_not_success(command):
    stop = asyncio.Event()
    stop.set()
    args = cli.parse_args([command], env={})

    async def never(*_):
        raise AssertionError("must not connect after a stop request")

    factories = cli.KafkaFactories(producer=never, alerts=never, alerts_at_end=never)
    with pytest.raises(KafkaUnavailable, match="stopped before Kafka was reached"):
        await cli.run_command(args, stop, factories, io.StringIO(), io.StringIO())


@pytest.mark.parametrize("command", ["scenario", "smoke"])
async def test_giving_up_on_the_second_client_closes_the_first(command):
    """scenario and smoke connect the consumer first; when the producer never comes, the consumer is closed."""
    stop, source = asyncio.Event(), FakeSource()

    async def consumer(*_):
        return source

    async def no_broker(*_):
        stop.set()  # Ctrl-C while the producer is still retrying
        raise ConnectionError("no broker")

    factories = cli.KafkaFactories(producer=no_broker, alerts=consumer, alerts_at_end=consumer)
    out = io.StringIO()
    with pytest.raises(KafkaUnavailable, match="producer: stopped before Kafka was reached"):
        await cli.run_command(cli.parse_args([command], env={}), stop, factories, out, io.StringIO())
    assert source.closed and out.getvalue() == "", "no summary or smoke result for a run that never started"


@pytest.mark.parametrize("command", ["run", "scenario", "smoke"])
def test_main_exits_non_zero_when_it_gives_up_connecting(monkeypatch, capsys, command):
    async def no_broker(*_):
        raise ConnectionError("no broker")

    real = cli.KafkaFactories
    monkeypatch.setattr(cli, "KafkaFactories", lambda: real(no_broker, no_broker, no_broker))
    monkeypatch.setattr(cli, "configure_stderr_logging", lambda: None)
    assert cli.main([command, "--connect-timeout", "0"]) == cli.EXIT_KAFKA == 1
    assert "Kafka not reachable after 1 attempts: no broker" in capsys.readouterr().err


def test_seeded_live_transactions_are_reproducible_in_content():
    args = cli.parse_args(["run", "--seed", "5", "--max-transactions", "30"], env={})
    first = [(t.account, t.merchant, t.amount) for t in cli.live_transactions(args)]
    second = [(t.account, t.merchant, t.amount) for t in cli.live_transactions(args)]
    assert len(first) == 30 and first == second
