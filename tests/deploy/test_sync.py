"""Single sources stay single: the chart's copies equal runtime/conf, the chart's module spec equals the
Python renderer's, and the kustomize tree is what the chart generates."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from fraud_dev import chart_reference
from fraud_dev import sync_chart as sync
from tests.deploy import wiring
from tests.deploy.tools import (
    CHART,
    CI_VALUES,
    ROOT,
    documents,
    helm_template,
    merged_values,
)


def test_the_chart_copies_and_the_kustomize_tree_are_up_to_date():
    assert sync.stale() == [], "run `make sync-chart`"


def test_a_stale_copy_is_reported(tmp_path, monkeypatch):
    source = tmp_path / "module.yaml.tmpl"
    source.write_text("kind: changed\n", encoding="utf-8")
    monkeypatch.setattr(sync, "COPIES", {source: CHART / "files" / "module.yaml.tmpl"})
    monkeypatch.setattr(sync, "generated", lambda: {})
    assert sync.stale() == ["charts/fraud-platform/files/module.yaml.tmpl"]


def test_a_hand_edited_generated_file_is_reported(monkeypatch):
    real = sync.generated()
    edited = {path: text + ("# edited\n" if path.name == "fraud-platform.yaml" else "") for path, text in real.items()}
    monkeypatch.setattr(sync, "generated", lambda: edited)
    assert sync.stale() == ["kustomize/base/fraud-platform.yaml"]


def test_the_values_reference_documents_every_value_of_the_schema_with_its_default(values):
    """Each leaf of values.yaml is a row (or inside one), with the default values.yaml gives it."""
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    rows = {row.key: row for row in chart_reference.rows(schema, values)}
    assert rows["statefun.storage.pvc.accessModes"].default == '`["ReadWriteOnce"]`'
    assert rows["statefun.taskManagerPdb.maxUnavailable"].default == "unset"

    def leaves(node: dict, path: str = "") -> list[str]:
        if isinstance(node, dict) and node:
            return [leaf for key, child in node.items() for leaf in leaves(child, f"{path}.{key}".lstrip("."))]
        return [path]

    uncovered = [leaf for leaf in leaves(values) if not any(leaf == k or leaf.startswith(f"{k}.") for k in rows)]
    assert uncovered == []
    assert chart_reference.BEGIN in (CHART / "README.md").read_text(encoding="utf-8")


def test_a_value_without_a_description_fails_the_reference(values):
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    del schema["properties"]["kafka"]["properties"]["replicas"]["description"]
    with pytest.raises(chart_reference.UndescribedValues, match="kafka.replicas"):
        chart_reference.rows(schema, values)


def test_a_reference_that_differs_from_the_schema_is_reported(monkeypatch):
    """As when the schema or values.yaml changed without `make sync-chart`, or the table was edited by hand."""
    real = chart_reference.markdown
    monkeypatch.setattr(
        sync.chart_reference, "markdown", lambda schema, values: real(schema, values).replace("kafka.replicas", "x")
    )
    monkeypatch.setattr(sync, "generated", lambda: {})
    assert sync.stale() == ["charts/fraud-platform/README.md"]


def python_rendered(values: dict, docs: list[dict]) -> str:
    """What `python -m fraud_functions.module_spec` prints for the chart's values (same template source)."""
    env = {name: str(value) for name, value in values["statefun"]["moduleSpec"].items()}
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"].endswith("-functions"))
    env["FUNCTIONS_ENDPOINT"] = (
        f"http://{service['metadata']['name']}.fraud.svc:{service['spec']['ports'][0]['port']}/statefun"
    )
    env["KAFKA_BOOTSTRAP_SERVERS"] = (
        values["kafka"]["external"]["bootstrapServers"]
        or wiring.kafka_bootstrap(docs, "fraud")
        or f"{values['kafka']['clusterName'] or 'fraud-kafka'}-kafka-bootstrap.fraud.svc:{values['kafka']['listener']['port']}"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraud_functions.module_spec",
            "--template",
            str(ROOT / "runtime" / "conf" / "module.yaml.tmpl"),
        ],
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
