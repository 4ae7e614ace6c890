"""`fraud-simulator run | scenario | smoke`: argument parsing, wiring and clean shutdown.

Every flag defaults from its environment variable (see settings.py), so the
container needs no arguments. Ctrl-C / SIGTERM stop production, flush the
producer, close the consumer and exit 0. Giving up on Kafka, because it was not
reachable within --connect-timeout or because a stop came before it was, is a
clear one-line message and exit code 1, not a stack trace (and never a 0: the
simulator did not do what it was asked to).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import random
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from typing import Protocol, TextIO, TypeVar

from fraud_common.contract import Transaction
from fraud_common.logs import configure_logging
from fraud_common.settings import SettingsError
from fraud_common.tracing import traced_process
from fraud_simulator import kafka_io
from fraud_simulator.alerts import AlertPrinter, ConfirmationPolicy
from fraud_simulator.health import start_health_server
from fraud_simulator.kafka_io import (
    KafkaUnavailable,
    RecordSink,
    RecordSource,
    connect_with_retry,
)
from fraud_simulator.loops import Metrics, finish, run_live
from fraud_simulator.population import AccountPopulation
from fraud_simulator.rate_limiter import TokenBucket
from fraud_simulator.scenario import run_scenario, summary_json
from fraud_simulator.settings import (
    MAX_ACCOUNTS,
    SimulatorSettings,
    effective_burst,
    load_settings,
)
from fraud_simulator.smoke import run_smoke, smoke_transaction
from fraud_simulator.status import StatusReporter, report_periodically
from fraud_simulator.thresholds import ThresholdPolicy
from fraud_simulator.transactions import TransactionGenerator, scenario_transactions

PROG = "fraud-simulator"
EXIT_OK = 0
EXIT_KAFKA = 1
EXIT_USAGE = 2
EXIT_SMOKE_FAILED = 3


class Closable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


def _number(
    kind: type[int] | type[float], minimum: float | None = None, maximum: float | None = None
) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not {'an integer' if kind is int else 'a number'}") from None
        if kind is float and value != value:
            raise argparse.ArgumentTypeError("NaN is not allowed")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{raw} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{raw} is above the maximum {maximum}")
        return value

    return parse


def build_parser(settings: SimulatorSettings) -> argparse.ArgumentParser:
    """The argument parser, with defaults taken from `settings` (i.e. the environment)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Produce card transactions to Kafka and print the pipeline's fraud alerts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,scenario,smoke}")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--bootstrap-servers",
            default=settings.bootstrap_servers,
            help="Kafka bootstrap servers (KAFKA_BOOTSTRAP_SERVERS, default %(default)s)",
        )
        sub.add_argument(
            "--rate",
            type=_number(float, 0.001),
            default=settings.rate,
            help="transactions per second (SIMULATOR_RATE, default %(default)s)",
        )
        sub.add_argument(
            "--burst",
            type=_number(float, 1.0),
            default=settings.burst,
            help="token bucket size (SIMULATOR_BURST, default: one second's worth)",
        )
        sub.add_argument(
            "--status-interval",
            type=_number(float, 0.0),
            default=settings.status_interval,
            help="seconds between status lines on stderr, 0 = off (SIMULATOR_STATUS_INTERVAL, default %(default)s)",
        )
        sub.add_argument(
            "--connect-timeout",
            type=_number(float, 0.0),
            default=settings.connect_timeout,
            help="give up reaching Kafka after this many seconds (SIMULATOR_CONNECT_TIMEOUT, default %(default)s)",
        )

    run = commands.add_parser("run", help="produce continuously, print alerts, confirm a share of them")
    common(run)
    run.add_argument(
        "--accounts",
        type=_number(int, 1, MAX_ACCOUNTS),
        default=settings.accounts,
        help="size of the account population (SIMULATOR_ACCOUNTS, default %(default)s)",
    )
    run.add_argument(
        "--skew",
        type=_number(float, 0.0),
        default=settings.skew,
        help="Zipf exponent of account popularity, 0 = uniform (SIMULATOR_SKEW, default %(default)s)",
    )
    run.add_argument(
        "--seed",
        type=_number(int),
        default=settings.seed,
        help="seed for accounts, merchants, amounts and confirmations (SIMULATOR_SEED, default random)",
    )
    run.add_argument(
        "--group", default=settings.group, help="consumer group for alerts (SIMULATOR_GROUP, default %(default)s)"
    )
    run.add_argument(
        "--compromised-share",
        type=_number(float, 0.0, 1.0),
        default=settings.compromised_share,
        help="chance that a transaction starts a compromised card's burst of 4-8 larger transactions "
        "(SIMULATOR_COMPROMISED_SHARE, default %(default)s)",
    )
    run.add_argument(
        "--threshold-share",
        type=_number(float, 0.0, 1.0),
        default=settings.threshold_share,
        help="chance that a transaction's account then sets its own alert threshold (60-95) on the "
        "thresholds topic (SIMULATOR_THRESHOLD_SHARE, default %(default)s)",
    )
    run.add_argument(
        "--confirm-share",
        type=_number(float, 0.0, 1.0),
        default=settings.confirm_share,
        help="share of alerts confirmed as fraud (SIMULATOR_CONFIRM_SHARE, default %(default)s)",
    )
    run.add_argument(
        "--confirm-cooldown",
        type=_number(float, 0.0),
        default=settings.confirm_cooldown,
        help="seconds before an account is confirmed again; match the pipeline's fraud window "
        "(SIMULATOR_CONFIRM_COOLDOWN, default %(default)s)",
    )
    run.add_argument(
        "--max-transactions",
        type=_number(int, 1),
        default=settings.max_transactions,
        help="stop after this many transactions (SIMULATOR_MAX_TRANSACTIONS, default unlimited)",
    )
    run.add_argument(
        "--drain",
        type=_number(float, 0.0),
        default=settings.drain_seconds,
        help="after --max-transactions, keep reading alerts this long (SIMULATOR_DRAIN_SECONDS, default %(default)s)",
    )
    run.add_argument(
        "--health-port",
        type=_number(int, 0, 65535),
        default=settings.health_port,
        help="serve /healthz and /metrics on this port, 0 = off (SIMULATOR_HEALTH_PORT, default %(default)s)",
    )
    run.add_argument(
        "--health-host",
        default=settings.health_host,
        help="address of the health server (SIMULATOR_HEALTH_HOST, default %(default)s)",
    )

    scenario = commands.add_parser("scenario", help="produce a deterministic batch and print a JSON summary")
    common(scenario)
    scenario.add_argument(
        "--seed",
        type=_number(int),
        default=settings.seed if settings.seed is not None else 0,
        help="scenario seed (SIMULATOR_SEED, default %(default)s)",
    )
    scenario.add_argument(
        "--count",
        type=_number(int, 0),
        default=settings.scenario_count,
        help="transactions to produce (SIMULATOR_SCENARIO_COUNT, default %(default)s)",
    )
    scenario.add_argument(
        "--timeout",
        type=_number(float, 0.0),
        default=settings.scenario_timeout,
        help="seconds to collect alerts after producing (SIMULATOR_SCENARIO_TIMEOUT, default %(default)s)",
    )

    smoke = commands.add_parser("smoke", help="send one transaction built to alert and wait for its record")
    smoke.add_argument(
        "--bootstrap-servers",
        default=settings.bootstrap_servers,
        help="Kafka bootstrap servers (KAFKA_BOOTSTRAP_SERVERS, default %(default)s)",
    )
    smoke.add_argument(
        "--connect-timeout",
        type=_number(float, 0.0),
        default=settings.connect_timeout,
        help="give up reaching Kafka after this many seconds (SIMULATOR_CONNECT_TIMEOUT, default %(default)s)",
    )
    smoke.add_argument(
        "--topic",
        default=settings.smoke_topic,
        help="topic to wait on: alerts (key = account) or decisions (key = transaction id) "
        "(SIMULATOR_SMOKE_TOPIC, default %(default)s)",
    )
    smoke.add_argument(
        "--timeout",
        type=_number(float, 0.0),
        default=settings.smoke_timeout,
        help="seconds to wait for the record (SIMULATOR_SMOKE_TIMEOUT, default %(default)s)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Parse the command line; no sub-command means `run`. Raises SettingsError for a bad variable."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "run")
    return build_parser(load_settings(env)).parse_args(args)


@dataclass
class KafkaFactories:
    """How to open the Kafka clients; tests substitute fakes."""

    producer: Callable[[str], Awaitable[RecordSink]] = kafka_io.open_producer
    alerts: Callable[[str, str], Awaitable[RecordSource]] = kafka_io.open_alert_consumer
    alerts_at_end: Callable[..., Awaitable[RecordSource]] = kafka_io.open_alert_consumer_at_end


def live_transactions(args: argparse.Namespace) -> Iterator[Transaction]:
    """The endless (or --max-transactions long) stream of live transactions."""
    rng = random.Random(args.seed)
    generator = TransactionGenerator(
        rng, AccountPopulation(rng, args.accounts, args.skew), compromised_share=args.compromised_share
    )
    stream: Iterable[Transaction] = (generator.next() for _ in itertools.count())
    if args.max_transactions is not None:
        stream = itertools.islice(stream, args.max_transactions)
    return iter(stream)


def confirmation_rng(seed: int | None) -> random.Random:
    """Its own RNG, so alert arrival order cannot perturb the transaction stream."""
    return random.Random() if seed is None else random.Random(f"confirm:{seed}")


def _count_failures(sink: RecordSink, metrics: Metrics) -> None:
    if isinstance(sink, kafka_io.ProducerSink):
        sink.counters = metrics.counters


@dataclass
class Command:
    """One parsed command's run: its arguments, stop request, Kafka factories and output streams."""

    args: argparse.Namespace
    stop: asyncio.Event
    factories: KafkaFactories
    out: TextIO
    err: TextIO

    async def connect(self, clients: AsyncExitStack, what: str, open_client: Callable[[], Awaitable[C]]) -> C:
        """Open one Kafka client (retrying; KafkaUnavailable when it gives up) and close it when `clients` ends."""
        client = await connect_with_retry(open_client, what, self.args.connect_timeout, stop=self.stop, err=self.err)
        clients.push_async_callback(client.close)
        return client

    def status_reports(self, clients: AsyncExitStack, metrics: Metrics) -> None:
        """Write status lines on stderr every --status-interval seconds until `clients` ends."""
        reporter = StatusReporter(metrics.counters, metrics.latency, metrics.clock)
        status = asyncio.create_task(report_periodically(reporter, self.args.status_interval, self.err))
        clients.push_async_callback(finish, status)


async def run_command(
    args: argparse.Namespace,
    stop: asyncio.Event,
    factories: KafkaFactories | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Execute a parsed command; returns the exit code. Raises KafkaUnavailable when it gives up connecting."""
    command = Command(args, stop, factories or KafkaFactories(), out or sys.stdout, err or sys.stderr)
    run = {"smoke": smoke_command, "scenario": scenario_command, "run": live_command}[args.command]
    return await run(command)


async def live_command(command: Command) -> int:
    """Produce until stopped (or --max-transactions), print alerts and confirm a share of them."""
    args, bootstrap = command.args, command.args.bootstrap_servers
    metrics = Metrics()
    async with AsyncExitStack() as clients:
        sink = await command.connect(clients, "producer", lambda: command.factories.producer(bootstrap))
        _count_failures(sink, metrics)
        source = await command.connect(
            clients, "alerts consumer", lambda: command.factories.alerts(bootstrap, args.group)
        )
        await run_live(
            live_transactions(args),
            sink,
            source,
            TokenBucket(args.rate, effective_burst(args.rate, args.burst)),
            ConfirmationPolicy(args.confirm_share, confirmation_rng(args.seed), cooldown_seconds=args.confirm_cooldown),
            command.stop,
            printer=AlertPrinter(command.out),
            metrics=metrics,
            status_interval=args.status_interval,
            status_out=command.err,
            drain_seconds=args.drain,
            thresholds=ThresholdPolicy(
                args.threshold_share, random.Random(None if args.seed is None else f"thresholds:{args.seed}")
            ),
        )
    return EXIT_OK


async def scenario_command(command: Command) -> int:
    """Produce the seeded batch, collect its alerts, print one JSON summary."""
    args, bootstrap = command.args, command.args.bootstrap_servers
    metrics = Metrics()
    async with AsyncExitStack() as clients:
        # The consumer first: its end offsets must be pinned before we produce.
        source = await command.connect(clients, "alerts consumer", lambda: command.factories.alerts_at_end(bootstrap))
        sink = await command.connect(clients, "producer", lambda: command.factories.producer(bootstrap))
        _count_failures(sink, metrics)
        command.status_reports(clients, metrics)
        summary = await run_scenario(
            scenario_transactions(args.seed, args.count),
            sink,
            source,
            TokenBucket(args.rate, effective_burst(args.rate, args.burst)),
            args.timeout,
            command.stop,
            metrics,
        )
    print(summary_json(summary), file=command.out, flush=True)
    return EXIT_OK


async def smoke_command(command: Command) -> int:
    """Pin the end of the topic, send one transaction built to alert, wait for its record; print one JSON line."""
    args, bootstrap = command.args, command.args.bootstrap_servers
    async with AsyncExitStack() as clients:
        source = await command.connect(
            clients, f"{args.topic} consumer", lambda: command.factories.alerts_at_end(bootstrap, args.topic)
        )
        sink = await command.connect(clients, "producer", lambda: command.factories.producer(bootstrap))
        result = await run_smoke(smoke_transaction(random.Random()), args.topic, sink, source, args.timeout)
    print(result.to_json(), file=command.out, flush=True)
    return EXIT_OK if result.ok else EXIT_SMOKE_FAILED


def configure_stderr_logging() -> None:
    """JSON logs like every component, but on stderr: stdout carries alerts and the scenario summary."""
    configure_logging(PROG, sys.stderr)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # we report its connection failures, once each


async def _main_async(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not on the main thread / platform
            loop.add_signal_handler(signum, stop.set)
    health = None
    if args.command == "run" and args.health_port:
        health = await start_health_server(args.health_host, args.health_port)
    try:
        return await run_command(args, stop)
    finally:
        if health is not None:
            await health.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (`fraud-simulator`, `python -m fraud_simulator`)."""
    try:
        args = parse_args(argv)
    except SettingsError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_stderr_logging()
    try:
        with traced_process("fraud-simulator"):
            return asyncio.run(_main_async(args))
    except KafkaUnavailable as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_KAFKA
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:
        from aiokafka.errors import KafkaError

        if isinstance(error, KafkaError):
            print(f"{PROG}: error: Kafka failed: {error}", file=sys.stderr)
            return EXIT_KAFKA
        raise
