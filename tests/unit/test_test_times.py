"""The README's timing table is the rendering of docs/test-times.json, which only dev/scripts/run-tests writes."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("test_times", ROOT / "dev" / "scripts" / "test_times.py")
assert spec is not None and spec.loader is not None
test_times = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_times)


def recorded() -> dict:
    return json.loads((ROOT / "docs" / "test-times.json").read_text(encoding="utf-8"))


def test_the_readme_table_is_the_rendering_of_the_recorded_runs():
    assert test_times.readme_block() == test_times.render(recorded())


def test_every_recorded_step_is_a_step_of_run_tests():
    script = (ROOT / "dev" / "scripts" / "run-tests").read_text(encoding="utf-8")
    steps = set(re.findall(r'step "([^"]+)"', script)) | set(re.findall(r"step ([a-z-]+) run_make", script))
    (suites,) = re.findall(r"for suite in ([a-z0-9 -]+); do", script)  # the loop over the suites
    steps |= set(suites.split())
    # The background jobs, as the script names them: each Go tool set of its `sets=` line, and the other jobs'
    # `printf "NAME\t..."` lines (the cluster's images).
    (set_line,) = re.findall(r'^sets="(.+)"$', script, re.M)
    sets = {f"Go tools: {name}" for name in re.findall(r"[a-z]+", set_line.replace("${cluster:+", ""))}
    sets |= set(re.findall(r'printf "([a-z ]+)\\t', script))
    assert "cluster images" in sets and "Go tools: node" in sets
    for kind, run in recorded().items():
        assert {name for name, _ in run["steps"]} <= steps, kind
        assert {name for name, _ in run["background"]} <= sets, kind


def test_a_cold_and_a_warm_run_render_side_by_side(tmp_path: Path):
    steps = tmp_path / "steps"
    background = tmp_path / "background"
    into = tmp_path / "times.json"
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{test_times.BEGIN}\nPREVIOUS TABLE\n{test_times.END}\noutro\n", encoding="utf-8")
    for kind, seconds in (("cold", 125), ("warm", 7)):
        steps.write_text(f"test-unit\t{seconds}\ntest-e2e\t{seconds * 2}\n", encoding="utf-8")
        background.write_text(f"Go tools: deploy\t{seconds * 10}\n", encoding="utf-8")
        test_times.main(
            [
                "record",
                "--kind",
                kind,
                "--steps",
                str(steps),
                "--background",
                str(background),
                "--total",
                str(seconds * 3),
                "--commit",
                "abc1234",
                "--into",
                str(into),
                "--readme",
                str(readme),
            ]
        )
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "PREVIOUS TABLE" not in text
    assert "| test-unit | 2 min 05 s | 7 s |" in text
    assert "| test-e2e | 4 min 10 s | 14 s |" in text
    assert "| in the background, meanwhile: Go tools: deploy | 20 min 50 s | 1 min 10 s |" in text
    assert "| **total** | **6 min 15 s** | **21 s** |" in text
    # A partial run is kept in the file but changes nothing in the README.
    test_times.main(
        [
            "record",
            "--kind",
            "partial",
            "--steps",
            str(steps),
            "--background",
            str(background),
            "--total",
            "1",
            "--commit",
            "def5678",
            "--into",
            str(into),
            "--readme",
            str(readme),
        ]
    )
    assert readme.read_text(encoding="utf-8") == text
    assert set(json.loads(into.read_text(encoding="utf-8"))) == {"cold", "warm", "partial"}
