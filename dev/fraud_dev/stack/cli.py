"""`python -m fraud_dev.stack run`: the whole pipeline locally, alerts printed, Ctrl-C stops it cleanly.

Arguments after `--` go to the simulator, e.g. `python -m fraud_dev.stack run -- --rate 50`.
The next run resumes from the last checkpoint (fraud counts survive); `make clean`
starts over.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from fraud_common.settings import SettingsError
from fraud_dev.prerequisites import PrerequisiteError
from fraud_dev.process import ServiceError, log_tail
from fraud_dev.say import STACK_SAYS
from fraud_dev.stack.config import StackConfig
from fraud_dev.stack.stack import LocalStack

say = STACK_SAYS


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fraud_dev.stack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run"])
    parser.add_argument(
        "simulator_args", nargs=argparse.REMAINDER, help="arguments for `fraud-simulator run` (after --)"
    )
    args = parser.parse_args(argv)
    simulator_args = ["run", *[a for a in args.simulator_args if a != "--"]]
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(simulator_args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(simulator_args: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="[stack] %(message)s", stream=sys.stderr)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "cannot connect" while the broker starts is expected
    try:
        config = StackConfig.from_env()
        stack = LocalStack(config, simulator_args=simulator_args)
    except SettingsError as err:
        say(f"error: {err}")
        return 2
    try:
        stack.start()
        say("pipeline running; alerts follow. Ctrl-C stops everything.")
        exited = stack.wait_for_exit()
        code = exited.returncode()
        if exited.name == "simulator":
            say(f"simulator finished (exit {code})")
            return code or 0
        say(
            f"error: {exited.name} exited unexpectedly (code {code}); stopping the stack. "
            f"Last lines of {exited.log_path}:\n{log_tail(exited.log_path)}"
        )
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    except (PrerequisiteError, ServiceError) as err:
        say(f"error: {err}")
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
