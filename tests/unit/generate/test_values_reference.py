"""The chart README's values reference: made from values.schema.json (meanings, types) and values.yaml (defaults),
covering every value; a value without a description stops `make generate`, and a stale or hand-edited table
fails the drift check (test_generated.py checks the file as a whole)."""

from __future__ import annotations

import json

import pytest
import yaml

from fraud_dev.generate import values_reference
from fraud_dev.generate.chart import CHART
from fraud_dev.generate.files import Declarations, python_files, stale, write
from fraud_dev.paths import REPO_ROOT
from tests.support.generator_tree import copy_generator_tree


@pytest.fixture
def schema() -> dict:
    return json.loads((REPO_ROOT / CHART / "values.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def values() -> dict:
    return yaml.safe_load((REPO_ROOT / CHART / "values.yaml").read_text(encoding="utf-8"))


def leaves(node: object, path: str = "") -> list[str]:
    """Dotted paths of values.yaml's leaves (an empty map or list is a leaf)."""
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in leaves(child, f"{path}.{key}".lstrip("."))]
    return [path]


def test_every_value_of_values_yaml_is_a_row_or_inside_one_with_its_default(schema, values):
    rows = {row.key: row for row in values_reference.rows(schema, values)}
    assert [leaf for leaf in leaves(values) if not any(leaf == k or leaf.startswith(f"{k}.") for k in rows)] == []
    assert rows["statefun.storage.pvc.accessModes"].default == '`["ReadWriteOnce"]`'
    assert rows["statefun.taskManagerPdb.maxUnavailable"].default == "unset"
    assert rows["functions.resources"].type == "resources"  # a shared definition is one row
    assert rows["images.pullPolicy"].type == 'one of `"Always"`, `"IfNotPresent"`, `"Never"`'


def test_a_value_without_a_description_stops_the_generator(schema, values):
    del schema["properties"]["kafka"]["properties"]["replicas"]["description"]
    with pytest.raises(values_reference.UndescribedValues, match=r"kafka\.replicas"):
        values_reference.rows(schema, values)


def test_a_description_reads_as_text_in_the_table(schema, values):
    """`<release>` in a cell would be an HTML tag to a Markdown renderer, and vanish."""
    table = values_reference.markdown(schema, values)
    assert "(&lt;release&gt;-&lt;nameOverride&gt;)" in table


def test_a_hand_edited_or_stale_reference_fails_the_check(tmp_path):
    root = copy_generator_tree(tmp_path)
    write(root, python_files(root, Declarations.current()))
    readme = root / values_reference.README
    readme.write_text(readme.read_text(encoding="utf-8").replace("| `kafka.replicas` |", "| `kafka.brokers` |"))
    assert stale(root, python_files(root, Declarations.current())) == [values_reference.README]
    write(root, python_files(root, Declarations.current()))
    schema_file = root / CHART / "values.schema.json"
    changed = json.loads(schema_file.read_text(encoding="utf-8"))
    changed["properties"]["kafka"]["properties"]["replicas"]["description"] = "Brokers."
    schema_file.write_text(json.dumps(changed), encoding="utf-8")
    assert stale(root, python_files(root, Declarations.current())) == [values_reference.README]
