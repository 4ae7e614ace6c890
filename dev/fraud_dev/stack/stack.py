"""Starts the pipeline's processes in dependency order, each after the previous is ready.

Order: Kafka (then its topics), merchant-service, the function server, the
StateFun runtime (which needs the functions and Kafka to run its job), and
optionally the simulator. Stopping goes the other way.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from fraud_dev import module_spec
from fraud_dev.maven import classpath
from fraud_dev.prerequisites import java_executable
from fraud_dev.process import Service
from fraud_dev.readiness import flink_job_running, http_ok
from fraud_dev.say import STACK_SAYS, Say
from fraud_dev.stack import kafka, kafka_security, observability
from fraud_dev.stack.config import REPO_ROOT, StackConfig

RUNTIME = REPO_ROOT / "runtime"
LAUNCHER = RUNTIME / "launcher"
KAFKA_PROJECT = RUNTIME / "kafka"


def prune_checkpoints(directory: Path, keep: int = 2) -> list[Path]:
    """Delete all but the `keep` newest job directories of retained checkpoints; returns the deleted ones.

    Every run is a new Flink job with its own directory. The restored job's first
    checkpoint is a full one (Flink's default NO_CLAIM restore mode), so older
    job directories are no longer referenced; without pruning they pile up.
    """
    if not directory.is_dir():
        return []
    jobs = sorted((path for path in directory.iterdir() if path.is_dir()), key=lambda path: path.stat().st_mtime)
    stale = jobs[:-keep] if keep else jobs
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


class LocalStack:
    """The whole pipeline on this machine; use as a context manager or call start()/stop()."""

    def __init__(self, config: StackConfig, simulator_args: Sequence[str] | None = None, say: Say = STACK_SAYS):
        self.config = config
        self.simulator_args = simulator_args
        self.say = say
        self.services: list[Service] = []
        self._readiness: dict[str, tuple[Callable[[], bool], float]] = {}
        # merchant-service's fault-injection endpoint is on locally, behind a token made per run.
        self.admin_token = secrets.token_urlsafe(24)

    # -- public -------------------------------------------------------------------------------
    @property
    def flink_rest_url(self) -> str:
        """The runtime's Flink REST API (fraud_dev.pipeline.FlinkRuntime)."""
        return f"http://127.0.0.1:{self.config.ports.flink_rest}"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for service in reversed(self.services):
            if service.running:
                self.say(f"stopping {service.name}")
                service.stop()
        self.services.clear()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL one process, as a crash would: no shutdown hook, no flush, no cancel."""
        self.service(name).kill()
        self.say(f"{name} killed")

    def start_again(self, name: str) -> None:
        """Start a stopped or killed process again and wait until it is ready.

        The runtime resumes from its newest retained checkpoint; Kafka from its log.
        """
        service = self.service(name)
        ready, timeout = self._readiness[name]
        service.start()
        service.wait_ready(ready, timeout)
        self.say(f"{name} ready again (pid {service.pid})")

    def restart(self, name: str) -> None:
        """Stop one process gracefully (the runtime cancels its job, checkpoints kept) and start it again."""
        self.service(name).stop()
        self.say(f"{name} stopped; starting it again")
        self.start_again(name)

    def wait_for_exit(self, poll_seconds: float = 0.5) -> Service:
        """Block until one of the stack's processes exits, and return it.

        The stack runs as long as all its processes do: a process that dies is
        reported (by the caller) with the end of its log, and the stack stops,
        rather than waiting forever next to a dead runtime or broker.
        """
        while True:
            for service in self.services:
                if not service.running:
                    return service
            time.sleep(poll_seconds)

    @property
    def simulator(self) -> Service | None:
        return next((s for s in self.services if s.name == "simulator"), None)

    def service_env(self) -> dict[str, str]:
        """Environment shared by the Python services and the module spec."""
        ports = self.config.ports
        return {
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": self.config.bootstrap_servers,
            "MERCHANT_SERVICE_PORT": str(ports.merchant_service),
            "MERCHANT_SERVICE_URL": f"http://127.0.0.1:{ports.merchant_service}",
            "FUNCTIONS_PORT": str(ports.functions),
            "FUNCTIONS_ENDPOINT": f"http://127.0.0.1:{ports.functions}/statefun",
            **self.config.service_env,
        }

    # -- steps --------------------------------------------------------------------------------
    def _start(self) -> None:
        config = self.config
        java = java_executable()
        config.ports.check_free()
        config.logs.mkdir(parents=True, exist_ok=True)
        self.say(f"logs: {config.logs}")
        if config.observability:
            for launch in observability.launches(config, simulator=self.simulator_args is not None):
                self._launch(*launch)
        broker_cp = classpath(KAFKA_PROJECT, KAFKA_PROJECT / "target" / "classpath.txt", config.logs / "maven.log")
        runtime_cp = classpath(RUNTIME, LAUNCHER / "target" / "classpath.txt", config.logs / "maven.log")

        broker = observability.instrument_broker(config, kafka.broker(config, java, broker_cp))
        superuser = config.kafka_connection()
        self._launch(broker, lambda: kafka.broker_ready(superuser), 90)
        created = kafka.create_topics(superuser)
        if created:
            self.say(f"created topics {', '.join(created)}")
        if config.secured:
            granted = kafka_security.apply_declared_acls(superuser, {**os.environ, **config.service_env})
            users = ", ".join(kafka_security.users()[1:])
            self.say(f"Kafka: SASL_SSL, SCRAM users {users} with {granted} ACLs, super user {kafka_security.ADMIN}")

        env = self.service_env()
        merchant_port, functions_port = config.ports.merchant_service, config.ports.functions
        token_file = config.run_dir / "merchant-admin-token"
        token_file.write_text(self.admin_token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        admin = {"MERCHANT_ADMIN_ENABLED": "true", "MERCHANT_ADMIN_TOKEN": self.admin_token}
        self._launch(
            self._python("merchant-service", ["-m", "merchant_service"], {**env, **admin}),
            lambda: http_ok(f"http://127.0.0.1:{merchant_port}/readyz"),
            60,
        )
        self._launch(
            self._python("functions", ["-m", "fraud_functions.server"], env),
            lambda: http_ok(f"http://127.0.0.1:{functions_port}/readyz"),
            60,
        )
        runtime = self.runtime_service(java, runtime_cp, env)
        self._launch(runtime, lambda: flink_job_running(config.ports.flink_rest), 240)
        self.say(
            f"StateFun runtime running: web UI http://localhost:{config.ports.flink_rest}, "
            f"metrics http://localhost:{config.ports.flink_metrics}/metrics"
        )
        if config.observability:
            self.say(observability.summary(config))
        if self.simulator_args is not None:
            simulator = self._python(
                "simulator",
                ["-m", "fraud_simulator", *self.simulator_args],
                {**env, **config.kafka_env("simulator"), "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")},
            )
            simulator.to_terminal = True
            self._launch(simulator, lambda: True, 10)

    def _launch(self, service: Service, ready: Callable[[], bool], timeout: float) -> None:
        self.say(f"starting {service.name}")
        service.start()
        self.services.append(service)
        self._readiness[service.name] = (ready, timeout)
        service.wait_ready(ready, timeout)
        self.say(f"{service.name} ready (pid {service.pid})")

    def _python(self, name: str, args: list[str], env: dict[str, str]) -> Service:
        env = {**env, **observability.service_env(self.config, name)}
        return Service(
            name=name,
            argv=[sys.executable, *args],
            log_path=self.config.logs / f"{name}.log",
            env=env,
            cwd=REPO_ROOT,
            stop_timeout=15,
        )

    def runtime_service(self, java: str, runtime_cp: str, env: dict[str, str]) -> Service:
        """The StateFun runtime as a service: its module spec rendered into the run directory, its launcher argv."""
        module = self.config.run_dir / "conf" / "module.yaml"
        module.parent.mkdir(parents=True, exist_ok=True)
        # Settings given in the shell (e.g. ALERTS_DELIVERY) count too; the stack's own addresses and the
        # runtime's Kafka user win.
        runtime_env = {**os.environ, **env, **self.config.kafka_env("statefun-runtime")}
        module.write_text(module_spec.rendered(runtime_env), encoding="utf-8")
        checkpoints: Path = self.config.run_dir / "checkpoints"
        prune_checkpoints(checkpoints)
        return Service(
            name="statefun-runtime",
            argv=[
                java,
                f"@{RUNTIME / 'conf' / 'jvm-options.txt'}",
                f"-Xmx{self.config.runtime_heap}",
                "-cp",
                f"{LAUNCHER / 'target' / 'statefun-local-launcher.jar'}:{runtime_cp}",
                "io.fraudplatform.runtime.LocalStatefunRuntime",
                *(f"-D{key}={value}" for key, value in self.config.runtime_properties.items()),
            ],
            log_path=self.config.logs / "statefun-runtime.log",
            env={
                "FLINK_CONF_DIR": str(RUNTIME / "conf"),
                "STATEFUN_CHECKPOINT_DIR": str(checkpoints),
                "STATEFUN_MODULE": str(module),
                "FLINK_REST_PORT": str(self.config.ports.flink_rest),
                "PROMETHEUS_PORT": str(self.config.ports.flink_metrics),
            },
            cwd=REPO_ROOT,
            stop_timeout=60,
        )
