"""The values reference of the chart's README (its generated block `values`), from values.schema.json and
values.yaml.

The schema is the one source of what each value means (its `description`) and may be (its type); values.yaml is
the one source of the defaults. Every value is one row of a table per top-level section; an object is one row when
its schema is a `$ref` to a shared definition (resources, affinity, a ServiceAccount...: described by the property
or else by the definition) or carries a description of its own (its keys are then told in it), else one row per
key. A value without a description is an error: the table documents every value or `make generate` refuses to
write it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fraud_dev.generate.blocks import fill
from fraud_dev.generate.chart import CHART, read_text

README = CHART / "README.md"
TOP_LEVEL = "top level"


class UndescribedValues(ValueError):
    """Values whose schema has no description."""


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    description: str


def _definition(schema: dict, node: dict) -> tuple[str, dict] | None:
    """(name, definition) a `$ref` node points at, or None."""
    ref = node.get("$ref")
    if ref is None:
        return None
    name = ref.rsplit("/", 1)[-1]
    return name, schema["definitions"][name]


def _type_text(node: dict) -> str:
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    kinds = node.get("type", "any")
    return " or ".join(kinds) if isinstance(kinds, list) else kinds


def _default_text(values: Any, path: list[str]) -> str:
    node = values
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return "unset"
        node = node[step]
    return "unset" if node is None else f"`{json.dumps(node, separators=(', ', ': '))}`"


def rows(schema: dict, values: dict) -> list[Row]:
    """Every value of the schema, in its order; raises UndescribedValues naming each value without a description."""
    found: list[Row] = []
    undescribed: list[str] = []

    def walk(node: dict, path: list[str]) -> None:
        definition = _definition(schema, node)
        resolved = definition[1] if definition else node
        if definition is None and "properties" in node and "description" not in node:
            for name, child in node["properties"].items():
                walk(child, [*path, name])
            return
        key = ".".join(path)
        description = node.get("description") or resolved.get("description")
        if not description:
            undescribed.append(key)
            return
        type_text = definition[0] if definition and "properties" in resolved else _type_text(resolved)
        found.append(Row(key, type_text, _default_text(values, path), description))

    walk(schema, [])
    if undescribed:
        raise UndescribedValues(f"values without a description in values.schema.json: {', '.join(undescribed)}")
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(text: str) -> str:
    """A description as a table cell: `<release>` would read as an HTML tag and vanish."""
    return _cell(text).replace("<", "&lt;").replace(">", "&gt;")


def markdown(schema: dict, values: dict) -> str:
    """The reference: a table per top-level section (the top level's own scalars first)."""
    sections: dict[str, list[Row]] = {}
    for row in rows(schema, values):
        head, _, rest = row.key.partition(".")
        sections.setdefault(head if rest else TOP_LEVEL, []).append(row)
    ordered = sorted(sections.items(), key=lambda item: item[0] != TOP_LEVEL)
    lines: list[str] = []
    for section, section_rows in ordered:
        lines += [f"### {section if section == TOP_LEVEL else f'`{section}`'}", ""]
        lines += ["| value | type | default | what |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{row.key}` | {_cell(row.type)} | {_cell(row.default)} | {_prose(row.description)} |"
            for row in section_rows
        ]
        lines.append("")
    return "\n".join(lines)


def readme(root: Path) -> str:
    """The chart's README under `root` with its `values` block made from the schema and values.yaml there."""
    schema = json.loads(read_text(root / CHART / "values.schema.json"))
    values = yaml.safe_load(read_text(root / CHART / "values.yaml"))
    return fill(read_text(root / README), {"values": markdown(schema, values)}, str(README))
