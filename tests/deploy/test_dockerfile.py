"""The Dockerfile: its structure holds the image contract, and each Python image's declared command line,
run against the project's venv (the image's /opt/venv), answers its health route."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.deploy import dockerfile
from tests.deploy.tools import ROOT

TEXT = (ROOT / "Dockerfile").read_text(encoding="utf-8")
IGNORE = (ROOT / ".dockerignore").read_text(encoding="utf-8")
TRACKED = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
ADR_0001 = (ROOT / "docs" / "adr" / "0001-statefun-runtime.md").read_text(encoding="utf-8")
FLINK_IN_ADR = re.search(r"^# .*Flink (\d+\.\d+\.\d+)", ADR_0001, re.MULTILINE)
assert FLINK_IN_ADR is not None, "ADR 0001's title names the Flink version"
FLINK_VERSION = FLINK_IN_ADR.group(1)
VENV = ROOT / ".venv"
# Each Python image: the env variable of its health port and the route its probes use.
HEALTH = {
    "functions": ("FUNCTIONS_PORT", "/healthz"),
    "merchant-service": ("MERCHANT_SERVICE_PORT", "/healthz"),
    "simulator": ("SIMULATOR_HEALTH_PORT", "/healthz"),
}
# How each stops on SIGTERM here, and what it says. Kafka is at a closed port, so the simulator is still
# connecting: a stop before Kafka was reached is giving up, exit 1 (docs/simulator.md), never a success.
ON_SIGTERM = {"functions": (0, ""), "merchant-service": (0, ""), "simulator": (1, "stopped before Kafka was reached")}


def test_the_dockerfile_keeps_the_image_contract():
    assert dockerfile.lint(TEXT, FLINK_VERSION) == []


def test_every_copied_path_exists_and_reaches_the_build_context_and_nothing_of_the_workshop_does():
    assert dockerfile.context_problems(ROOT, TEXT, IGNORE, TRACKED) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        (("USER 10001:10001", "USER root"), "functions: USER root is not a numeric non-root UID[:GID]"),
        (
            ("ARG PYTHON_BASE=python:3.11-slim-bookworm", "ARG PYTHON_BASE=python:3.12"),
            "base python:3.12 is not a pinned slim Debian 12",
        ),
        (("&& python3 -m venv", "&& python -m venv"), "stage python-builder: RUN calls python/pip by name"),
        (
            (
                'ENTRYPOINT ["/opt/venv/bin/python", "-m", "merchant_service"]',
                'ENTRYPOINT ["python", "-m", "merchant_service"]',
            ),
            "merchant-service: entrypoint",
        ),
        (
            ("FROM python-runtime AS functions\n", "FROM python-runtime AS functions\nRUN apt-get install -y gcc\n"),
            "functions: RUN in the final image",
        ),
        (
            ("ARG FLINK_BASE=flink:1.16.2-scala_2.12-java11", "ARG FLINK_BASE=flink:latest"),
            "statefun-runtime: base flink:latest",
        ),
        (
            ("/opt/flink/lib/statefun-fraud-extension.jar\n", "/opt/flink/usrlib/statefun-fraud-extension.jar\n"),
            "nothing is copied to /opt/flink/lib/statefun-fraud-extension.jar",
        ),
        (("FROM python-runtime AS simulator", "FROM python-runtime AS simulatorr"), "no target simulator"),
    ],
)
def test_a_broken_dockerfile_is_caught(change, problem):
    old, new = change
    assert old in TEXT
    assert any(problem in p for p in dockerfile.lint(TEXT.replace(old, new), FLINK_VERSION))


def test_a_copy_the_dockerignore_excludes_is_caught():
    assert dockerfile.context_problems(ROOT, TEXT, IGNORE + "runtime/extension/\n", TRACKED) == [
        "COPY runtime/extension/: excluded by .dockerignore"
    ]
    assert dockerfile.context_problems(
        ROOT, TEXT.replace("COPY runtime/pom.xml", "COPY runtime/pom.xmll"), IGNORE, TRACKED
    ) == ["COPY runtime/pom.xmll: no such path"]


def test_an_image_built_from_another_components_folder_is_caught():
    text = TEXT.replace("COPY simulator/ simulator/\n", "COPY simulator/ simulator/\nCOPY functions/ functions/\n")
    assert dockerfile.context_problems(ROOT, text, IGNORE, TRACKED) == [
        "simulator: built from ['common/', 'functions/', 'simulator/'], not only ['common/', 'simulator/']"
    ]


def test_a_runtime_image_built_from_the_workshop_is_caught():
    text = TEXT.replace(
        "COPY runtime/extension/ runtime/extension/\n",
        "COPY runtime/extension/ runtime/extension/\nCOPY dev/fraud_dev/ dev/fraud_dev/\n",
    )
    assert dockerfile.context_problems(ROOT, text, IGNORE, TRACKED) == [
        "COPY dev/fraud_dev/: excluded by .dockerignore",
        "statefun-runtime: built from ['dev/', 'runtime/'], not only ['runtime/']",
    ]


def test_a_workshop_file_reaching_the_build_context_is_caught():
    problems = dockerfile.context_problems(ROOT, TEXT, IGNORE + "!dev/fraud_dev/\n", TRACKED)
    assert problems and all(
        p.startswith("dev/fraud_dev/") and p.endswith("(workshop) reaches the build context") for p in problems
    )
    assert "dev/fraud_dev/stack/stack.py (workshop) reaches the build context" in problems


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(target: str, command: list[str], port: int) -> subprocess.Popen:
    """The declared command with /opt/venv -> the project's venv, the image's ENV, loopback only."""
    port_variable, _ = HEALTH[target]
    env = {
        **dockerfile.parse(TEXT).env(target),
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("TMPDIR", "/tmp"),
        port_variable: str(port),
        # Loopback instead of the image's 0.0.0.0; Kafka at a closed local port (the simulator must stay up).
        "FUNCTIONS_HOST": "127.0.0.1",
        "MERCHANT_SERVICE_HOST": "127.0.0.1",
        "SIMULATOR_HEALTH_HOST": "127.0.0.1",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "SIMULATOR_CONNECT_TIMEOUT": "120",
    }
    argv = [part.replace("/opt/venv", str(VENV)) for part in command]
    return subprocess.Popen(argv, cwd="/", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def answers(process: subprocess.Popen, port: int, path: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.mark.parametrize("target", dockerfile.PYTHON_TARGETS)
def test_the_declared_entrypoint_answers_its_health_route_and_stops_on_sigterm(target):
    command = dockerfile.parse(TEXT).command(target)
    assert command[0].startswith("/opt/venv/bin/")
    port = free_port()
    process = start(target, command, port)
    try:
        assert answers(process, port, HEALTH[target][1]), (
            process.stderr.read() if process.poll() is not None else "no answer"
        )
    finally:
        code = stop(process)
    expected_code, said = ON_SIGTERM[target]
    assert code == expected_code
    assert said in process.stderr.read()


def test_an_entrypoint_that_cannot_start_is_caught():
    command = [
        part.replace("fraud_functions.server", "fraud_functions.no_such_module")
        for part in dockerfile.parse(TEXT).command("functions")
    ]
    port = free_port()
    process = start("functions", command, port)
    try:
        assert not answers(process, port, "/healthz", timeout=10)
    finally:
        stop(process)
