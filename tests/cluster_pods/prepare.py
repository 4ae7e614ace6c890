"""`python -m tests.cluster_pods.prepare`: the real-node cluster's registry inputs and images, built ahead.

`make test` runs it in the background while the JVM suites run (dev/scripts/run-tests), so that on a fresh
machine test-cluster-pods starts with its root filesystems, wheelhouse, Maven repository and images in
.cache/images instead of making them first (about six minutes cold). It needs no Go tools. If it fails, the
suite makes what is missing itself; its log says why it failed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from fraud_dev.cluster.podcluster import prepare_images
from tests.cluster_pods.spec import cluster_spec


def main() -> int:
    started = time.monotonic()

    def say(message: str) -> None:
        print(f"[cluster images] {message}", flush=True)

    prepare_images(cluster_spec(), Path(tempfile.mkdtemp(prefix="cluster-images-")), say=say)
    say(f"registry inputs and images ready in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
