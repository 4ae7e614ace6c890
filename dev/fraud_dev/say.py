"""How a harness tells the person running it what it is doing: one line at a time, named after the harness.

Every harness takes a `say` callable, so a test can collect the lines or silence them; this is the
one used by default, on stderr (stdout carries the pipeline's own output, the simulator's alerts).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Say = Callable[[str], None]


def say_to_stderr(harness: str) -> Say:
    """Lines like `[stack] starting Kafka` on stderr, flushed at once so they show while the harness works."""

    def say(message: str) -> None:
        print(f"[{harness}] {message}", file=sys.stderr, flush=True)

    return say


STACK_SAYS = say_to_stderr("stack")  # the local stack, `make run` and the suites' private stacks
CLUSTER_SAYS = say_to_stderr("cluster")  # the local Kubernetes control plane and the real node
