"""`python -m fraud_backtest`: export the ledger of a time range, or backtest candidate models on it.

    python -m fraud_backtest export --bootstrap-servers HOST:PORT --out ledger.jsonl
    python -m fraud_backtest run (--ledger ledger.jsonl | --bootstrap-servers HOST:PORT) \\
        [--since ISO-TIME] [--until ISO-TIME] --candidate model.json [--candidate ...] --out DIR

Kafka's security comes from the KAFKA_* variables, as for every component (docs/security.md). A candidate that
cannot be used (an invalid file, a feature the ledger does not record) is refused with the reason: exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from fraud_backtest import report
from fraud_backtest.evaluate import backtest
from fraud_backtest.ledger import Entry, LedgerError, read_file, read_kafka, select, write_file
from fraud_common.kafka_security import KafkaConnection
from fraud_common.settings import SettingsError
from fraud_functions.scoring import ModelError

EXIT_REFUSED = 2
EVER, NEVER = 0, 2**62


def _instant(text: str) -> int:
    """An ISO 8601 time (UTC when it names no zone) as epoch milliseconds."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m fraud_backtest", description=__doc__.split("\n\n")[0])
    commands = parse.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write the decisions and confirmed records of Kafka to a file")
    export.add_argument("--bootstrap-servers", required=True)
    export.add_argument("--out", type=Path, required=True)
    run = commands.add_parser("run", help="rescore a range of the ledger with candidate model files")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--ledger", type=Path, help="a file written by `export`")
    source.add_argument("--bootstrap-servers", help="read `decisions` and `confirmed` from this Kafka")
    run.add_argument("--since", type=_instant, default=EVER, help="first decision time (ISO 8601, UTC by default)")
    run.add_argument("--until", type=_instant, default=NEVER, help="last decision time (ISO 8601, UTC by default)")
    run.add_argument("--candidate", type=Path, action="append", required=True, help="a model file (repeatable)")
    run.add_argument("--out", type=Path, required=True, help="folder for report.md, report.json and the plots")
    return parse


def entries(bootstrap_servers: str | None, ledger: Path | None) -> list[Entry]:
    if ledger is not None:
        return read_file(ledger)
    assert bootstrap_servers is not None
    return read_kafka(KafkaConnection.from_env(bootstrap_servers))


def span(since: int, until: int) -> str:
    def shown(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")

    if (since, until) == (EVER, NEVER):
        return "the whole ledger"
    return (
        f"decided from {shown(since) if since != EVER else 'the start'} to {shown(until) if until != NEVER else 'now'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "export":
            written = write_file(args.out, entries(args.bootstrap_servers, None))
            print(f"wrote {written} records to {args.out}")
            return 0
        ledger = select(entries(args.bootstrap_servers, args.ledger), args.since, args.until)
        scored, measured = backtest(ledger, args.candidate)
    except (LedgerError, ModelError, SettingsError) as err:
        print(f"refused: {err}", file=sys.stderr)
        return EXIT_REFUSED
    report.write(args.out, ledger, scored, measured, span(args.since, args.until))
    print(f"wrote {args.out / 'report.md'}, report.json and the plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
