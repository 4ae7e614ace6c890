"""Who may do what on Kafka: each component's grants against the least-privilege set listed by hand
(tests/support/least_privilege.py), so a declaration that grants more or less fails."""

from __future__ import annotations

import pytest

from fraud_common.contract import KAFKA_ACCESS, TOPICS, Acl, KafkaAccess, declare_access, kafka_access
from tests.support import least_privilege as allowed

READ, WRITE = ("Read", "Describe"), ("Write", "Describe")


def grants(component: str, group: str | None) -> set[Acl]:
    (entry,) = [entry for entry in KAFKA_ACCESS if entry.component == component]
    return set(entry.acls(group))


def test_the_runtime_reads_its_inputs_with_its_group_and_writes_its_outputs_in_transactions():
    assert grants("statefun-runtime", "fraud-statefun") == {
        *(Acl("topic", name, READ) for name in allowed.RUNTIME_READS),
        Acl("group", "fraud-statefun", ("Read",)),
        *(Acl("topic", name, WRITE) for name in allowed.RUNTIME_WRITES),
        Acl("transactionalId", allowed.TRANSACTIONAL_PREFIX, WRITE, pattern="prefix"),
        Acl("cluster", "kafka-cluster", ("IdempotentWrite",)),
    }


def test_the_simulator_writes_the_inputs_and_reads_alerts_with_its_group():
    assert grants("simulator", "fraud-simulator") == {
        *(Acl("topic", name, WRITE) for name in allowed.SIMULATOR_WRITES),
        *(Acl("topic", name, READ) for name in allowed.SIMULATOR_READS),
        Acl("group", "fraud-simulator", ("Read",)),
    }


def test_the_smoke_test_sends_a_transaction_and_reads_the_outcome_without_a_group():
    assert grants("smoke-test", None) == {
        *(Acl("topic", name, WRITE) for name in allowed.SMOKE_TEST_WRITES),
        *(Acl("topic", name, READ) for name in allowed.SMOKE_TEST_READS),
    }


def test_keda_only_sees_how_far_the_runtimes_group_lags_on_transactions():
    assert grants("keda", "fraud-statefun") == {
        *(Acl("topic", name, ("Describe",)) for name in allowed.KEDA_LAG_OF),
        Acl("group", "fraud-statefun", ("Describe",)),
    }


def test_no_other_component_has_a_kafka_user():
    assert [entry.component for entry in KAFKA_ACCESS] == ["statefun-runtime", "simulator", "smoke-test", "keda"]


def test_a_group_name_is_given_exactly_for_a_component_that_reads_through_one():
    with pytest.raises(ValueError, match="a group name exactly when it uses a group"):
        grants("smoke-test", "some-group")
    with pytest.raises(ValueError, match="a group name exactly when it uses a group"):
        grants("simulator", None)


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ((KafkaAccess("x", reads=("nope",)),), "x: no topic nope"),
        ((KafkaAccess("x", reads=("alerts",)), KafkaAccess("x")), "component x is declared twice"),
        ((KafkaAccess("x", writes=("alerts",), group_setting="G"),), "x has a consumer group but reads nothing"),
        ((KafkaAccess("x", reads=("alerts",), group_setting="group"),), "'group' is not a setting name"),
        ((KafkaAccess("x", reads=("alerts",), transactional_id_prefix="t"),), "x has transactions but writes"),
    ],
)
def test_an_access_declaration_that_cannot_work_is_refused(entries, problem):
    with pytest.raises(ValueError, match=problem):
        declare_access(TOPICS, *entries)


def test_the_declaration_is_the_one_made_from_the_topics():
    assert kafka_access(TOPICS) == KAFKA_ACCESS
