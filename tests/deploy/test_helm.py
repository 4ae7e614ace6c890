"""helm lint --strict, the values schema, and the chart's helm-unittest suites, each with a failing input."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import CACHE, CHART, TOOLS_BIN, Result, helm_template, run, tool


def lint(chart=CHART, *extra: str):
    return run([tool("helm"), "lint", "--strict", "--kube-version", "1.34.0", str(chart), *extra])


def unittest(chart=CHART):
    return run([tool("helm"), "unittest", "--strict", str(chart)])


def copy_chart(tmp_path):
    chart = tmp_path / "fraud-platform"
    shutil.copytree(CHART, chart)
    return chart


def test_lint_is_clean():
    result = lint()
    assert result.returncode == 0, result.output


def test_lint_fails_on_a_broken_template(tmp_path):
    chart = copy_chart(tmp_path)
    (chart / "templates" / "broken.yaml").write_text(
        "kind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.missing }}\n", encoding="utf-8"
    )
    assert lint(chart).returncode != 0


@pytest.mark.parametrize(
    "setting, message",
    [
        ("statefun.upgradeMode=stateless", "upgradeMode"),  # losing state on upgrade is not an option
        ("functions.port=0", "port"),
        ("statefun.storage.type=nfs", "type"),
        ("kafka.topics.alerts=8", "topics"),  # the topics come from the contract (files/topics.yaml), not values
        ("functions.replicaz=3", "replicaz"),  # unknown keys are typos
    ],
)
def test_the_values_schema_rejects_bad_values(setting, message):
    result = helm_template("--set", setting)
    assert result.returncode != 0 and message in result.output


def test_required_secret_names_are_enforced():
    result = helm_template("--set", "merchantService.admin.enabled=true")
    assert result.returncode != 0


def test_unit_suites_pass():
    result = unittest()
    assert result.returncode == 0, result.output
    assert re.search(r"Test Suites: +(\d+) passed, \1 total", result.output), result.output


def test_a_failing_unit_assertion_fails_the_suite(tmp_path):
    chart = copy_chart(tmp_path)
    suite = chart / "tests" / "statefun_test.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace("value: reactive", "value: default"), encoding="utf-8")
    result = unittest(chart)
    assert result.returncode != 0 and "FAIL" in result.output


def chart_testing_lint(chart: Path, scratch: Path) -> Result:
    """`ct lint` of one chart with every ci/ values file: Chart.yaml schema, yamllint, helm lint."""
    venv_bin = Path(sys.executable).parent
    return run(
        [tool("ct"), "lint", "--charts", str(chart), "--validate-maintainers=false", "--check-version-increment=false"],
        env={
            "CT_CONFIG_DIR": str(CACHE / "tools" / "ct"),
            "HOME": str(scratch),
            "PATH": f"{venv_bin}:{TOOLS_BIN}:{os.environ['PATH']}",
        },
    )


def test_chart_testing_lints_the_chart(tmp_path):
    result = chart_testing_lint(CHART, tmp_path)
    assert result.returncode == 0, result.output
    assert "All charts linted successfully" in result.output


def test_chart_testing_fails_on_a_chart_yaml_that_breaks_its_schema(tmp_path):
    chart = copy_chart(tmp_path)
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("apiVersion: v2", "apiVersion: 2"), encoding="utf-8")
    assert chart_testing_lint(chart, tmp_path).returncode != 0
