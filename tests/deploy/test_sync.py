"""Single sources stay single: the kustomize tree is what the chart generates, the chart's module spec is the
Python renderer's for the same values, and the chart refuses values that would make them differ."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from fraud_dev.generate.files import diff, helm_files, stale, write
from tests.deploy import wiring
from tests.deploy.tools import (
    CHART,
    CI_VALUES,
    ROOT,
    documents,
    helm_template,
    merged_values,
)


def test_the_kustomize_tree_is_what_the_chart_generates():
    """The part of `make generate` that needs helm (the rest is checked by tests/unit/test_generated.py)."""
    files = helm_files(ROOT)
    out_of_date = stale(ROOT, files)
    assert out_of_date == [], "run `make generate`:\n" + "".join(diff(ROOT, path, files[path]) for path in out_of_date)


def test_a_hand_edited_kustomize_file_is_reported(tmp_path):
    files = helm_files(ROOT)
    write(tmp_path, files)
    edited = tmp_path / "kustomize" / "base" / "fraud-platform.yaml"
    edited.write_text(edited.read_text() + "# edited\n")
    assert stale(tmp_path, files) == [edited.relative_to(tmp_path)]
    assert "-# edited" in diff(tmp_path, edited.relative_to(tmp_path), files[edited.relative_to(tmp_path)])


def python_rendered(values: dict, docs: list[dict]) -> str:
    """What `python -m fraud_dev.module_spec` prints for the chart's values (same template source)."""
    env = {name: str(value) for name, value in values["statefun"]["moduleSpec"].items()}
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"].endswith("-functions"))
    env["FUNCTIONS_ENDPOINT"] = (
        f"http://{service['metadata']['name']}.fraud.svc:{service['spec']['ports'][0]['port']}/statefun"
    )
    env["KAFKA_BOOTSTRAP_SERVERS"] = (
        values["kafka"]["external"]["bootstrapServers"]
        or wiring.kafka_bootstrap(docs, "fraud")
        or f"{values['kafka']['clusterName'] or 'fraud-kafka'}-kafka-bootstrap.fraud.svc:"
        f"{values['kafka']['listener']['port']}"
    )
    done = subprocess.run(
        [sys.executable, "-m", "fraud_dev.module_spec"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("values_file", [p for p in CI_VALUES if "kafka-only" not in p.name], ids=lambda p: p.name)
def test_the_charts_module_spec_is_the_python_renderers(renders, values_file):
    docs = renders(values_file)
    config_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-module"))
    assert config_map["data"]["module.yaml"].rstrip("\n") == python_rendered(merged_values(values_file), docs).rstrip(
        "\n"
    )


def render_with_appended(tmp_path, name: str, text: str):
    """helm template of a copy of the chart whose files/<name> has `text` appended."""
    chart = tmp_path / "fraud-platform"
    subprocess.run(["cp", "-r", str(CHART), str(chart)], check=True)
    copied = chart / "files" / name
    copied.write_text(copied.read_text(encoding="utf-8") + text, encoding="utf-8")
    return helm_template(chart=chart)


def test_a_placeholder_without_a_chart_value_fails_the_render(tmp_path):
    result = render_with_appended(tmp_path, "module.yaml.tmpl", "---\nkind: x\nspec:\n  id: ${NEW_SETTING}\n")
    assert result.returncode != 0
    assert "module spec placeholders without a value (set statefun.moduleSpec): ${NEW_SETTING}" in result.output


def test_a_chart_value_that_differs_from_the_renderers_input_is_caught(renders):
    values_file = CI_VALUES[0]
    docs = copy.deepcopy(renders(values_file))
    values = merged_values(values_file)
    values["statefun"]["moduleSpec"]["STATEFUN_CALL_TIMEOUT"] = "2min"
    config_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-module"))
    assert config_map["data"]["module.yaml"].rstrip("\n") != python_rendered(values, docs).rstrip("\n")


def test_a_cluster_key_that_redefines_a_file_key_fails_the_render(tmp_path):
    result = render_with_appended(tmp_path, "flink-conf.yaml", "scheduler-mode: default\n")
    assert result.returncode != 0 and "sets scheduler-mode, which the chart also sets" in result.output
    override = helm_template("--set", "statefun.flinkConfiguration.state\\.backend=hashmap")
    assert override.returncode != 0 and "would override a key the platform sets" in override.output


def test_the_chart_reads_flink_conf_like_flink():
    docs = documents(helm_template().stdout)
    (flink,) = [d for d in docs if d["kind"] == "FlinkDeployment"]
    text = (ROOT / "runtime" / "conf" / "flink-conf.yaml").read_text(encoding="utf-8")
    carried = flink["spec"]["flinkConfiguration"]
    # Text, not YAML numbers: fromYaml would turn the backoff multiplier 2.0 into "2".
    assert {k: carried[k] for k in wiring.flink_conf(text)} == wiring.flink_conf(text)
