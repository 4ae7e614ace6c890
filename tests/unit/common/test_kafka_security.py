"""The Kafka security settings: what combinations are refused and how, what aiokafka gets, what never shows."""

from __future__ import annotations

import ssl

import pytest

from fraud_common.kafka_security import KafkaConnection, KafkaCredentialsError, KafkaSecurity
from fraud_common.settings import SettingsError
from fraud_dev import pki

SECRET = "s3cret-value-that-must-never-show"


@pytest.fixture
def password(tmp_path):
    path = tmp_path / "password"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A CA and a client certificate, as a Secret would hold them."""
    folder = tmp_path_factory.mktemp("tls")
    pki.make_ca(folder, common_name="test-ca")
    pki.issue(folder, pki.Identity("client", "fraud-simulator"))
    return folder


def sasl_env(password, **more) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_USERNAME": "fraud-simulator",
        "KAFKA_SASL_PASSWORD_FILE": str(password),
        **more,
    }


def test_the_default_is_plaintext_and_aiokafka_gets_only_the_protocol():
    security = KafkaSecurity.from_env({})
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert KafkaConnection("kafka:9092").options() == {
        "bootstrap_servers": "kafka:9092",
        "security_protocol": "PLAINTEXT",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL_SSL needs exactly one of KAFKA_SASL_USERNAME"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"}, "needs KAFKA_SASL_PASSWORD_FILE"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_USERNAME_FILE": "/f"},
            "exactly one of KAFKA_SASL_USERNAME, KAFKA_SASL_USERNAME_FILE",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_USERNAME is set, but SSL"),
        ({"KAFKA_SSL_CA_FILE": "/ca.crt"}, "KAFKA_SSL_CA_FILE is set, but PLAINTEXT does not use TLS"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_FILE": "/k"}, "needs both KAFKA_SSL_CERTIFICATE_FILE"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL='TLS' is not one of"),
        ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM='GSSAPI' is not one of"),
    ],
)
def test_settings_that_cannot_work_together_are_refused_naming_the_variables(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        KafkaSecurity.from_env(env)


def test_a_user_name_a_jaas_line_cannot_carry_is_refused_without_being_repeated():
    with pytest.raises(SettingsError) as refused:
        KafkaSecurity.from_env(sasl_env("/p", KAFKA_SASL_USERNAME='bob" admin="true'))
    assert "KAFKA_SASL_USERNAME has a character" in str(refused.value) and "bob" not in str(refused.value)


def test_sasl_ssl_reads_the_password_from_its_file_and_trusts_the_given_ca(password, tls):
    security = KafkaSecurity.from_env(sasl_env(password, KAFKA_SSL_CA_FILE=str(tls / "ca.crt")))
    options = security.client_options()
    assert options["sasl_plain_password"] == SECRET
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_username"]) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
        "fraud-simulator",
    )
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [cert["subject"] for cert in context.get_ca_certs()] == [((("commonName", "test-ca"),),)]


def test_the_user_may_come_from_a_file_like_the_password(password, tmp_path):
    user = tmp_path / "username"
    user.write_text("API-KEY-123", encoding="utf-8")
    env = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN"}
    security = KafkaSecurity.from_env(
        {**env, "KAFKA_SASL_USERNAME_FILE": str(user), "KAFKA_SASL_PASSWORD_FILE": str(password)}
    )
    assert security.client_options()["sasl_plain_username"] == "API-KEY-123"
    assert "API-KEY-123" not in security.describe() and str(user) in security.describe()


def test_mutual_tls_loads_the_client_certificate(tls):
    security = KafkaSecurity.from_env(
        {
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_SSL_CA_FILE": str(tls / "ca.crt"),
            "KAFKA_SSL_CERTIFICATE_FILE": str(tls / "client.crt"),
            "KAFKA_SSL_KEY_FILE": str(tls / "client.key"),
        }
    )
    assert isinstance(security.client_options()["ssl_context"], ssl.SSLContext)


def test_a_key_that_does_not_match_its_certificate_is_named_by_its_files_not_its_content(tls):
    security = KafkaSecurity.from_env(
        {
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_SSL_CERTIFICATE_FILE": str(tls / "client.crt"),
            "KAFKA_SSL_KEY_FILE": str(tls / "ca.key"),
        }
    )
    with pytest.raises(KafkaCredentialsError, match="not usable PEM") as refused:
        security.client_options()
    assert "PRIVATE KEY" not in str(refused.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), (SECRET + "\n", "ends with whitespace"), (f" {SECRET}", "starts or ends with whitespace")],
)
def test_a_password_file_kafka_would_misread_is_refused_without_showing_it(tmp_path, content, message):
    path = tmp_path / "password"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KafkaCredentialsError, match=message) as refused:
        KafkaSecurity.from_env(sasl_env(path)).client_options()
    assert SECRET not in str(refused.value) and "KAFKA_SASL_PASSWORD_FILE" in str(refused.value)


def test_a_missing_password_file_names_the_variable_and_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(KafkaCredentialsError, match=f"KAFKA_SASL_PASSWORD_FILE: cannot read {missing}"):
        KafkaSecurity.from_env(sasl_env(missing)).client_options()


def test_descriptions_name_protocol_mechanism_and_user_but_no_secret(password):
    connection = KafkaConnection("kafka:9093", KafkaSecurity.from_env(sasl_env(password)))
    assert connection.describe() == "kafka:9093 (SASL_SSL, SCRAM-SHA-512 as fraud-simulator)"
    assert SECRET not in repr(connection) + connection.describe()
