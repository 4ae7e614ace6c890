"""`make bench`: run the benchmarks, print their figures, write docs/benchmarks.json and docs/benchmarks.md.

    python -m fraud_dev.bench                     # every benchmark (about 40 to 55 minutes on two cores)
    python -m fraud_dev.bench function-server sdk # some of them; the others' figures stay as they were
    python -m fraud_dev.bench --quick             # short runs, to check the benchmarks themselves work

Not a test: nothing here passes or fails on a figure. Run it on a quiet
machine; the figures that matter are ratios measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from fraud_dev.bench import end_to_end, function_server, report, sdk_comparison

BENCHMARKS: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]] = {
    # name: (full run, quick run)
    "function-server": (function_server.run, lambda: function_server.run(seconds=3, rounds=1)),
    "sdk": (sdk_comparison.run, lambda: sdk_comparison.run(seconds=2, rounds=1)),
    "end-to-end": (
        end_to_end.run,
        lambda: end_to_end.run(seconds=10, drain=15, configurations=end_to_end.CONFIGURATIONS[:1], ceiling=200),
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fraud_dev.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "benchmarks", nargs="*", metavar="BENCHMARK", help=f"which to run, of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="short runs; the figures are not worth keeping")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args(argv)
    unknown = set(args.benchmarks) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    machine = report.machine()
    sections = {}
    for name in args.benchmarks or list(BENCHMARKS):
        full, quick = BENCHMARKS[name]
        print(f"[bench] {name}...", file=sys.stderr, flush=True)
        sections[name] = quick() if args.quick else full()
        print(json.dumps({name: sections[name]}, indent=2), flush=True)
    if not args.dry_run:
        results = report.save(sections, machine)
        print(json.dumps({key: results.get(key) for key in report.TARGETS}, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
