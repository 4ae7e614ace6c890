"""RocksDB's memtables fit the write buffer manager wherever the runtime runs (ADR 0009, "The memtables").

StateFun keeps each state of each function type, each type's batches and request state, and its own delayed
messages and timers in column families of their own. RocksDB reserves an arena block of an eighth of the write
buffer for every column family written to, and the write buffer manager Flink builds from managed memory
flushes a memtable once those blocks pass 7/8 of its capacity: with RocksDB's 64 MB that was almost every
write. This check counts the column families from the function declarations and holds the write buffer of
runtime/conf/flink-conf.yaml to the smallest budget: the local MiniCluster's and every TaskManager size the
chart's values files give.
"""

from __future__ import annotations

import re

import pytest
import yaml

from fraud_functions.declarations import declared
from fraud_functions.functions.retired import RETIRED_TYPENAMES
from fraud_functions.settings import FunctionSettings
from tests.deploy.tools import CHART, CI_VALUES, ROOT
from tests.deploy.wiring import flink_conf

# default, asyncOperations, delayed-message-index, delayed-messages-buffer and the two timer services' column
# families (the RocksDB OPTIONS file of the benchmark's runtime lists them beside the functions').
STATEFUN_OWN_COLUMN_FAMILIES = 6
PER_FUNCTION_TYPE = 2  # its batch and its request state, beside one per state
# The function group, the feedback union and the feedback sink: the RocksDB operators sharing a slot's managed memory.
ROCKSDB_OPERATORS = 3
LOCAL_MANAGED_MB = 128  # the MiniCluster's when taskmanager.memory.managed.size is unset (its log says so)
WRITE_BUFFER_RATIO = 0.5  # state.backend.rocksdb.memory.write-buffer-ratio's default
VALUES_FILES = [CHART / "values.yaml", *CI_VALUES, ROOT / "tests" / "cluster_pods" / "values.yaml"]


def megabytes(size: str) -> float:
    """A Flink or chart memory size ("4mb", "1536m", "1g") in MB."""
    found = re.fullmatch(r"(\d+)\s*([mg])b?", size.strip().lower())
    assert found, f"not a size in m or g: {size!r}"
    return int(found.group(1)) * (1024 if found.group(2) == "g" else 1)


def managed_mb(process_mb: float) -> float:
    """A TaskManager's managed memory by Flink 1.16's defaults: JVM overhead 10 % within [192, 1024] MB,
    metaspace 256 MB, managed 0.4 of the rest."""
    overhead = min(max(0.1 * process_mb, 192), 1024)
    return 0.4 * (process_mb - overhead - 256)


def mutable_limit_mb(managed: float) -> float:
    """Where the write buffer manager of one RocksDB operator starts flushing (Flink's RocksDBMemoryControllerUtils:
    capacity 2/3 x ratio x the operator's share; RocksDB flushes past 7/8 of it)."""
    return 2 * (managed / ROCKSDB_OPERATORS) * WRITE_BUFFER_RATIO / 3 * 7 / 8


def column_families() -> int:
    """StateFun's own and, for every function type a running job invokes, its batch, request state and states."""
    live = [function for function in declared() if function.typename not in RETIRED_TYPENAMES]
    return STATEFUN_OWN_COLUMN_FAMILIES + sum(
        PER_FUNCTION_TYPE + len(function.state(FunctionSettings())) for function in live
    )


def task_manager_sizes() -> dict[str, float]:
    sizes = {}
    for path in VALUES_FILES:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        memory = values.get("statefun", {}).get("taskManager", {}).get("resource", {}).get("memory")
        if memory is not None:
            sizes[str(path.relative_to(ROOT))] = megabytes(memory)
    return sizes


def budgets() -> dict[str, float]:
    """Each place the runtime runs, and its mutable limit in MB."""
    return {"local stack (MiniCluster)": mutable_limit_mb(LOCAL_MANAGED_MB)} | {
        f"TaskManager of {path} ({size:.0f} MB)": mutable_limit_mb(managed_mb(size))
        for path, size in task_manager_sizes().items()
    }


def arena_blocks_mb(write_buffer: str) -> float:
    return column_families() * megabytes(write_buffer) / 8


def configured_write_buffer() -> str:
    return flink_conf((ROOT / "runtime" / "conf" / "flink-conf.yaml").read_text(encoding="utf-8"))[
        "state.backend.rocksdb.writebuffer.size"
    ]


def test_the_chart_sizes_every_task_manager_this_check_reads():
    assert "charts/fraud-platform/values.yaml" in task_manager_sizes()


@pytest.mark.parametrize("place", sorted(budgets()))
def test_every_column_familys_arena_block_fits_the_write_buffer_manager(place):
    blocks, limit = arena_blocks_mb(configured_write_buffer()), budgets()[place]
    assert blocks <= limit, (
        f"{column_families()} column families x an eighth of {configured_write_buffer()} = {blocks:.1f} MB of arena "
        f"blocks, past the {limit:.1f} MB where the {place}'s write buffer manager flushes: RocksDB would flush on "
        "almost every write (ADR 0009). Lower state.backend.rocksdb.writebuffer.size or give it more managed memory."
    )


def test_rocksdbs_own_64_mb_would_overflow_every_budget():
    """The check can fail: the write buffer size before ADR 0009's memtables overflows every budget."""
    assert all(arena_blocks_mb("64mb") > limit for limit in budgets().values())
