"""Checks that fail early with a message a person can act on: Java and Maven (free ports: ports.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from fraud_common.settings import Setting

JAVA_HOME = Setting("JAVA_HOME", None, "the JDK (11 to 21, 17 recommended)", shown_default="the `java` on PATH")
SUPPORTED_JAVA = range(11, 22)  # Flink 1.16 runs on 11 and, with jvm-options.txt, on 17; 21 untested but close


class PrerequisiteError(RuntimeError):
    """Something the stack needs is missing or in the way; the message says what to do."""


def java_executable() -> str:
    """JAVA_HOME's java if set, else the one on PATH, checked to be a supported version."""
    home = JAVA_HOME.read()
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise PrerequisiteError(
            "Java not found: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major not in SUPPORTED_JAVA:
        raise PrerequisiteError(
            f"{java} is Java {major or 'of unknown version'}; the StateFun runtime "
            "(Flink 1.16) needs Java 11 to 21, ideally 17: set JAVA_HOME"
        )
    return java


def maven_executable() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise PrerequisiteError(
            "Maven not found: install it (e.g. apt-get install maven); it resolves the "
            "StateFun runtime and Kafka jars from Maven Central"
        )
    return mvn
