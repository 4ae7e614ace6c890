"""Adding a topic or a feature function: the declaration is the only edit the generated files need.

docs/architecture.md lists, for each, the files touched: three by hand, the rest regenerated. These tests
make the hand edits to the declarations in memory (a throw-away topic, a throw-away sixth function), generate
into a copy of the tree, and check that exactly the files that list topics (or functions) change, and that
each names the newcomer; tests/deploy/test_generate.py follows the topic through helm into kustomize/.
"""

from __future__ import annotations

import pytest
import yaml

from fraud_common.contract import NAMESPACE, TOPICS, Egress, Topic
from fraud_dev import module_spec
from fraud_dev.generate import docs
from fraud_dev.generate.chart import FILES, MODULE_SPEC
from fraud_dev.generate.files import Declarations, python_files, write
from fraud_dev.stack.kafka import missing_topics
from fraud_functions.declarations import Declared, Lookup, declared
from fraud_functions.messages import LookupAnswer, LookupQuery
from tests.support.generator_tree import READ_TOPIC, copy_generator_tree, taking

WRITTEN_TOPIC = Topic("audits", key="account", value="`Audit`", partitions=3, egress=Egress())
# A topic the runtime reads or writes is one more its Kafka user may read or write (files/kafka-users.yaml and
# docs/security.md's table of rights).
TOPIC_FILES = {
    MODULE_SPEC,
    FILES / "module.yaml.tmpl",
    FILES / "topics.yaml",
    FILES / "kafka-users.yaml",
    docs.ARCHITECTURE,
    docs.SECURITY,
}


@pytest.fixture
def tree(tmp_path):
    """A copy of the tree, generated from today's declarations, and what that wrote."""
    root = copy_generator_tree(tmp_path)
    before = python_files(root, Declarations.current())
    write(root, before)
    return root, before


def runtime_grants(files: dict, topic: str) -> list:
    """The operations the runtime's KafkaUser is granted on `topic`."""
    users = yaml.safe_load(files[FILES / "kafka-users.yaml"])
    return [acl["operations"] for acl in users["statefun-runtime"]["acls"] if acl["resource"].get("name") == topic]


def changed(before: dict, after: dict) -> set:
    assert before.keys() == after.keys()
    return {path for path in after if after[path] != before[path]}


def test_a_topic_the_runtime_reads_changes_exactly_the_files_that_list_topics(tree):
    root, before = tree
    functions = taking(READ_TOPIC.ingress.record_type, READ_TOPIC.ingress.target)
    after = python_files(root, Declarations((*TOPICS, READ_TOPIC), functions))
    assert changed(before, after) == TOPIC_FILES
    assert all(READ_TOPIC.name in after[path] for path in TOPIC_FILES)
    assert "audit-requests: 2" in after[FILES / "topics.yaml"]
    assert runtime_grants(after, "audit-requests") == [["Read", "Describe"]]
    spec = module_spec.documents(module_spec.render(after[MODULE_SPEC], module_spec.placeholders({})))
    (ingress,) = [d["spec"] for d in spec if d["kind"].endswith("/ingress") and d["spec"]["id"] == READ_TOPIC.id]
    assert ingress["topics"] == [
        {"topic": "audit-requests", "valueType": "fraud/AuditRequest", "targets": ["fraud/threshold"]}
    ]
    (row,) = [line for line in after[docs.ARCHITECTURE].splitlines() if line.startswith("| `fraud/threshold` |")]
    assert row.endswith(", `audit-requests` |")  # after whatever topics it reads today


def test_a_topic_the_runtime_writes_gets_an_exactly_once_egress(tree):
    root, before = tree
    after = python_files(root, Declarations((*TOPICS, WRITTEN_TOPIC), declared()))
    assert changed(before, after) == TOPIC_FILES
    spec = module_spec.documents(module_spec.render(after[MODULE_SPEC], module_spec.placeholders({})))
    (egress,) = [d["spec"] for d in spec if d["kind"].endswith("/egress") and d["spec"]["id"] == "fraud/audits"]
    assert egress["deliverySemantic"]["type"] == "exactly-once"
    assert runtime_grants(after, "audits") == [["Write", "Describe"]]


def test_the_local_broker_creates_a_new_topic_with_its_partitions():
    (created,) = missing_topics({topic.name for topic in TOPICS}, (*TOPICS, READ_TOPIC))
    assert (created.name, created.num_partitions) == ("audit-requests", 2)


def test_a_topic_no_function_takes_stops_the_generator(tree):
    root, _ = tree
    with pytest.raises(ValueError, match="which it does not take"):
        python_files(root, Declarations((*TOPICS, READ_TOPIC), declared()))


def test_a_sixth_feature_function_changes_only_the_function_table(tree):
    root, before = tree
    feature = Declared(
        typename=f"{NAMESPACE}/throwaway-feature",
        summary="a throw-away lookup for this test",
        takes=(LookupQuery.TYPENAME,),
        answers=(LookupAnswer.TYPENAME,),
        state=lambda settings: [],
        factory=object,
        lookup=Lookup("throwaway", key=lambda transaction: transaction.account, provides=("x",), fallback=dict),
    )
    after = python_files(root, Declarations(TOPICS, (*declared(), feature)))
    assert changed(before, after) == {docs.ARCHITECTURE}
    assert "| `fraud/throwaway-feature` | a throw-away lookup for this test |" in after[docs.ARCHITECTURE]
    # The runtime already routes to it: the endpoint serves the whole namespace.
    (endpoint,) = [
        d["spec"]
        for d in module_spec.documents(module_spec.render(after[MODULE_SPEC], module_spec.placeholders({})))
        if d["kind"] == "io.statefun.endpoints.v2/http"
    ]
    assert endpoint["functions"] == f"{NAMESPACE}/*"
