"""The stand-in flink base's entrypoint (runtime/flink-base/docker-entrypoint.sh, docs/adr/0014), with a `java` on PATH
that records its arguments and answers BashJavaUtils as Flink's does: each command starts the right class with the
memory flags, dynamic configuration, env.java.opts and the caller's arguments, and never writes the configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[3] / "runtime" / "flink-base" / "docker-entrypoint.sh"
# BashJavaUtils prints its log and then tagged lines: JVM flags, then dynamic configuration.
FAKE_JAVA = """#!/bin/sh
if [ "$3" = "org.apache.flink.runtime.util.bash.BashJavaUtils" ]; then
    echo "INFO some log line"
    echo "BASH_JAVA_UTILS_EXEC_RESULT:-Xmx100m -Xms100m"
    echo "BASH_JAVA_UTILS_EXEC_RESULT:-D mem.a=1b -D mem.b=2b"
    exit 0
fi
printf '%s\\n' "$@" > "$JAVA_ARGS"
"""


@pytest.fixture()
def flink_home(tmp_path: Path) -> Path:
    home = tmp_path / "flink"
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "flink-conf.yaml").write_text(
        "rest.port: 8081\nenv.java.opts: --add-opens=java.base/java.lang=ALL-UNNAMED -Dx=1  # a comment\n"
        "env.java.opts.taskmanager: -Dtm=1\n",
        encoding="utf-8",
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").write_text(FAKE_JAVA, encoding="utf-8")
    (bin_dir / "java").chmod(0o755)
    (home / "conf").chmod(0o555)  # read-only, as the chart's ConfigMap mount
    return home


def run(flink_home: Path, *args: str) -> list[str]:
    record = flink_home.parent / "java-args"
    env = {
        "PATH": f"{flink_home.parent / 'bin'}:/usr/bin:/bin",
        "FLINK_HOME": str(flink_home),
        "JAVA_ARGS": str(record),
    }
    result = subprocess.run(["bash", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return record.read_text(encoding="utf-8").splitlines()


def common(flink_home: Path, kind: str) -> list[str]:
    conf = flink_home / "conf"
    return [
        "-Xmx100m",
        "-Xms100m",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "-Dx=1",
        *(["-Dtm=1"] if kind == "taskmanager" else []),
        f"-Dlog.file={flink_home}/log/flink-{kind}.log",
        f"-Dlog4j.configuration=file:{conf}/log4j-console.properties",
        f"-Dlog4j.configurationFile=file:{conf}/log4j-console.properties",
        "-classpath",
        f"{flink_home}/lib/*",
    ]


def test_standalone_job_runs_the_application_entry_point_with_the_callers_arguments(flink_home: Path):
    argv = run(flink_home, "standalone-job", "--host", "10.0.0.7", "--job-classname", "a.B", "--job-id", "f" * 32)
    assert argv == [
        *common(flink_home, "jobmanager"),
        "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint",
        "--configDir",
        str(flink_home / "conf"),
        "-D",
        "mem.a=1b",
        "-D",
        "mem.b=2b",
        "--host",
        "10.0.0.7",
        "--job-classname",
        "a.B",
        "--job-id",
        "f" * 32,
    ]


def test_taskmanager_runs_the_task_manager_runner_with_its_own_java_options(flink_home: Path):
    argv = run(flink_home, "taskmanager")
    assert argv == [
        *common(flink_home, "taskmanager"),
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        "--configDir",
        str(flink_home / "conf"),
        "-D",
        "mem.a=1b",
        "-D",
        "mem.b=2b",
    ]
    assert sorted(os.listdir(flink_home / "conf")) == ["flink-conf.yaml"]  # nothing written


def test_another_command_is_run_as_it_is(flink_home: Path, tmp_path: Path):
    marker = tmp_path / "ran"
    env = {"PATH": "/usr/bin:/bin", "FLINK_HOME": str(flink_home)}
    subprocess.run(["bash", str(ENTRYPOINT), "touch", str(marker)], env=env, check=True)
    assert marker.exists()
