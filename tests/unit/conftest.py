"""Fixtures every unit suite shares."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fraud_common import tracing
from tests.unit.spans import EXPORTER, install_once


@pytest.fixture
def spans(monkeypatch) -> InMemorySpanExporter:
    """Tracing on for one test; its finished spans in `spans.get_finished_spans()`."""
    install_once()
    EXPORTER.clear()
    monkeypatch.setattr(tracing, "_enabled", True)
    return EXPORTER
