"""How each component must connect to Kafka for given values, worked out here from the values alone (an oracle
beside the chart's _kafka.tpl), and the checks that the rendered pods carry exactly that.

The settings are fraud_common.kafka_security's variables; the runtime gets them through its module spec, whose
Kafka properties the Python renderer makes from the same variables (test_sync.py compares the two).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from tests.deploy.wiring import Doc, Problems, module_spec, of_kind, pod_templates

SECRETS = PurePosixPath("/etc/fraud/kafka")
# A KAFKA_* setting that names a file the pod must have.
FILE_SETTINGS = (
    "KAFKA_SASL_USERNAME_FILE",
    "KAFKA_SASL_PASSWORD_FILE",
    "KAFKA_SSL_CA_FILE",
    "KAFKA_SSL_CERTIFICATE_FILE",
    "KAFKA_SSL_KEY_FILE",
)
FILE_REFERENCE = re.compile(r"\$\{dir:([^:}]+):([^}]+)\}")


def expected_env(values: Mapping, component: str, release: str = "fraud") -> dict[str, str]:
    """The KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_* settings of `component` for `values`."""
    kafka = values["kafka"]
    if not kafka["external"]["bootstrapServers"]:
        ca = {"KAFKA_SSL_CA_FILE": str(SECRETS / "ca" / "ca.crt")}
        if kafka["listener"]["authentication"] == "tls":
            user = SECRETS / "user"
            files = {"KAFKA_SSL_CERTIFICATE_FILE": str(user / "user.crt"), "KAFKA_SSL_KEY_FILE": str(user / "user.key")}
            return {"KAFKA_SECURITY_PROTOCOL": "SSL", **files, **ca}
        return {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": f"{release}-{component}",
            "KAFKA_SASL_PASSWORD_FILE": str(SECRETS / "user" / "password"),
            **ca,
        }
    security = kafka["external"]["security"]
    protocol = security["protocol"]
    credentials = security["credentials"][component]
    env = {"KAFKA_SECURITY_PROTOCOL": protocol}
    if protocol.startswith("SASL_"):
        env["KAFKA_SASL_MECHANISM"] = security["saslMechanism"]
        env["KAFKA_SASL_USERNAME_FILE"] = str(SECRETS / "user" / credentials["usernameKey"])
        env["KAFKA_SASL_PASSWORD_FILE"] = str(SECRETS / "user" / credentials["passwordKey"])
    if protocol.endswith("SSL") and security["caSecret"]["name"]:
        env["KAFKA_SSL_CA_FILE"] = str(SECRETS / "ca" / security["caSecret"]["key"])
    if protocol.endswith("SSL") and credentials["certificateSecret"]:
        env["KAFKA_SSL_CERTIFICATE_FILE"] = str(SECRETS / "certificate" / "tls.crt")
        env["KAFKA_SSL_KEY_FILE"] = str(SECRETS / "certificate" / "tls.key")
    return env


def mounted_files(spec: Doc, container: Doc) -> set[str]:
    """Every file a container sees from a Secret volume: mount path / item path."""
    secrets = {volume["name"]: volume["secret"] for volume in spec.get("volumes", []) if "secret" in volume}
    files: set[str] = set()
    for mount in container.get("volumeMounts", []):
        secret = secrets.get(mount["name"])
        if secret is not None:
            files |= {str(PurePosixPath(mount["mountPath"]) / item["path"]) for item in secret.get("items", [])}
    return files


def kafka_env(container: Doc) -> dict[str, str]:
    return {
        e["name"]: e["value"]
        for e in container.get("env", [])
        if e["name"].startswith(("KAFKA_SASL", "KAFKA_SSL", "KAFKA_SECURITY"))
    }


def check_python_clients(docs: list[Doc], values: Mapping) -> Problems:
    """The simulator and the smoke test connect as the values say, with every file they name mounted."""
    wanted = {"simulator": "simulator", "smoke": "smoke-test"}
    problems = []
    for owner, template in pod_templates(docs):
        spec = template.get("spec", {})
        for container in spec.get("containers", []):
            component = wanted.get(container["name"])
            if component is None:
                continue
            env = kafka_env(container)
            if env != expected_env(values, component):
                problems.append(f"{owner} connects with {env}, the values say {expected_env(values, component)}")
            missing = {env[name] for name in FILE_SETTINGS if name in env} - mounted_files(spec, container)
            problems += [f"{owner} names {path}, which no Secret volume mounts" for path in sorted(missing)]
    return problems


def runtime_files(docs: list[Doc]) -> set[str]:
    """The files the runtime's Kafka properties name: ${dir:...} references and the truststore."""
    files: set[str] = set()
    for document in module_spec(docs) if of_kind(docs, "FlinkDeployment") else []:
        for entry in document["spec"].get("properties", []):
            for key, value in entry.items():
                files |= {f"{folder}/{name}" for folder, name in FILE_REFERENCE.findall(str(value))}
                if key == "ssl.truststore.location":
                    files.add(str(value))
    return files


def check_runtime_credentials(docs: list[Doc]) -> Problems:
    """Every file the module spec's Kafka properties name is mounted in the TaskManagers, which run the clients."""
    problems = []
    for flink in of_kind(docs, "FlinkDeployment"):
        template = flink["spec"]["taskManager"]["podTemplate"]
        spec = template["spec"]
        (main,) = [c for c in spec["containers"] if c["name"] == "flink-main-container"]
        missing = runtime_files(docs) - mounted_files(spec, main)
        problems += [f"the TaskManagers do not mount {path}, which the module spec names" for path in sorted(missing)]
    return problems
