"""Ports: a set of named ports, each set by an environment variable, and the checks around them.

The local stack's ports (`stack.config.Ports`) and the control plane's (`cluster.config.ClusterPorts`)
are both a `PortSet`: each field a `port(...)` naming its variable, default and meaning (docs/configuration.md
is generated from them), `from_env` reading them, `check_free` refusing to start anything while one is taken.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any, Self

from fraud_common.settings import declared_settings, read_settings, setting
from fraud_dev.prerequisites import PrerequisiteError


class PortsInUse(PrerequisiteError):
    """A port a harness needs is taken; the message names the variable that moves it."""


def port(variable: str, default: int, meaning: str) -> Any:
    """A PortSet field: the port `variable` sets, `default` when unset."""
    return setting(variable, default, meaning, minimum=1, maximum=65535)


@dataclasses.dataclass(frozen=True)
class PortSet:
    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> the environment variable that sets it (for messages that say how to fix a clash)."""
        return {name: declared.variable for name, declared in declared_settings(cls)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Each port from its variable (the default when unset), checked to be a port number."""
        return read_settings(cls, env)

    @classmethod
    def free(cls) -> Self:
        """A distinct port the kernel has just handed out for each: private harnesses beside a running one.
        Every socket is held until all are chosen, so no two fields get the same port."""
        with ExitStack() as holders:
            ports = {}
            for name in cls.variables():
                holder = holders.enter_context(socket.socket())
                holder.bind(("127.0.0.1", 0))
                ports[name] = holder.getsockname()[1]
            return cls(**ports)

    def check_free(self, hint: str = "another `make run`?") -> None:
        """Every port must be free before anything starts, or a half-started harness would be left behind."""
        variables = self.variables()
        taken = [
            f"{number} ({variables[name]})"
            for name, number in dataclasses.asdict(self).items()
            if not port_is_free(number)
        ]
        if taken:
            raise PortsInUse(
                f"ports already in use: {', '.join(taken)}. Stop whatever holds them ({hint}) "
                "or choose other ports with those variables."
            )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
