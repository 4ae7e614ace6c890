"""A private local stack for a test session: real Kafka and StateFun runtime on free ports in a temp dir.

It neither disturbs nor is disturbed by a `make run` on the same machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fraud_dev.stack.config import Ports, StackConfig
from fraud_dev.stack.stack import LocalStack

# merchant-service answers in milliseconds and the client gives up after half a second, so tests that
# slow it down or break it see the fallback quickly.
FAST_MERCHANT_SERVICE = {
    "MERCHANT_TIMEOUT_SECONDS": "0.5",
    "MERCHANT_LATENCY_MS_MIN": "1",
    "MERCHANT_LATENCY_MS_MAX": "5",
}


@contextmanager
def private_stack(
    run_dir: Path, service_env: Mapping[str, str] | None = None, runtime_properties: Mapping[str, str] | None = None
) -> Iterator[LocalStack]:
    """Start the whole stack (no simulator); `service_env` adds settings for the Python services and the
    module spec to FAST_MERCHANT_SERVICE, `runtime_properties` Flink keys over runtime/conf."""
    config = StackConfig(
        run_dir=run_dir,
        ports=Ports.free(),
        service_env={**FAST_MERCHANT_SERVICE, **(service_env or {})},
        runtime_properties=dict(runtime_properties or {}),
        observability=False,
    )
    with LocalStack(config, simulator_args=None) as running:
        yield running
