"""A child process with its own log file, a readiness check and an orderly stop.

Children run in their own session, so Ctrl-C reaches only the stack, which then
stops them in reverse order (the runtime before the broker it writes to).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ServiceError(RuntimeError):
    """A service died or did not become ready; the message includes the end of its log."""


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(content[-lines:])


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    stop_timeout: float = 30.0
    # The simulator writes to the terminal (alerts on stdout, status lines on stderr) instead of a log file.
    to_terminal: bool = False
    _process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                list(self.argv),
                stdout=None if self.to_terminal else log,
                stderr=None if self.to_terminal else log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            log.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def wait_ready(self, check: Callable[[], bool], timeout: float, interval: float = 0.25) -> None:
        """Poll `check` until it holds; fail fast if the process exits meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise ServiceError(
                    f"{self.name} exited (code {self.returncode()}) before it was ready; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                if check():
                    return
            except Exception:  # noqa: BLE001 - a check that cannot connect yet is simply "not ready"
                pass
            time.sleep(interval)
        raise ServiceError(
            f"{self.name} was not ready after {timeout:.0f}s; last lines of {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def returncode(self) -> int | None:
        return self._process.poll() if self._process else None

    def wait(self) -> int:
        assert self._process is not None
        return self._process.wait()

    def kill(self) -> None:
        """SIGKILL the process group at once and reap it."""
        if not self.running:
            return
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL if it will not go within stop_timeout."""
        if not self.running:
            return
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.kill()
