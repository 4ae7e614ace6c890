"""docs/model.md says what the shipped model file says: its version, intercept, threshold and every feature's
weight and reason level, so the page and the file (the one owner of the threshold) cannot disagree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fraud_functions.settings import DEFAULT_MODEL_PATH

PAGE = Path(__file__).resolve().parents[3] / "docs" / "model.md"


def number(text: str) -> float:
    return float(text.replace("\N{MINUS SIGN}", "-"))  # the page writes a minus sign


def test_the_model_page_quotes_the_model_file():
    document = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    page = PAGE.read_text(encoding="utf-8")
    assert f"(version `{document['version']}`)" in page
    intercept, threshold = re.search(r"^intercept (\S+), threshold (\S+)", page, re.MULTILINE).groups()
    assert (number(intercept), number(threshold)) == (document["intercept"], document["threshold"])
    rows = re.findall(r"^\| `(\w+)` \| `([\w.]+)`.*\| ([\d.]+) \| ([\d.]+) \|$", page, re.MULTILINE)
    stated = {name: (source, float(weight), float(reason)) for name, source, weight, reason in rows}
    assert stated == {f["name"]: (f["source"], f["weight"], f["reason_at"]) for f in document["features"]}
