"""The secured broker refuses what it must, says why, and a runtime whose password was wrong recovers exactly.

The end-to-end stack runs KAFKA_SECURITY=sasl_ssl (conftest.py): TLS, a SCRAM user per component with the ACLs
of fraud_common.contract.KAFKA_ACCESS. Every other scenario of the suite shows the granted rights suffice; these
show the rest is refused, with a message naming the client and the cause and never a secret, and that a runtime
started with a wrong password waits, restarting with backoff, and once the password is fixed decides every
transaction that arrived meanwhile exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError

from fraud_common.contract import ALERTS_TOPIC, TRANSACTIONS_TOPIC
from fraud_common.kafka import KafkaRefused, start, stop_consumer
from fraud_common.kafka_security import KafkaConnection
from fraud_dev import pki
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import flink, job_restarts, transaction_record
from fraud_dev.readiness import flink_job_running
from fraud_dev.stack.kafka_security import users
from fraud_simulator.transactions import scenario_transactions
from tests.e2e import seeds
from tests.support.oracle import Inputs, assert_decided_as_the_inputs_say

RUNTIME = "statefun-runtime"
WRONG_PASSWORD = "not-the-password-of-anyone-0123456789"
REFUSAL = "SaslAuthenticationException: Authentication failed during authentication due to invalid credentials"


def connection_as(stack, user: str, **changes) -> KafkaConnection:
    security = dataclasses.replace(stack.config.broker_security.client(user), **changes)
    return KafkaConnection(stack.config.bootstrap_servers, security)


def written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def secrets_in_logs(stack) -> list[str]:
    """Log files of the stack holding any user's password or the wrong one."""
    passwords = [stack.config.broker_security.password(user) for user in users()] + [WRONG_PASSWORD]
    return [
        f"{log.name} holds a password"
        for log in stack.config.logs.glob("*.log")
        if any(password in log.read_text(encoding="utf-8", errors="replace") for password in passwords)
    ]


def test_a_client_with_a_wrong_password_is_refused_and_told_why(stack, tmp_path):
    wrong = written(tmp_path / "password", WRONG_PASSWORD)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "fraud_simulator", "run", "--bootstrap-servers", stack.config.bootstrap_servers),
            *("--connect-timeout", "3", "--max-transactions", "1", "--status-interval", "0"),
        ],
        env={**os.environ, **stack.config.kafka_env("simulator"), "KAFKA_SASL_PASSWORD_FILE": str(wrong)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert "the simulator's producer cannot use Kafka" in last, last
    assert "SASL_SSL, SCRAM-SHA-512 as simulator" in last, last
    assert "refused the credentials" in last and "invalid credentials" in last, last
    assert WRONG_PASSWORD not in result.stderr + result.stdout


def test_a_broker_certificate_from_another_ca_is_refused_and_told_why(stack, tmp_path):
    pki.make_ca(tmp_path, common_name="someone-else")
    stranger = connection_as(stack, "simulator", ssl_ca_file=tmp_path / "ca.crt")

    async def connect() -> None:
        producer = AIOKafkaProducer(**stranger.options(), request_timeout_ms=5000)
        try:
            await start(producer, stranger, "a producer trusting another CA")
        finally:
            await producer.stop()

    with pytest.raises(KafkaRefused) as refused:
        asyncio.run(connect())
    assert "a producer trusting another CA cannot use Kafka" in str(refused.value)
    assert "its TLS certificate is not trusted (unable to get local issuer certificate)" in str(refused.value)


async def read_one(kafka: KafkaConnection, topic: str) -> list:
    """Fetch from the start of `topic` as `kafka`'s user, without a group (what any reader needs: Read on it)."""
    consumer = AIOKafkaConsumer(**kafka.options(), enable_auto_commit=False, request_timeout_ms=10_000)
    await start(consumer, kafka, f"a reader of {topic}")
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        return list((await consumer.getmany(timeout_ms=2000)).values())
    finally:
        await stop_consumer(consumer)


def test_a_user_without_the_acl_cannot_read_transactions(stack):
    simulator = stack.config.kafka_connection("simulator")
    asyncio.run(read_one(simulator, ALERTS_TOPIC))  # the twin: its own topic is readable, so the refusal is the ACL

    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(read_one(simulator, TRANSACTIONS_TOPIC))
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(read_one(stack.config.kafka_connection("smoke-test"), TRANSACTIONS_TOPIC))


def test_the_runtime_cannot_write_what_it_only_reads(stack):
    async def produce() -> None:
        runtime = stack.config.kafka_connection(RUNTIME)
        producer = AIOKafkaProducer(**runtime.options(), request_timeout_ms=10_000)
        await start(producer, runtime, "a producer as the runtime")
        try:
            await producer.send_and_wait(TRANSACTIONS_TOPIC, b"{}", key=b"not-allowed")
        finally:
            await producer.stop()

    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(produce())


def refused_tasks(stack) -> list[str]:
    """The tasks of the runtime's newest job whose failures the broker's refusal of its credentials caused."""
    jobs = sorted(flink(stack, "/jobs/overview")["jobs"], key=lambda job: job["start-time"])
    if not jobs:
        return []
    history = flink(stack, f"/jobs/{jobs[-1]['jid']}/exceptions").get("exceptionHistory", {}).get("entries", [])
    return [entry["taskName"] for entry in history if REFUSAL in entry.get("stacktrace", "")]


def wait_for(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:  # the REST API is not up yet
            pass
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f}s"
        time.sleep(1)


def test_a_runtime_with_a_wrong_password_waits_and_once_fixed_decides_every_transaction_once(stack, kafka):
    transactions = scenario_transactions(seeds.WRONG_PASSWORD, 60)
    reader = LedgerReader(kafka)
    runtime = stack.service(RUNTIME)
    password_file = stack.config.broker_security.password_file(RUNTIME)
    right = password_file.read_text(encoding="utf-8")

    runtime.stop()  # its checkpoints stay; the next start restores the newest
    written(password_file, WRONG_PASSWORD)
    try:
        kafka.produce(TRANSACTIONS_TOPIC, [transaction_record(t) for t in transactions])
        runtime.start()
        wait_for(lambda: refused_tasks(stack), "the broker's refusal of the runtime", timeout=240)
        refused = refused_tasks(stack)
    finally:
        written(password_file, right)
    fixed = time.monotonic()  # the refused runtime read nothing: every velocity lookup comes after this
    runtime.wait_ready(lambda: flink_job_running(stack.config.ports.flink_rest), 240)

    report = reader.collect({t.transaction_id for t in transactions}, timeout=180)
    report.assert_exact()
    assert_decided_as_the_inputs_say(report, Inputs(transactions, velocity_span_s=time.monotonic() - fixed))
    # Flink's REST API serves numRestarts from a metric cache refreshed every 10 s: it catches up, it is not gone.
    wait_for(lambda: job_restarts(stack)[1] > 0, "a restart count above 0 (else the wrong password was not used)", 30)
    # Flink names the failed task (an ingress or the functions with their egresses), Kafka the client and why.
    assert any("fraud-" in task for task in refused), refused
    log = runtime.log_path.read_text(encoding="utf-8", errors="replace")
    assert "groupId=fraud-statefun] Connection to node" in log and "failed authentication due to" in log
    assert secrets_in_logs(stack) == []
