"""Last on the real-node cluster: the teardown leaves nothing of it on the host (after test_pods.py and
test_runtime.py, which share the cluster)."""

from __future__ import annotations

from pathlib import Path


def test_teardown_leaves_nothing_behind(pods_cluster):
    holder = pods_cluster.netns.pid
    left = pods_cluster.down()
    assert left == []
    assert not Path(f"/proc/{holder}").exists()
