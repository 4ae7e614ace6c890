"""The chart's model files (functions.model): the model file owns the threshold, the ConfigMap carries the files
byte for byte into a folder the pods re-read, and the explicit override is the only other way to a threshold."""

from __future__ import annotations

import json

import yaml

from fraud_functions.settings import DEFAULT_MODEL_PATH
from tests.deploy.tools import helm_template


def rendered(*extra: str) -> list[dict]:
    result = helm_template(*extra)
    assert result.returncode == 0, result.output
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def functions_pod(documents: list[dict]) -> dict:
    (deployment,) = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "fraud-functions"]
    return deployment["spec"]["template"]["spec"]


def env_of(pod: dict) -> dict[str, str]:
    (container,) = [c for c in pod["containers"] if c["name"] == "functions"]
    return {item["name"]: item.get("value") for item in container["env"]}


def test_by_default_the_packaged_model_file_decides_its_own_threshold():
    documents = rendered()
    env = env_of(functions_pod(documents))
    assert not {"ALERT_THRESHOLD", "MODEL_PATH", "CHALLENGER_MODEL_PATH"} & set(env), env
    assert env["MODEL_RELOAD_SECONDS"] == "5"
    assert not [d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "fraud-models"]


def test_a_champion_and_a_challenger_are_mounted_byte_for_byte_from_one_configmap(tmp_path):
    champion = DEFAULT_MODEL_PATH.read_text()
    challenger = json.dumps(dict(json.loads(champion), version="challenger-v9", threshold=0.7))
    (tmp_path / "challenger.json").write_text(challenger)
    documents = rendered(
        "--set-file",
        f"functions.model.champion={DEFAULT_MODEL_PATH}",
        "--set-file",
        f"functions.model.challenger={tmp_path / 'challenger.json'}",
    )
    (config,) = [d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "fraud-models"]
    assert config["data"] == {"champion.json": champion, "challenger.json": challenger}
    pod = functions_pod(documents)
    env = env_of(pod)
    assert (env["MODEL_PATH"], env["CHALLENGER_MODEL_PATH"]) == (
        "/etc/fraud/models/champion.json",
        "/etc/fraud/models/challenger.json",
    )
    assert "ALERT_THRESHOLD" not in env
    (mount,) = [m for c in pod["containers"] for m in c["volumeMounts"] if m["name"] == "models"]
    assert mount["mountPath"] == "/etc/fraud/models" and "subPath" not in mount, "a subPath is never refreshed"
    (volume,) = [v for v in pod["volumes"] if v["name"] == "models"]
    assert volume["configMap"]["name"] == "fraud-models"


def test_the_threshold_override_is_an_explicit_switch():
    env = env_of(functions_pod(rendered("--set-json", "functions.model.thresholdOverride=0.9")))
    assert env["ALERT_THRESHOLD"] == "0.9"
