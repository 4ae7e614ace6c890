"""Reading a Prometheus counter's value in a test through the client's public API (collect), not its privates."""

from __future__ import annotations

from prometheus_client import Counter


def counted(counter: Counter, *label_values: str) -> float:
    """The value of the counter's series with these label values, in label order (0 before its first increment)."""
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and tuple(sample.labels.values()) == label_values:
                return sample.value
    return 0.0
