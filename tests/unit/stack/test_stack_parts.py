"""The local stack's parts that need no JVM: settings, prerequisites, processes, Kafka config, pruning."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time

import pytest

from fraud_common.settings import SettingsError
from fraud_dev.ports import PortsInUse, port_is_free
from fraud_dev.prerequisites import PrerequisiteError
from fraud_dev.process import Service, ServiceError
from fraud_dev.stack.config import Ports, StackConfig
from fraud_dev.stack.kafka import server_properties
from fraud_dev.stack.stack import LocalStack, prune_checkpoints


def test_ports_come_from_the_environment_and_bad_ones_are_named():
    assert Ports.from_env({}).kafka == 9092
    assert Ports.from_env({"KAFKA_PORT": "19092", "FLINK_REST_PORT": "18081"}).flink_rest == 18081
    with pytest.raises(SettingsError, match="FUNCTIONS_PORT"):
        Ports.from_env({"FUNCTIONS_PORT": "http"})


def test_a_taken_port_is_reported_with_the_variable_that_moves_it():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not port_is_free(taken)
        ports = dataclasses.replace(Ports.free(), merchant_service=taken)
        with pytest.raises(PortsInUse, match=f"{taken} \\(MERCHANT_SERVICE_PORT\\)") as raised:
            ports.check_free()
        assert isinstance(raised.value, PrerequisiteError)  # what `make run` reports without a traceback


def test_free_ports_are_distinct():
    ports = dataclasses.asdict(Ports.free())
    assert len(set(ports.values())) == len(ports) == len(Ports.variables())


def test_broker_properties_carry_this_stacks_ports_and_data_dir(tmp_path):
    config = StackConfig(run_dir=tmp_path, ports=Ports(kafka=19092, kafka_controller=19093))
    text = server_properties(config).read_text()
    last = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in text.splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert last["listeners"] == "PLAINTEXT://localhost:19092,CONTROLLER://localhost:19093"
    assert last["controller.quorum.voters"] == "1@localhost:19093"
    assert last["log.dirs"] == str(tmp_path / "kafka" / "data")
    assert last["transaction.state.log.replication.factor"] == "1"  # exactly-once on one broker


def test_a_service_that_dies_before_it_is_ready_is_reported_with_its_log(tmp_path):
    service = Service(
        "broken", [sys.executable, "-c", "import sys; print('boom: no config'); sys.exit(3)"], tmp_path / "broken.log"
    )
    service.start()
    with pytest.raises(ServiceError, match=r"(?s)broken exited \(code 3\).*boom: no config"):
        service.wait_ready(lambda: False, timeout=30)


def test_a_service_that_never_becomes_ready_times_out(tmp_path):
    service = Service("slow", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "slow.log")
    service.start()
    try:
        with pytest.raises(ServiceError, match="slow was not ready"):
            service.wait_ready(lambda: False, timeout=0.5, interval=0.1)
    finally:
        service.stop()
    assert not service.running


def test_stop_escalates_to_kill_when_sigterm_is_ignored(tmp_path):
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    service = Service("stubborn", [sys.executable, "-c", script], tmp_path / "stubborn.log", stop_timeout=0.5)
    service.start()
    service.wait_ready(lambda: "up" in (tmp_path / "stubborn.log").read_text(), timeout=30, interval=0.05)
    service.stop()
    assert not service.running and service.returncode() == -9


def test_checkpoint_pruning_keeps_the_newest_jobs(tmp_path):
    for job in ["old", "older", "newer", "newest"]:
        (tmp_path / job / "chk-1").mkdir(parents=True)
        stamp = time.time() - 100 + {"older": 0, "old": 10, "newer": 20, "newest": 30}[job]
        os.utime(tmp_path / job, (stamp, stamp))
    deleted = prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in deleted) == ["old", "older"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer", "newest"]
    assert prune_checkpoints(tmp_path / "absent") == []


def test_python_services_get_the_stacks_addresses(tmp_path):
    config = StackConfig(
        run_dir=tmp_path,
        ports=Ports(kafka=1, merchant_service=2, functions=3),
        service_env={"FRAUD_WINDOW_SECONDS": "5"},
    )
    env = LocalStack(config).service_env()
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "localhost:1"
    assert env["MERCHANT_SERVICE_URL"] == "http://127.0.0.1:2" and env["FUNCTIONS_ENDPOINT"].endswith(":3/statefun")
    assert env["FRAUD_WINDOW_SECONDS"] == "5"


def test_run_stops_before_starting_anything_when_a_port_is_taken(monkeypatch, tmp_path, capsys):
    from fraud_dev.stack import cli

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("FLINK_REST_PORT", str(holder.getsockname()[1]))
        monkeypatch.setenv("STACK_RUN_DIR", str(tmp_path))
        assert cli.main(["run"]) == 1
    assert "(FLINK_REST_PORT)" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_run_rejects_a_bad_port_setting(monkeypatch, capsys):
    from fraud_dev.stack import cli

    monkeypatch.setenv("KAFKA_PORT", "ninety-two")
    assert cli.main(["run"]) == 2
    assert "KAFKA_PORT" in capsys.readouterr().err


def _sleeper(name: str, tmp_path, seconds: float, code: int = 0, last_words: str = "") -> Service:
    script = f"import sys, time; print({last_words!r}, flush=True); time.sleep({seconds}); sys.exit({code})"
    return Service(name, [sys.executable, "-c", script], tmp_path / f"{name}.log", stop_timeout=2)


def test_the_stack_notices_the_first_process_that_exits(tmp_path):
    stack = LocalStack(StackConfig(run_dir=tmp_path, ports=Ports()), say=lambda _: None)
    stack.services = [_sleeper("kafka", tmp_path, 30), _sleeper("statefun-runtime", tmp_path, 0.3, code=5)]
    for service in stack.services:
        service.start()
    try:
        exited = stack.wait_for_exit(poll_seconds=0.05)
        assert (exited.name, exited.returncode()) == ("statefun-runtime", 5)
    finally:
        stack.stop()
    assert not any(service.running for service in stack.services)


def test_run_reports_a_dead_process_with_its_log_and_stops_everything(monkeypatch, tmp_path, capsys):
    from fraud_dev.stack import cli

    started: list[Service] = []

    def fake_start(stack: LocalStack) -> None:
        stack.services = [
            _sleeper("kafka", tmp_path, 30),
            _sleeper("statefun-runtime", tmp_path, 0.3, code=1, last_words="Job FAILED: no Kafka"),
        ]
        for service in stack.services:
            service.start()
        started.extend(stack.services)

    monkeypatch.setattr(LocalStack, "start", fake_start)
    monkeypatch.setenv("STACK_RUN_DIR", str(tmp_path))
    assert cli.main(["run"]) == 1
    err = capsys.readouterr().err
    assert "statefun-runtime exited unexpectedly (code 1)" in err and "Job FAILED: no Kafka" in err
    assert started and not any(service.running for service in started)


def test_runtime_properties_reach_the_launcher_as_dynamic_properties(tmp_path):
    config = StackConfig(
        run_dir=tmp_path, ports=Ports(), runtime_properties={"execution.checkpointing.interval": "500ms"}
    )
    stack = LocalStack(config, simulator_args=None, say=lambda _: None)
    runtime = stack.runtime_service("java", "runtime.jar", stack.service_env())
    assert runtime.argv[-1] == "-Dexecution.checkpointing.interval=500ms"
    assert runtime.argv[-2] == "io.fraudplatform.runtime.LocalStatefunRuntime"
