"""Contract: the module spec the runtime loads (runtime/conf/module.yaml.tmpl, generated from the topics and
rendered by fraud_dev.module_spec) agrees with the functions this package registers."""

from __future__ import annotations

import pytest

from fraud_common.contract import MAX_RECORD_BYTES, NAMESPACE, TOPICS
from fraud_common.settings import SettingsError
from fraud_dev import module_spec
from fraud_dev.scripted import ScriptedMerchantClient
from fraud_functions import addresses
from fraud_functions.declarations import declared
from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import wire


@pytest.fixture(scope="module")
def spec() -> list[dict]:
    return module_spec.documents(module_spec.rendered({}))


def of_kind(spec, kind: str) -> list[dict]:
    return [doc["spec"] for doc in spec if doc["kind"] == kind]


def test_the_endpoint_serves_every_registered_function_over_the_async_transport(spec):
    (endpoint,) = of_kind(spec, "io.statefun.endpoints.v2/http")
    pattern = endpoint["functions"]
    assert pattern.endswith("/*")
    namespace = pattern.removesuffix("/*")
    # Each declared function must fall under the endpoint's namespace pattern, or the runtime cannot call it.
    outside = [item.typename for item in declared() if item.typename.split("/", 1)[0] != namespace]
    assert not outside, f"declared outside {pattern}: {outside}"
    assert endpoint["urlPathTemplate"] == "http://127.0.0.1:8000/statefun"
    assert endpoint["transport"]["type"] == "io.statefun.transports.v1/async"


def test_namespace_is_usable_in_flink_metric_names():
    assert NAMESPACE.isalnum() and NAMESPACE.islower()


def test_call_timeout_exceeds_the_merchant_worst_case(spec):
    (endpoint,) = of_kind(spec, "io.statefun.endpoints.v2/http")
    call = endpoint["transport"]["call"]
    assert call.endswith("min")
    assert int(call.removesuffix("min")) * 60 > FunctionSettings.from_env({}).merchant_worst_case_seconds() * 2


def test_ingresses_route_each_topic_to_the_function_that_declares_it_with_a_type_it_takes(spec):
    routes = {
        topic["topic"]: (topic["valueType"], tuple(topic["targets"]))
        for ingress in of_kind(spec, "io.fraudplatform.kafka.v1/ingress")
        for topic in ingress["topics"]
    }
    readers = {topic.name: item for item in declared() for topic in item.topics()}
    assert set(routes) == set(readers)
    for topic, (value_type, targets) in routes.items():
        assert targets == (readers[topic].typename,) and value_type in readers[topic].takes, topic


def test_ingresses_never_start_from_latest_and_read_committed(spec):
    for ingress in of_kind(spec, "io.fraudplatform.kafka.v1/ingress"):
        assert ingress["startupPosition"]["type"] in {"group-offsets", "earliest"}
        assert ingress["autoOffsetResetPosition"] == "earliest"
        assert {"isolation.level": "read_committed"} in ingress["properties"]


def egresses_of(spec) -> dict[str, dict]:
    return {egress["id"]: egress for egress in of_kind(spec, "io.statefun.kafka.v1/egress")}


def test_egresses_are_the_ones_the_functions_emit_to_and_exactly_once_by_default(spec):
    egresses = egresses_of(spec)
    # Every topic the runtime writes has its egress, and the functions' egresses are among them.
    assert set(egresses) == {topic.id for topic in TOPICS if topic.egress is not None}
    assert {addresses.ALERTS_EGRESS, addresses.DECISIONS_EGRESS, addresses.DEAD_LETTERS_EGRESS} <= set(egresses)
    for egress in egresses.values():
        assert egress["deliverySemantic"]["type"] == "exactly-once"
        assert egress["deliverySemantic"]["transactionTimeout"]


def test_alerts_can_be_delivered_at_least_once_for_consumers_without_transactions():
    rendered = module_spec.rendered({"ALERTS_DELIVERY": "at-least-once"})
    semantics = {
        name: egress["deliverySemantic"]["type"]
        for name, egress in egresses_of(module_spec.documents(rendered)).items()
    }
    assert semantics == {
        addresses.ALERTS_EGRESS: "at-least-once",
        addresses.DECISIONS_EGRESS: "exactly-once",
        addresses.DEAD_LETTERS_EGRESS: "exactly-once",
    }


def test_an_unknown_alerts_delivery_is_refused():
    with pytest.raises(SettingsError, match="ALERTS_DELIVERY"):
        module_spec.placeholders({"ALERTS_DELIVERY": "exactly-twice"})


def test_every_function_that_declares_state_is_served_and_spec_names_are_unique():
    settings = FunctionSettings.from_env({})
    wiring = wire(settings, ScriptedMerchantClient(), load_model("model-file", settings.model_path))
    assert set(wiring.specs) == {item.typename for item in declared()}
    for typename, specs in wiring.specs.items():
        names = [spec.name for spec in specs]
        assert len(names) == len(set(names)), typename


def test_rendering_fills_every_placeholder_from_the_environment():
    rendered = module_spec.rendered(
        {
            "FUNCTIONS_ENDPOINT": "http://functions.fraud.svc:8000/statefun",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-kafka-bootstrap:9092",
        }
    )
    assert "${" not in rendered
    assert "http://functions.fraud.svc:8000/statefun" in rendered and "kafka-kafka-bootstrap:9092" in rendered


def test_a_placeholder_without_a_value_is_an_error():
    with pytest.raises(ValueError, match="NOPE"):
        module_spec.render("a: ${NOPE}", {})


def test_every_ingress_passes_records_whole_up_to_the_contract_limit(spec):
    assert {ingress["maxValueBytes"] for ingress in of_kind(spec, "io.fraudplatform.kafka.v1/ingress")} == {
        MAX_RECORD_BYTES
    }


def test_the_command_line_writes_the_rendered_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("FUNCTIONS_ENDPOINT", "http://functions:8000/statefun")
    out = tmp_path / "conf" / "module.yaml"
    assert module_spec.main(["--out", str(out)]) == 0
    docs = module_spec.documents(out.read_text())
    assert docs[0]["spec"]["urlPathTemplate"] == "http://functions:8000/statefun"
