"""The control plane's processes outlive the command that starts them: a state file records them,
and `down` stops them from any process, by pid, after checking each pid is still the one started.

A process is identified by its pid and its start time (field 22 of /proc/<pid>/stat), so a pid
reused by the system after a crash is never signalled. A zombie counts as stopped: daemons whose
parent exited are reaped by init, sometimes seconds later.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may contain spaces), or None."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_running(record: ProcessRecord) -> bool:
    fields = _stat_fields(record.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == record.start_ticks


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (the in-process fixture), else nothing."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(record: ProcessRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(record.pid)
        if not is_running(record):
            return True
        time.sleep(0.1)
    return False


def stop(records: list[ProcessRecord], timeout: float) -> dict[str, str]:
    """SIGTERM each record's process group together, wait up to `timeout`, SIGKILL what is left.

    Returns how each one ended: "terminated" (by SIGTERM), "killed" (needed SIGKILL) or "not running".
    """
    outcome: dict[str, str] = {}
    signalled = []
    for record in records:
        if is_running(record):
            os.killpg(record.pid, signal.SIGTERM)
            signalled.append(record)
        else:
            outcome[record.name] = "not running"
    deadline = time.monotonic() + timeout
    for record in signalled:
        if _wait_gone(record, max(0.0, deadline - time.monotonic())):
            outcome[record.name] = "terminated"
        else:
            os.killpg(record.pid, signal.SIGKILL)
            _wait_gone(record, 10)
            outcome[record.name] = "killed"
    return outcome


class StateFile:
    """state.json in the run directory: the processes started so far, in start order."""

    def __init__(self, path: Path):
        self.path = path

    def records(self) -> list[ProcessRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [ProcessRecord(**entry) for entry in data["processes"]]

    def add(self, name: str, pid: int) -> ProcessRecord:
        ticks = start_ticks(pid)
        if ticks is None:
            raise RuntimeError(f"{name} (pid {pid}) exited at once")
        record = ProcessRecord(name, pid, ticks)
        records = [*self.records(), record]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"processes": [asdict(r) for r in records]}, indent=1), encoding="utf-8")
        temporary.replace(self.path)
        return record


def processes_using(path: Path) -> list[str]:
    """Every process whose command line names `path`: what a clean teardown must leave none of."""
    needle = str(path).encode()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = _stat_fields(int(entry.name))
        if needle in cmdline and fields is not None and fields[0] != "Z":
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"pid {entry.name}: {command[:200]}")
    return found


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path` (a real node's kubelet mounts volumes; none must survive)."""
    prefix = str(path)
    mounts = []
    for line in (PROC / "self" / "mountinfo").read_text(encoding="utf-8").splitlines():
        mount_point = line.split()[4]
        if mount_point == prefix or mount_point.startswith(prefix + "/"):
            mounts.append(mount_point)
    return mounts
