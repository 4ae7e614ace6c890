"""JSON logs: one object per line, with context fields, on the chosen stream."""

from __future__ import annotations

import io
import json
import logging

from fraud_common.logs import configure_logging


def test_records_are_json_with_context_fields():
    stream = io.StringIO()
    configure_logging("functions", stream)
    logging.getLogger("x").warning("dead-lettered", extra={"transaction_id": "tx-1", "reason": "invalid_json"})
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["msg"] == "dead-lettered" and entry["level"] == "warning" and entry["component"] == "functions"
    assert entry["transaction_id"] == "tx-1" and entry["reason"] == "invalid_json"


def test_exceptions_are_included():
    stream = io.StringIO()
    configure_logging("functions", stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    assert "RuntimeError: boom" in json.loads(stream.getvalue().strip().splitlines()[-1])["exc"]


def test_a_message_repeated_in_terminal_colours_is_left_out():
    stream = io.StringIO()
    configure_logging("functions", stream)
    # what uvicorn logs at start and stop
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    )
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["msg"] == "Started server process [7]" and "color_message" not in entry
