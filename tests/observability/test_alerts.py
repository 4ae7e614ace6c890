"""The alert rules: valid for promtool, unit-tested firing and quiet, each with a runbook that exists.

promtool is Debian's (dev/scripts/ensure-observability-tools.sh); `make test-observability` installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fraud_dev.stack.config import REPO_ROOT
from fraud_dev.stack.observability import ALERT_RULES
from tests.support.required_tools import missing_tool

TESTS = ALERT_RULES.parent / "alerts_test.yaml"
PROMTOOL = shutil.which("promtool")


@pytest.fixture
def needs_promtool() -> None:
    if PROMTOOL is None:
        missing_tool("promtool", "dev/scripts/ensure-observability-tools.sh")


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERT_RULES.read_text())["groups"] for rule in group["rules"]]


def promtool(*args: str, cwd: Path = ALERT_RULES.parent) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "run only under needs_promtool"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.usefixtures("needs_promtool")
def test_promtool_accepts_the_rules():
    done = promtool("check", "rules", ALERT_RULES.name)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.usefixtures("needs_promtool")
def test_promtool_unit_tests_pass():
    done = promtool("test", "rules", TESTS.name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_firing_and_a_quiet_case():
    """Quiet: a test evaluating the alert to no alerts, or a firing test that leaves other series of it silent."""
    cases = [case for test in yaml.safe_load(TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in rules():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']} never fires in alerts_test.yaml"
        quiet = [case for case in mine if not case["exp_alerts"]]
        tests = [
            test
            for test in yaml.safe_load(TESTS.read_text())["tests"]
            if any(case["alertname"] == rule["alert"] for case in test["alert_rule_test"])
        ]
        quiet_series = any(len(test["input_series"]) > 1 for test in tests)
        assert quiet or quiet_series, f"{rule['alert']} has no case where it must stay quiet"


def test_every_alert_has_a_runbook_that_exists():
    for rule in rules():
        url = rule["annotations"].get("runbook_url", "")
        assert url.startswith("docs/runbooks/"), f"{rule['alert']}: runbook_url {url!r}"
        runbook = REPO_ROOT / url
        assert runbook.is_file(), f"{rule['alert']}: {runbook} does not exist"
        assert rule["alert"] in runbook.read_text(encoding="utf-8"), f"{runbook} does not name {rule['alert']}"
        assert rule["labels"]["severity"] in {"critical", "warning"}


@pytest.mark.usefixtures("needs_promtool")
def test_the_unit_tests_catch_a_broken_alert(tmp_path):
    """The same unit tests against a copy whose lag threshold is ten times higher must fail."""
    broken = ALERT_RULES.read_text().replace(
        "statefun_kafka_ingress_records_lag_max) > 1000", "statefun_kafka_ingress_records_lag_max) > 10000"
    )
    assert broken != ALERT_RULES.read_text()
    (tmp_path / ALERT_RULES.name).write_text(broken)
    shutil.copy(TESTS, tmp_path / TESTS.name)
    done = promtool("test", "rules", TESTS.name, cwd=tmp_path)
    assert done.returncode != 0 and "FraudConsumerLagGrowing" in done.stdout + done.stderr
