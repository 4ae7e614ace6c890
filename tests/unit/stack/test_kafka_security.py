"""The secured local broker's parts that need no JVM: its properties, users, format arguments and the mode check."""

from __future__ import annotations

import stat

import pytest

from fraud_common.contract import KAFKA_ACCESS
from fraud_dev.stack import kafka
from fraud_dev.stack.config import Ports, StackConfig
from fraud_dev.stack.kafka_security import ADMIN, BrokerModeMismatch, group_of, users


def secured(tmp_path) -> StackConfig:
    ports = Ports.from_env({"KAFKA_PORT": "19092", "KAFKA_CONTROLLER_PORT": "19093"})
    return StackConfig(run_dir=tmp_path, ports=ports, kafka_security="sasl_ssl", observability=False)


def last_values(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_the_secured_broker_listens_only_with_sasl_ssl_and_allows_nothing_without_an_acl(tmp_path):
    config = secured(tmp_path)
    config.broker_security.make_passwords()
    path = kafka.server_properties(config)
    values = last_values(path.read_text())
    assert values["listeners"] == "SASL_SSL://localhost:19092,CONTROLLER://localhost:19093"
    assert values["advertised.listeners"] == "SASL_SSL://localhost:19092"
    assert values["listener.security.protocol.map"] == "CONTROLLER:SSL,SASL_SSL:SASL_SSL"
    assert values["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert values["listener.name.controller.ssl.client.auth"] == "required"
    assert values["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert values["allow.everyone.if.no.acl.found"] == "false"
    assert values["super.users"] == f"User:{ADMIN};User:CN=fraud-kafka-broker"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the super user's password


def test_every_component_gets_a_user_and_a_password_only_its_owner_reads(tmp_path):
    config = secured(tmp_path)
    config.broker_security.make_passwords()
    assert users() == (ADMIN, *(entry.component for entry in KAFKA_ACCESS))
    passwords = {config.broker_security.password(user) for user in users()}
    assert len(passwords) == len(users())
    for user in users():
        assert stat.S_IMODE(config.broker_security.password_file(user).stat().st_mode) == 0o600


def test_format_adds_each_user_as_a_scram_credential(tmp_path):
    config = secured(tmp_path)
    config.broker_security.make_passwords()
    arguments = config.broker_security.format_arguments()
    assert arguments[0::2] == ["--add-scram"] * len(users())
    runtime = config.broker_security.password("statefun-runtime")
    assert f"SCRAM-SHA-512=[name=statefun-runtime,password={runtime}]" in arguments[1::2]


def test_an_argfile_keeps_the_passwords_off_the_command_line(tmp_path):
    argfile = tmp_path / "format.args"
    arguments = ["-cp", "a.jar", "--add-scram", "SCRAM-SHA-512=[name=x,password=y]"]
    assert kafka.write_argfile(argfile, arguments) == f"@{argfile}"
    assert argfile.read_text().splitlines() == [
        '"-cp"',
        '"a.jar"',
        '"--add-scram"',
        '"SCRAM-SHA-512=[name=x,password=y]"',
    ]
    assert stat.S_IMODE(argfile.stat().st_mode) == 0o600


def test_data_formatted_in_one_mode_is_refused_in_the_other(tmp_path):
    (tmp_path / "kafka" / "data").mkdir(parents=True)
    (tmp_path / "kafka" / "data" / "meta.properties").write_text("version=1\n")
    with pytest.raises(BrokerModeMismatch, match="made with KAFKA_SECURITY=plaintext, this run asks for sasl_ssl"):
        kafka.check_mode(secured(tmp_path))
    (tmp_path / "kafka" / "security-mode").write_text("sasl_ssl\n")
    kafka.check_mode(secured(tmp_path))


def test_each_consumer_group_is_the_one_its_setting_names_here():
    runtime, simulator, smoke, keda = KAFKA_ACCESS
    assert group_of(runtime, {}) == group_of(keda, {}) == "fraud-statefun"
    assert group_of(runtime, {"KAFKA_CONSUMER_GROUP": "other"}) == "other"
    assert group_of(simulator, {"SIMULATOR_GROUP": "sim-2"}) == "sim-2"
    assert group_of(smoke, {}) is None
