"""Structured (JSON, one object per line) logging for every component.

Log shippers in Kubernetes parse one JSON object per line; fields such as the
transaction id travel as attributes so that one transaction can be followed
through all services with a single query.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from fraud_common.settings import Setting

LOG_LEVEL = Setting("LOG_LEVEL", "INFO", "log level of the JSON logs (`DEBUG`, `INFO`, `WARNING`, `ERROR`; any case)")

# Attributes every LogRecord has; anything else passed via `extra=` is context. uvicorn passes its message again
# with terminal colours (`color_message`) for its own formatter: not context.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object, context fields included."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "component": self._component,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(component: str, stream: TextIO | None = None) -> None:
    """Route all logging to `stream` (default stdout) as JSON at the level LOG_LEVEL sets.

    A command whose stdout is its product (the simulator's alert lines) passes stderr.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(component))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LOG_LEVEL.read().upper())
