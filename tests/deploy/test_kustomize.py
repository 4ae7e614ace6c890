"""The kustomize tree: every overlay builds and validates, and base + components are exactly the chart."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fraud_dev.generate import kustomize
from tests.deploy.kubeconform import validate
from tests.deploy.tools import CHART, KUSTOMIZE, documents, run, tool

OVERLAYS = sorted(p for p in (KUSTOMIZE / "overlays").iterdir() if (p / "kustomization.yaml").exists())


def build(path) -> str:
    result = run([tool("kustomize"), "build", str(path)])
    assert result.returncode == 0, result.output
    return result.stdout


def objects(docs: list[dict]) -> dict[tuple[str, str, str], dict]:
    """Objects by identity, with the namespace kustomize adds removed (helm template sets none)."""
    found = {}
    for doc in docs:
        doc["metadata"].pop("namespace", None)
        found[kustomize.key(doc)] = doc
    return found


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_every_overlay_builds_and_validates(overlay):
    result = validate(build(overlay))
    assert result.returncode == 0, result.output


def rel(path: Path, start: Path) -> str:
    """kustomize accepts only relative paths."""
    return os.path.relpath(path, start)


def kustomization_of(tmp_path, components: list[str], tree: Path = KUSTOMIZE):
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{rel(tree / 'base', tmp_path)}]\n"
        f"components: [{', '.join(rel(tree / 'components' / c, tmp_path) for c in components)}]\n",
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize("component", kustomize.COMPONENTS, ids=lambda c: c.name)
def test_base_plus_each_component_is_the_chart_with_that_feature(tmp_path, component):
    built = objects(documents(build(kustomization_of(tmp_path, [component.name]))))
    assert built == objects(
        kustomize.for_kustomize(kustomize.render({**kustomize.BASE_SETTINGS, **component.settings}, CHART))
    )


def test_all_components_together_are_the_chart_with_every_feature(tmp_path):
    settings = {**kustomize.BASE_SETTINGS}
    for component in kustomize.COMPONENTS:
        settings.update(component.settings)
    built = objects(documents(build(kustomization_of(tmp_path, [c.name for c in kustomize.COMPONENTS]))))
    assert built == objects(kustomize.for_kustomize(kustomize.render(settings, CHART)))


def test_kafka_is_the_charts_kafka():
    assert objects(documents(build(KUSTOMIZE / "kafka"))) == objects(
        kustomize.for_kustomize(kustomize.render(kustomize.KAFKA_SETTINGS, CHART))
    )


def test_a_drifted_component_is_caught(tmp_path):
    copy = tmp_path / "kustomize"
    shutil.copytree(KUSTOMIZE, copy)
    resources = copy / "components" / "monitoring" / "resources.yaml"
    resources.write_text(
        resources.read_text(encoding="utf-8").replace("interval: 30s", "interval: 5m"), encoding="utf-8"
    )
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    built = objects(documents(build(kustomization_of(overlay, ["monitoring"], copy))))
    assert built != objects(
        kustomize.for_kustomize(kustomize.render({**kustomize.BASE_SETTINGS, "monitoring.enabled": "true"}, CHART))
    )


def test_an_overlay_patching_a_missing_resource_fails(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{rel(KUSTOMIZE / 'base', tmp_path)}]\n"
        "patches:\n"
        "  - target: {kind: Deployment, name: fraud-nothing}\n"
        "    patch: |-\n      - {op: replace, path: /spec/replicas, value: 2}\n"
        "  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata: {name: fraud-nothing}\n      spec: {replicas: 2}\n",
        encoding="utf-8",
    )
    result = run([tool("kustomize"), "build", str(tmp_path)])
    assert result.returncode != 0 and "fraud-nothing" in result.output
