"""kubeconform with the offline Kubernetes schemas and the vendored CRD schemas."""

from __future__ import annotations

from pathlib import Path

from tests.deploy import k8s_schemas
from tests.deploy.tools import CRD_SCHEMAS, Result, run, tool

TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"


def validate(manifests: str) -> Result:
    """`kubeconform -strict` of a manifest stream; every kind must have a schema (no -ignore-missing-schemas)."""
    schemas: Path = k8s_schemas.build()
    return run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-output",
            "text",
            "-schema-location",
            f"{schemas}/{TEMPLATE}",
            "-schema-location",
            f"{CRD_SCHEMAS}/{TEMPLATE}",
            "-",
        ],
        stdin=manifests,
    )
