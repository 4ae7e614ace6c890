"""CPU, memory and per-thread CPU of running processes, read from /proc between two moments.

The end-to-end benchmark reports where the machine's two cores go under load:
CPU per process (100% = one core), RSS, and for the runtime JVM the CPU of its
threads grouped by name (RocksDB compaction, the StateFun operator, the HTTP
client, JIT, GC...), a profile that needs no agent in the JVM.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: Path) -> float:
    """utime + stime of a /proc/.../stat file, in seconds (0 when the process or thread is gone)."""
    try:
        text = stat_path.read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": fields from the third on
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(found.group(1)) / 1024, 1) if found else 0.0


def thread_group(name: str) -> str:
    """A thread's group: its name with numbers and per-instance suffixes folded ("rocksdb:low3" -> "rocksdb:low#")."""
    return re.sub(r"\d+", "#", name.strip())


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread group of `pid` so far."""
    groups: dict[str, float] = defaultdict(float)
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            name = (task / "comm").read_text()
        except OSError:
            continue
        groups[thread_group(name)] += cpu_seconds(task / "stat")
    return groups


@dataclass
class Snapshot:
    at: float
    cpu: dict[str, float]
    threads: dict[str, float]


class Sampler:
    """CPU per named process (and per thread group of one of them) between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int], threads_of: str | None = None) -> None:
        self.pids = pids
        self.threads_of = threads_of
        self._start: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        threads = thread_cpu(self.pids[self.threads_of]) if self.threads_of else {}
        return Snapshot(
            time.monotonic(), {name: cpu_seconds(Path(f"/proc/{pid}/stat")) for name, pid in self.pids.items()}, threads
        )

    def start(self) -> None:
        self._start = self.snapshot()

    def stop(self, top_threads: int = 10) -> dict:
        """CPU % per process, RSS now, and the busiest thread groups' CPU % since start()."""
        assert self._start is not None, "start() first"
        end = self.snapshot()
        wall = end.at - self._start.at
        percent = lambda seconds: round(100 * seconds / wall, 1)  # noqa: E731
        before = self._start.threads
        threads = {name: seconds - before.get(name, 0.0) for name, seconds in end.threads.items()}
        busiest = sorted(((name, spent) for name, spent in threads.items() if spent > 0), key=lambda item: -item[1])
        return {
            "seconds": round(wall, 1),
            "cpu_percent": {name: percent(end.cpu[name] - self._start.cpu[name]) for name in self.pids},
            "rss_mib": {name: rss_mib(pid) for name, pid in self.pids.items()},
            "threads": {name: percent(seconds) for name, seconds in busiest[:top_threads]},
        }
