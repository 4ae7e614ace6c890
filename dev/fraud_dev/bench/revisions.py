"""Before and after: the function server of two git revisions, side by side in one run.

Each optimization in docs/benchmarks.md is measured with this: the revision
before the change and the one after (or the working tree) serve the same
recorded requests (the traced steady-state mix of dev/fraud_dev/bench/function_server.py,
recorded by the working tree's functions, so both revisions must read the same
wire format), over HTTP at saturation with metrics and tracing on, and in
process; rounds alternate the revisions and the figures are medians, so load
from a neighbour on this shared machine does not favour one side. py-spy
profiles each revision's server once.

Usage: python -m fraud_dev.bench.revisions BEFORE [AFTER]   (AFTER defaults to the working tree)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

from fraud_dev.bench.function_server import SpanSink, serve_and_load, steady_mix
from fraud_dev.bench.profile import Profile
from fraud_dev.bench.wrk import write_bodies
from fraud_dev.paths import REPO_ROOT
from fraud_dev.ports import free_port

REPO = REPO_ROOT
WORKTREES = REPO / ".cache" / "bench" / "revisions"
WORKING_TREE = "working tree"


@dataclass(frozen=True)
class Side:
    revision: str
    http_requests_per_second: float
    http_p99_ms: float
    in_process_requests_per_second: float
    profile: Profile | None


def checkout(revision: str) -> Path:
    """A detached worktree of `revision` under .cache/bench/revisions (the working tree itself for WORKING_TREE)."""
    if revision == WORKING_TREE:
        return REPO
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    tree = WORKTREES / commit[:12]
    if not tree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO, check=True, capture_output=True
        )
    return tree


def source_path(tree: Path) -> str:
    """PYTHONPATH that makes `tree`'s packages win over the editable install (bench itself stays this tree's)."""
    return ":".join([str(tree / "functions"), str(tree / "common"), str(REPO / "dev")])


def in_process(tree: Path, bodies: Path, seconds: float) -> float:
    output = subprocess.run(
        [sys.executable, "-m", "fraud_dev.bench.dispatch", "--bodies", str(bodies), "--seconds", str(seconds)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": source_path(tree), "LOG_LEVEL": "WARNING"},
    ).stdout
    return float(json.loads(output.strip().splitlines()[-1])["requests_per_second"])


def compare(before: str, after: str, seconds: int = 8, rounds: int = 3) -> dict:
    trees = {before: checkout(before), after: checkout(after)}
    http: dict[str, list] = {name: [] for name in trees}
    inside: dict[str, list[float]] = {name: [] for name in trees}
    profiles: dict[str, Profile | None] = {}
    sink = SpanSink()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            bodies = Path(scratch)
            script = write_bodies(bodies, steady_mix())
            for round_number in range(rounds):
                for name, tree in trees.items():
                    load, profile = serve_and_load(
                        free_port(),
                        script,
                        seconds,
                        sink.endpoint,
                        profiled=round_number == 0,
                        pythonpath=source_path(tree),
                    )
                    http[name].append(load)
                    profiles.setdefault(name, profile)
                    inside[name].append(in_process(tree, bodies, seconds))
    finally:
        sink.close()
    sides = [
        Side(
            name,
            median(load.requests_per_second for load in http[name]),
            median(load.p99_ms for load in http[name]),
            median(inside[name]),
            profiles[name],
        )
        for name in trees
    ]
    paired = [b.requests_per_second / a.requests_per_second for a, b in zip(http[before], http[after], strict=True)]
    paired_inside = [b / a for a, b in zip(inside[before], inside[after], strict=True)]
    return {
        "rounds": rounds,
        "seconds": seconds,
        "sides": [asdict(side) for side in sides],
        "http_speedup": round(median(paired), 3),
        "in_process_speedup": round(median(paired_inside), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default=WORKING_TREE)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(compare(args.before, args.after, args.seconds, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
