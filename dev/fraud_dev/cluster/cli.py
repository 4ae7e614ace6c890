"""`python -m fraud_dev.cluster up|down|status`: the local Kubernetes control plane behind `make cluster-up`.

`up` returns once the plane is ready and leaves it running (its processes are recorded under
the run directory, .run/cluster by default); `down` stops them and removes the run directory,
then checks that nothing is left. Ports and the run directory come from CLUSTER_* variables
(see docs/kubernetes-local-control-plane.md).
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from fraud_common.settings import SettingsError
from fraud_dev.cluster.client import CommandError
from fraud_dev.cluster.config import ClusterConfig
from fraud_dev.cluster.pki import PkiError
from fraud_dev.cluster.plane import ClusterError, ControlPlane
from fraud_dev.process import ServiceError
from fraud_dev.say import CLUSTER_SAYS

say = CLUSTER_SAYS


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fraud_dev.cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    try:
        plane = ControlPlane(ClusterConfig.from_env())
    except SettingsError as err:
        say(f"error: {err}")
        return 2
    # A SIGTERM during `up` (make or CI stopping) tears the half-started plane down like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command == "up":
            plane.up()
        elif args.command == "down":
            report = plane.down()
            for name, how in report.stopped.items():
                say(f"{name}: {how}")
            return 1 if report.leftovers else 0
        else:
            print("\n".join(plane.status()))
    except (ClusterError, ServiceError, PkiError, CommandError) as err:
        say(f"error: {err}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
