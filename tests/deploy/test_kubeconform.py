"""Every ci/ render is valid Kubernetes 1.34 and valid against the operators' CRDs, strictly."""

from __future__ import annotations

import pytest

from tests.deploy.kubeconform import validate
from tests.deploy.tools import helm_template


def test_every_ci_render_validates(ci_values):
    rendered = helm_template("--values", str(ci_values))
    assert rendered.returncode == 0, rendered.output
    result = validate(rendered.stdout)
    assert result.returncode == 0, result.output
    assert "Invalid: 0, Errors: 0" in result.stdout


@pytest.mark.parametrize(
    "manifest, message",
    [
        # an unknown field in a core kind
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
            "spec:\n  replicaz: 1\n  selector: {matchLabels: {a: b}}\n"
            "  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n",
            "additional properties 'replicaz'",
        ),
        # a wrong type in a CRD kind
        (
            "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\nmetadata: {name: t}\nspec: {partitions: four}\n",
            "partitions",
        ),
        # a value outside the CRD's enum
        (
            "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: f}\n"
            "spec: {flinkVersion: v9_99}\n",
            "flinkVersion",
        ),
        # a kind without any schema (e.g. the removed Strimzi v1beta2)
        ("apiVersion: kafka.strimzi.io/v1beta2\nkind: Kafka\nmetadata: {name: k}\nspec: {}\n", "could not find schema"),
    ],
)
def test_a_broken_manifest_fails(manifest, message):
    result = validate(manifest)
    assert result.returncode != 0
    assert message in result.stdout
