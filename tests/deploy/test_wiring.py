"""The rendered parts reach each other: every ci/ render passes every check, and each check catches a break."""

from __future__ import annotations

import copy

import pytest
import yaml

from fraud_common.contract import TOPICS
from tests.deploy import apps, wiring
from tests.deploy.skaffold_config import artifact_images
from tests.deploy.tools import CI_VALUES, ROOT, merged_values

NAMESPACE = "fraud"
ADR_0001 = (ROOT / "docs" / "adr" / "0001-statefun-runtime.md").read_text(encoding="utf-8")
ADR_0003 = next((ROOT / "docs" / "adr").glob("0003-*.md")).read_text(encoding="utf-8")
FLINK_CONF = (ROOT / "runtime" / "conf" / "flink-conf.yaml").read_text(encoding="utf-8")
JVM_OPTIONS = (ROOT / "runtime" / "conf" / "jvm-options.txt").read_text(encoding="utf-8")
# Keys of runtime/conf/flink-conf.yaml the FlinkDeployment may carry differently, and why. None today:
# every portable key applies unchanged in Kubernetes (local-only keys live in runtime/conf/local/).
FLINK_CONF_EXCEPTIONS: dict[str, str] = {}
# Flink 1.16 reads its JVM options from env.java.opts; env.java.opts.all only exists from Flink 1.17.
JAVA_OPTS_KEY = "env.java.opts"
DEFAULT = next(path for path in CI_VALUES if path.name == "default-values.yaml")
# The trace path (tracing.enabled) runs pinned upstream images, which skaffold does not build and whose
# applications this repository cannot ask for their routes: their probes hit the telemetry port the chart's
# own collector and Jaeger configuration sets (charts/fraud-platform/tests/tracing_test.yaml).
UPSTREAM_APPS = {"otel-collector", "jaeger"}


def ours(docs: list[dict]) -> list[dict]:
    """The render without the upstream trace path's workloads."""
    return [
        d for d in docs if d.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/name") not in UPSTREAM_APPS
    ]


def external_names(values: dict) -> dict[str, set[str]]:
    """Objects the values say the user creates (not rendered by the chart)."""
    admin = values["merchantService"]["admin"]
    storage = values["statefun"]["storage"]
    secrets = {admin["tokenSecret"]["name"]} if admin["enabled"] else set()
    if storage["type"] == "s3":
        secrets.add(storage["s3"]["credentialsSecret"]["name"])
    claims = {storage["pvc"]["existingClaim"]} - {""}
    return {"Secret": secrets, "PersistentVolumeClaim": claims}


def all_checks(docs: list[dict], values: dict) -> list[str]:
    kafka = values["kafka"]
    topics = wiring.check_topics(docs, TOPICS) if kafka["create"] and not kafka["external"]["bootstrapServers"] else []
    if not values["app"]["enabled"]:
        return topics
    functions_paths = apps.all_routes(apps.functions_app())
    return [
        *topics,
        *wiring.check_functions_endpoint(docs, NAMESPACE, functions_paths),
        *wiring.check_kafka_bootstrap(docs, NAMESPACE),
        *wiring.check_images_are_artifacts(ours(docs), artifact_images()),
        *wiring.check_probes(ours(docs), apps.routes_by_image(values), apps.flink_routes),
        *wiring.check_references(docs, external_names(values)),
        *wiring.check_flink_version(docs, ADR_0001, ADR_0003),
        *wiring.check_flink_configuration(docs, FLINK_CONF, FLINK_CONF_EXCEPTIONS),
        *wiring.check_java_options(docs, JVM_OPTIONS, JAVA_OPTS_KEY),
    ]


def test_every_ci_render_is_wired(renders, ci_values):
    assert all_checks(renders(ci_values), merged_values(ci_values)) == []


@pytest.fixture
def docs(renders):
    """A private copy of the default render, to break."""
    return copy.deepcopy(renders(DEFAULT))


def first(docs, kind, name_part=""):
    return next(d for d in docs if d["kind"] == kind and name_part in d["metadata"]["name"])


def set_module_spec(docs, change):
    config_map = first(docs, "ConfigMap", "module")
    specs = list(yaml.safe_load_all(config_map["data"]["module.yaml"]))
    change([s for s in specs if s])
    config_map["data"]["module.yaml"] = yaml.safe_dump_all([s for s in specs if s])


def test_a_module_spec_url_to_a_missing_service_is_caught(docs):
    def point_elsewhere(specs):
        specs[0]["spec"]["urlPathTemplate"] = "http://fraud-functionz.fraud.svc:8000/statefun"

    set_module_spec(docs, point_elsewhere)
    assert any("not rendered" in p for p in wiring.check_functions_endpoint(docs, NAMESPACE, {"/statefun"}))


def test_a_service_selecting_no_function_pod_is_caught(docs):
    first(docs, "Service", "functions")["spec"]["selector"]["app.kubernetes.io/name"] = "functionz"
    assert any("selects no rendered pods" in p for p in wiring.check_functions_endpoint(docs, NAMESPACE, {"/statefun"}))


def test_a_wrong_service_port_or_path_is_caught(docs):
    assert any("does not serve /statefun" in p for p in wiring.check_functions_endpoint(docs, NAMESPACE, {"/healthz"}))
    first(docs, "Service", "functions")["spec"]["ports"][0]["targetPort"] = "web"
    assert any("no container port" in p for p in wiring.check_functions_endpoint(docs, NAMESPACE, {"/statefun"}))


def test_a_kafka_address_that_is_not_the_cluster_is_caught(docs):
    env = first(docs, "Deployment", "simulator")["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "KAFKA_BOOTSTRAP_SERVERS")["value"] = "kafka:9092"
    first(docs, "Kafka")["spec"]["kafka"]["listeners"][0]["port"] = 9094
    problems = wiring.check_kafka_bootstrap(docs, NAMESPACE)
    assert any(p.startswith("Deployment/fraud-simulator uses Kafka at kafka:9092") for p in problems)
    assert any(p.startswith("module spec fraud/transactions") for p in problems)


def test_an_image_no_artifact_builds_is_caught(docs):
    first(docs, "FlinkDeployment")["spec"]["image"] = "flink:1.16.2"
    assert wiring.check_images_are_artifacts(docs, artifact_images()) == [
        "FlinkDeployment/fraud-statefun runs flink:1.16.2, which no skaffold artifact builds"
    ]


def test_a_probe_on_a_missing_route_or_port_is_caught(docs, values):
    container = first(docs, "Deployment", "functions")["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["path"] = "/ready"
    container["livenessProbe"]["httpGet"]["port"] = "admin"
    tm = first(docs, "FlinkDeployment")["spec"]["taskManager"]["podTemplate"]["spec"]["containers"][0]
    tm["startupProbe"]["httpGet"]["port"] = 8081
    problems = wiring.check_probes(docs, apps.routes_by_image(values), apps.flink_routes)
    assert any("readinessProbe GET /ready" in p for p in problems)
    assert any("livenessProbe uses port 'admin'" in p for p in problems)
    assert any("taskManager startupProbe GET /metrics on port 8081" in p for p in problems)


def test_a_probe_on_a_port_the_app_does_not_listen_on_is_caught(docs, values):
    env = first(docs, "Deployment", "merchant")["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "MERCHANT_SERVICE_PORT")["value"] = "9999"
    assert any(
        "merchant-service startupProbe GET /healthz on port 8090" in p
        for p in wiring.check_probes(docs, apps.routes_by_image(values), apps.flink_routes)
    )


def test_a_missing_probe_is_caught(docs, values):
    del first(docs, "Deployment", "merchant")["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert any(
        "has no livenessProbe" in p for p in wiring.check_probes(docs, apps.routes_by_image(values), apps.flink_routes)
    )


def test_references_to_objects_not_rendered_are_caught(docs):
    docs[:] = [d for d in docs if d["kind"] not in ("ServiceAccount", "PersistentVolumeClaim")]
    env = first(docs, "Deployment", "functions")["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "nowhere", "key": "k"}}})
    problems = wiring.check_references(docs, {})
    assert "FlinkDeployment/fraud-statefun refers to ServiceAccount fraud-statefun, which is not rendered" in problems
    assert "RoleBinding/fraud-statefun refers to ServiceAccount fraud-statefun, which is not rendered" in problems
    assert any("PersistentVolumeClaim fraud-statefun-data" in p for p in problems)
    assert "Deployment/fraud-functions refers to Secret nowhere, which is not rendered" in problems


def test_a_module_spec_config_map_that_is_not_rendered_is_caught(docs):
    docs[:] = [d for d in docs if not (d["kind"] == "ConfigMap" and "module" in d["metadata"]["name"])]
    with pytest.raises(LookupError, match="not rendered"):
        wiring.module_spec(docs)


def test_a_flink_version_other_than_the_adrs_is_caught(docs):
    first(docs, "FlinkDeployment")["spec"]["flinkVersion"] = "v1_20"
    assert wiring.check_flink_version(docs, ADR_0001, ADR_0003) == [
        "FlinkDeployment/fraud-statefun has flinkVersion v1_20, ADR 0001 says v1_16"
    ]
    assert (
        wiring.check_flink_version(docs, ADR_0001.replace("Flink 1.16.2", "Flink 1.20.1"), ADR_0003)[0]
        == "ADR 0003 does not pin `flinkVersion: v1_20`"
    )


def test_topics_other_than_the_contracts_are_caught(docs):
    docs[:] = [d for d in docs if not (d["kind"] == "KafkaTopic" and d["metadata"]["name"] == "decisions")]
    first(docs, "KafkaTopic", "alerts")["spec"]["partitions"] = 8
    assert len(wiring.check_topics(docs, TOPICS)) == 1


def test_a_flink_key_missing_or_changed_is_caught(docs):
    conf = first(docs, "FlinkDeployment")["spec"]["flinkConfiguration"]
    del conf["state.backend"]
    conf["execution.checkpointing.interval"] = "60s"
    problems = wiring.check_flink_configuration(docs, FLINK_CONF, FLINK_CONF_EXCEPTIONS)
    assert "flinkConfiguration lacks state.backend (runtime/conf/flink-conf.yaml: rocksdb)" in problems
    assert (
        "flinkConfiguration execution.checkpointing.interval is '60s', runtime/conf/flink-conf.yaml says '5s'"
        in problems
    )
    assert (
        wiring.check_flink_configuration(
            docs, FLINK_CONF, {"state.backend": "why", "execution.checkpointing.interval": "why"}
        )
        == []
    )


def test_java_options_that_differ_from_the_file_are_caught(docs):
    conf = first(docs, "FlinkDeployment")["spec"]["flinkConfiguration"]
    conf[JAVA_OPTS_KEY] = conf[JAVA_OPTS_KEY].replace(" --add-opens=java.base/java.util=ALL-UNNAMED", "")
    assert wiring.check_java_options(docs, JVM_OPTIONS, JAVA_OPTS_KEY) == [
        f"flinkConfiguration {JAVA_OPTS_KEY} differs from runtime/conf/jvm-options.txt"
    ]
    assert wiring.check_java_options(docs, JVM_OPTIONS, "env.java.opts.all") == [
        "flinkConfiguration lacks env.java.opts.all"
    ]
