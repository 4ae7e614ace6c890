"""Secured Kafka in the chart: the KafkaUsers grant exactly what each component does, no secret is a value or
a rendered object, and every external protocol renders clients that connect as the values say.

The expected ACLs are the least-privilege set listed by hand in tests/support/least_privilege.py, not read from
files/kafka-users.yaml.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.deploy import kafka_clients
from tests.deploy.test_sync import python_rendered
from tests.deploy.tools import CHART, CI_VALUES, documents, helm_template, merged_values
from tests.deploy.wiring import module_spec, of_kind
from tests.support import least_privilege as allowed

CI = {path.name: path for path in CI_VALUES}
READ, WRITE = ["Read", "Describe"], ["Write", "Describe"]


def topic(name: str, operations: list[str]) -> tuple:
    return ("topic", name, "literal", tuple(operations))


RUNTIME = {
    *(topic(name, READ) for name in allowed.RUNTIME_READS),
    ("group", "fraud-statefun", "literal", ("Read",)),
    *(topic(name, WRITE) for name in allowed.RUNTIME_WRITES),
    ("transactionalId", allowed.TRANSACTIONAL_PREFIX, "prefix", tuple(WRITE)),
    ("cluster", None, "literal", ("IdempotentWrite",)),
}
SIMULATOR = {
    *(topic(name, WRITE) for name in allowed.SIMULATOR_WRITES),
    *(topic(name, READ) for name in allowed.SIMULATOR_READS),
    ("group", "fraud-simulator", "literal", ("Read",)),
}
SMOKE_TEST = {
    *(topic(name, WRITE) for name in allowed.SMOKE_TEST_WRITES),
    *(topic(name, READ) for name in allowed.SMOKE_TEST_READS),
}
KEDA = {
    *(topic(name, ["Describe"]) for name in allowed.KEDA_LAG_OF),
    ("group", "fraud-statefun", "literal", ("Describe",)),
}


def users(docs: list[dict]) -> dict[str, dict]:
    return {user["metadata"]["name"]: user for user in of_kind(docs, "KafkaUser")}


def grants(user: dict) -> set[tuple]:
    acls = user["spec"]["authorization"]["acls"]
    assert all(acl["type"] == "allow" for acl in acls)
    return {
        (acl["resource"]["type"], acl["resource"].get("name"), acl["resource"]["patternType"], tuple(acl["operations"]))
        for acl in acls
    }


def test_each_component_has_a_kafka_user_with_exactly_its_acls(renders):
    found = users(renders(CI["default-values.yaml"]))
    assert {name: grants(user) for name, user in found.items()} == {
        "fraud-statefun-runtime": RUNTIME,
        "fraud-simulator": SIMULATOR,
        "fraud-smoke-test": SMOKE_TEST,
    }
    assert {user["spec"]["authentication"]["type"] for user in found.values()} == {"scram-sha-512"}
    assert {user["metadata"]["labels"]["strimzi.io/cluster"] for user in found.values()} == {"fraud-kafka"}


def test_keda_gets_a_user_that_only_sees_the_lag_and_mutual_tls_reaches_every_user(renders):
    found = users(renders(CI["keda-monitoring-values.yaml"]))
    assert grants(found["fraud-keda"]) == KEDA
    assert grants(found["fraud-statefun-runtime"]) == RUNTIME
    assert {user["spec"]["authentication"]["type"] for user in found.values()} == {"tls"}
    (auth,) = of_kind(renders(CI["keda-monitoring-values.yaml"]), "TriggerAuthentication")
    assert {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["spec"]["secretTargetRef"]} == {
        "ca": ("fraud-kafka-cluster-ca-cert", "ca.crt"),
        "cert": ("fraud-keda", "user.crt"),
        "key": ("fraud-keda", "user.key"),
    }


def test_keda_with_scram_reads_its_password_from_strimzi_and_its_name_from_a_config_map():
    docs = documents(helm_template("--set", "statefun.autoscaling.keda.enabled=true").stdout)
    (auth,) = of_kind(docs, "TriggerAuthentication")
    assert [ref["parameter"] for ref in auth["spec"]["secretTargetRef"]] == ["ca", "password"]
    (username,) = auth["spec"]["configMapTargetRef"]
    names = next(d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == username["name"])
    assert names["data"][username["key"]] == "fraud-keda" and grants(users(docs)["fraud-keda"]) == KEDA
    (scaled,) = [d for d in of_kind(docs, "ScaledObject") if d["spec"]["scaleTargetRef"]["kind"] == "FlinkDeployment"]
    trigger = scaled["spec"]["triggers"][0]
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")


def test_the_users_follow_the_configured_groups_and_components():
    docs = documents(
        helm_template(
            "--set", "statefun.moduleSpec.KAFKA_CONSUMER_GROUP=fraud-b", "--set", "simulator.enabled=false"
        ).stdout
    )
    found = users(docs)
    assert set(found) == {"fraud-statefun-runtime", "fraud-smoke-test"}
    assert ("group", "fraud-b", "literal", ("Read",)) in grants(found["fraud-statefun-runtime"])


def test_the_strimzi_listener_is_tls_with_authentication_and_acls_enforced(renders):
    (kafka,) = of_kind(renders(CI["default-values.yaml"]), "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert (listener["tls"], listener["authentication"], listener["port"]) == (True, {"type": "scram-sha-512"}, 9093)
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert "userOperator" in kafka["spec"]["entityOperator"]


# ------------------------------------------------------------------ no secret as a value
SAFE_LEAVES = {
    "protocol",
    "saslMechanism",
    "secretName",
    "usernameKey",
    "passwordKey",
    "certificateSecret",
    "name",
    "key",
}
SECRET_ENV = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$", re.IGNORECASE)


def leaves(schema: dict, path: str = "") -> list[str]:
    properties = schema.get("properties")
    if not properties:
        return [path]
    return [leaf for name, sub in properties.items() for leaf in leaves(sub, f"{path}.{name}")]


def secret_values(docs: list[dict]) -> list[str]:
    """What in a render could carry a secret's value: Secrets, literal secret-like env, inline JAAS passwords."""
    problems = [f"the chart renders Secret {d['metadata']['name']}" for d in of_kind(docs, "Secret")]
    for doc in docs:
        for container in _containers(doc):
            for entry in container.get("env", []):
                if SECRET_ENV.search(entry["name"]) and "value" in entry and not entry["name"].endswith("_FILE"):
                    problems.append(f"{doc['kind']}/{doc['metadata']['name']} sets {entry['name']} to a literal")
    for document in module_spec(docs) if of_kind(docs, "FlinkDeployment") else []:
        for entry in document["spec"].get("properties", []):
            for key, value in entry.items():
                inline = re.findall(r'password="(?!\$\{dir:)[^"]*"', str(value))
                if inline or (key.endswith((".password", ".key")) and not str(value).startswith("${dir:")):
                    problems.append(f"module spec {document['spec']['id']} carries {key} inline")
    return problems


def _containers(doc: dict) -> list[dict]:
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.extend(node.get("containers", []) if isinstance(node.get("containers"), list) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return found


@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda path: path.name)
def test_no_render_carries_a_secret_value(renders, values_file):
    assert secret_values(renders(values_file)) == []


def test_a_password_written_into_the_spec_or_an_env_is_caught(renders):
    docs = copy.deepcopy(renders(CI["default-values.yaml"]))
    config_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-module"))
    config_map["data"]["module.yaml"] = config_map["data"]["module.yaml"].replace(
        "${dir:/etc/fraud/kafka/user:password}", "hunter2"
    )
    simulator = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "fraud-simulator")
    simulator["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "KAFKA_PASSWORD", "value": "x"})
    problems = secret_values(docs)
    assert "Deployment/fraud-simulator sets KAFKA_PASSWORD to a literal" in problems
    assert any("carries sasl.jaas.config inline" in p for p in problems)


def test_the_values_can_only_name_secrets_never_hold_them():
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    security = schema["properties"]["kafka"]["properties"]["external"]["properties"]["security"]
    unnamed = [leaf for leaf in leaves(security) if leaf.rsplit(".", 1)[-1] not in SAFE_LEAVES]
    assert unnamed == []
    assert (
        security["additionalProperties"] is False
        and security["properties"]["credentials"]["additionalProperties"] is False
    )
    refused = helm_template(
        "--set", "kafka.external.bootstrapServers=k:9093", "--set", "kafka.external.security.password=x"
    )
    assert refused.returncode != 0 and "password" in refused.output


# ------------------------------------------------------------------ every external protocol
EXTERNAL = {
    # MSK's SASL/SCRAM listener: SCRAM-SHA-512 over TLS, Amazon's public CA.
    "msk-sasl-scram": {"protocol": "SASL_SSL", "saslMechanism": "SCRAM-SHA-512", "ca": False, "certificate": False},
    # Confluent Cloud: SASL_SSL with PLAIN (an API key and secret), a public CA.
    "confluent-cloud-plain": {"protocol": "SASL_SSL", "saslMechanism": "PLAIN", "ca": False, "certificate": False},
    # A self-managed cluster with a private CA and mutual TLS.
    "private-ca-mutual-tls": {"protocol": "SSL", "saslMechanism": "SCRAM-SHA-512", "ca": True, "certificate": True},
    "private-ca-ssl": {"protocol": "SSL", "saslMechanism": "SCRAM-SHA-512", "ca": True, "certificate": False},
    "sasl-plaintext": {
        "protocol": "SASL_PLAINTEXT",
        "saslMechanism": "SCRAM-SHA-256",
        "ca": False,
        "certificate": False,
    },
    "plaintext": {"protocol": "PLAINTEXT", "saslMechanism": "SCRAM-SHA-512", "ca": False, "certificate": False},
}


def external_values(case: dict) -> dict:
    credentials = {
        component: {"secretName": f"kafka-{component}", "usernameKey": "user", "passwordKey": "secret"}
        | ({"certificateSecret": f"kafka-{component}-tls"} if case["certificate"] else {})
        for component in ("statefun-runtime", "simulator", "smoke-test")
    }
    return {
        "kafka": {
            "external": {
                "bootstrapServers": "kafka.example.com:9096",
                "cidrs": ["10.1.0.0/16"],
                "security": {
                    "protocol": case["protocol"],
                    "saslMechanism": case["saslMechanism"],
                    "credentials": credentials,
                    "caSecret": {"name": "kafka-ca" if case["ca"] else "", "key": "ca.pem"},
                },
            }
        }
    }


@pytest.mark.parametrize("case", EXTERNAL, ids=str)
def test_every_external_protocol_renders_clients_that_connect_as_the_values_say(tmp_path: Path, case: str):
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(external_values(EXTERNAL[case])), encoding="utf-8")
    result = helm_template("--values", str(values_file))
    assert result.returncode == 0, result.output
    docs = documents(result.stdout)
    values = merged_values(values_file)
    assert kafka_clients.check_python_clients(docs, values) == []
    assert kafka_clients.check_runtime_credentials(docs) == []
    assert secret_values(docs) == [] and users(docs) == {}
    config_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-module"))
    assert config_map["data"]["module.yaml"].rstrip("\n") == python_rendered(values, docs).rstrip("\n")
    env = kafka_clients.expected_env(values, "simulator")
    assert env["KAFKA_SECURITY_PROTOCOL"] == EXTERNAL[case]["protocol"]


def test_a_sasl_protocol_without_a_components_secret_fails_naming_the_value():
    result = helm_template(
        "--set", "kafka.external.bootstrapServers=k:9093", "--set", "kafka.external.security.protocol=SASL_SSL"
    )
    assert result.returncode != 0
    refusal = r"kafka.external.security.credentials.[a-z-]+.secretName: SASL_SSL needs the Secret"
    assert re.search(refusal, result.output)


def test_keda_with_a_secured_external_kafka_is_refused_with_the_reason():
    values = ["--set", "kafka.external.bootstrapServers=k:9093", "--set", "kafka.external.security.protocol=SSL"]
    result = helm_template(*values, "--set", "statefun.autoscaling.keda.enabled=true")
    assert result.returncode != 0 and "KEDA's credentials for its Strimzi Kafka only" in result.output


def test_missing_mounts_and_wrong_settings_are_caught(renders):
    docs = copy.deepcopy(renders(CI["default-values.yaml"]))
    (flink,) = of_kind(docs, "FlinkDeployment")
    spec = flink["spec"]["taskManager"]["podTemplate"]["spec"]
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "kafka-user"]
    simulator = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "fraud-simulator")
    env = simulator["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "KAFKA_SASL_USERNAME")["value"] = "fraud-statefun-runtime"
    values = merged_values(CI["default-values.yaml"])
    assert kafka_clients.check_runtime_credentials(docs) == [
        "the TaskManagers do not mount /etc/fraud/kafka/user/password, which the module spec names"
    ]
    assert any(
        "Deployment/fraud-simulator connects with" in p for p in kafka_clients.check_python_clients(docs, values)
    )
