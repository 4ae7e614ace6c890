"""Run a command in a network namespace of its own whose only way out is the API server.

`unshare -n` gives the command a namespace with nothing but a loopback device, so no packet it
sends can leave the machine (`connect: network is unreachable` for any other address). The one
thing it may reach is the control plane's API server, which listens on 127.0.0.1 of the host's
namespace: a Unix socket (a file, visible across network namespaces) joins the two. Inside, this
module listens on 127.0.0.1:<API server port>, so the kubeconfig works unchanged, and forwards each
connection to the socket; outside, `ApiServerBridge` forwards from the socket to the real port.

    with ApiServerBridge(port, socket_path):
        jailed(["skaffold", "deploy", ...], port, socket_path)

Inside the namespace this file runs as a script: `python loopback_jail.py SOCKET PORT -- COMMAND...`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction until EOF, then pass the EOF on (half-close), so TLS shutdowns complete."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _splice(client: socket.socket, connect: Callable[[], socket.socket]) -> None:
    try:
        upstream = connect()
    except OSError:
        client.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener: socket.socket, connect: Callable[[], socket.socket]) -> None:
    """Accept until the listener is closed; each connection is spliced to a new upstream one."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_splice, args=(client, connect), daemon=True).start()


def _unix_connection(path: Path) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(path))
    return conn


class ApiServerBridge:
    """In the host's namespace: the Unix socket at `path`, forwarded to 127.0.0.1:`port` (the API server)."""

    def __init__(self, port: int, path: Path):
        self.port = port
        self.path = path
        self._listener: socket.socket | None = None

    def __enter__(self) -> ApiServerBridge:
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(64)
        connect = lambda: socket.create_connection((LOOPBACK, self.port))  # noqa: E731
        threading.Thread(target=_serve, args=(self._listener, connect), daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._listener is not None
        self._listener.close()
        self.path.unlink(missing_ok=True)


def jailed(argv: Sequence[str], port: int, path: Path, **run: object) -> subprocess.CompletedProcess:
    """Run `argv` under `unshare -n` with only the API server reachable (through an `ApiServerBridge`)."""
    command = ["unshare", "--net", sys.executable, __file__, str(path), str(port), "--", *argv]
    return subprocess.run(command, **run)  # type: ignore[call-overload]


def interfaces() -> list[str]:
    """The network devices of this process's namespace (/proc/net/dev is per namespace; /sys is not remounted)."""
    lines = Path("/proc/net/dev").read_text(encoding="utf-8").splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines]


def main(args: list[str]) -> int:
    """Inside the new namespace: refuse to run if it has any device but lo, bring lo up, listen, run."""
    path, port, separator, *argv = args
    if separator != "--" or not argv:
        raise SystemExit("usage: python loopback_jail.py SOCKET PORT -- COMMAND...")
    devices = interfaces()
    if devices != ["lo"]:
        raise SystemExit(f"not an empty network namespace: devices {devices}")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    listener = socket.create_server((LOOPBACK, int(port)))
    threading.Thread(target=_serve, args=(listener, lambda: _unix_connection(Path(path))), daemon=True).start()
    return subprocess.run(argv).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
