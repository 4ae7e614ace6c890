"""What the real-node cluster of tests/cluster_pods is built with: the values it installs the chart with and the
images they name. One place, read by the suite's fixtures and by `prepare`, which builds the images ahead."""

from __future__ import annotations

from pathlib import Path

import yaml

from fraud_dev.cluster.podcluster import PodClusterSpec

VALUES = Path(__file__).with_name("values.yaml")
# The tag `helm upgrade` moves the functions to: a second build of the same target (a label differs).
UPGRADE_TAG = "node-2"


def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def cluster_spec() -> PodClusterSpec:
    """Each Dockerfile target under the tags the values name, and the functions' under the upgrade's tag too."""
    images = values()["images"]
    return PodClusterSpec(
        {
            "functions": (images["functions"]["tag"], UPGRADE_TAG),
            "merchant-service": (images["merchantService"]["tag"],),
            "simulator": (images["simulator"]["tag"],),
            "statefun-runtime": (images["statefunRuntime"]["tag"],),
        }
    )
