"""A new topic reaches Kubernetes through `make generate` alone: its KafkaTopic and its ingress in the chart's
render and in kustomize/ (the helm half of tests/unit/generate/test_adding.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from fraud_common.contract import TOPICS
from fraud_dev.generate.files import Declarations, helm_files, python_files, write
from tests.support.generator_tree import READ_TOPIC, copy_generator_tree, taking


def test_a_new_topic_becomes_a_kafka_topic_and_an_ingress_in_kustomize(tmp_path):
    root = copy_generator_tree(tmp_path)
    functions = taking(READ_TOPIC.ingress.record_type, READ_TOPIC.ingress.target)
    write(root, python_files(root, Declarations((*TOPICS, READ_TOPIC), functions)))
    files = helm_files(root)
    topics = {
        doc["spec"]["topicName"]: doc["spec"]["partitions"]  # the object is named <cluster>-<topic>
        for doc in yaml.safe_load_all(files[Path("kustomize/kafka/strimzi.yaml")])
        if doc and doc["kind"] == "KafkaTopic"
    }
    assert topics == {**{topic.name: topic.partitions for topic in TOPICS}, "audit-requests": 2}
    (config_map,) = [
        doc
        for doc in yaml.safe_load_all(files[Path("kustomize/base/fraud-platform.yaml")])
        if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-module")
    ]
    spec = [doc for doc in yaml.safe_load_all(config_map["data"]["module.yaml"]) if doc]
    assert [doc["spec"]["topics"] for doc in spec if doc["spec"].get("id") == "fraud/audit-requests"] == [
        [{"topic": "audit-requests", "valueType": "fraud/AuditRequest", "targets": ["fraud/account"]}]
    ]
