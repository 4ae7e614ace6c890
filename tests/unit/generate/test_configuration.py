"""docs/configuration.md covers every environment variable the code reads: each read goes through a declared
setting, and every declared setting is in one of the generated sections."""

from __future__ import annotations

import re

from fraud_dev.generate.docs import SECTIONS
from fraud_dev.paths import REPO_ROOT

SOURCES = ("common", "functions", "merchant-service", "simulator", "dev/fraud_dev")
# A read of an environment variable by its name: os.environ[...], os.environ.get(...), os.getenv(...), env_*(...).
READ = re.compile(r"""(?:environ\[|environ\.get\(|getenv\(|env_(?:str|int|float|bool)\()\s*["']([A-Z][A-Z0-9_]*)["']""")
# A declaration: Setting("NAME", ...), setting("NAME", ...), port("NAME", ...).
DECLARED = re.compile(r"""\b(?:Setting|setting|port)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
# Variables the code reads that this project does not define, and where they are documented instead.
NOT_OURS = {
    "OTEL_SERVICE_NAME": "the OpenTelemetry SDK's (configuration.md's hand-written Traces table)",
    "BODIES": "the wrk script's, set by the benchmark that runs it (fraud_dev.bench.wrk)",
}


def names(pattern: re.Pattern[str]) -> dict[str, str]:
    """Every name the pattern finds in the sources, with the first file it is in."""
    found: dict[str, str] = {}
    for folder in SOURCES:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for name in pattern.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(REPO_ROOT)))
    return found


def documented() -> set[str]:
    return {setting.variable for section in SECTIONS for setting in section.settings}


def test_every_variable_the_code_reads_is_a_documented_setting():
    undocumented = {name: where for name, where in names(READ).items() if name not in documented() | set(NOT_OURS)}
    assert not undocumented, f"read without a declared setting in docs/configuration.md's sections: {undocumented}"


def test_every_declared_setting_is_in_a_section_of_the_reference():
    missing = {name: where for name, where in names(DECLARED).items() if name not in documented()}
    assert not missing, f"declared but in no section of fraud_dev.generate.docs.SECTIONS: {missing}"


def test_the_scan_finds_reads_and_declarations():
    # The patterns above are what the two tests rely on: they must see the reads this repository has.
    assert {"LOG_LEVEL", "OTEL_SERVICE_NAME"} <= set(names(READ))
    assert {"FUNCTIONS_PORT", "KAFKA_PORT", "LOG_LEVEL", "JAVA_HOME"} <= set(names(DECLARED))
    assert READ.findall('os.environ.get("X_Y")  env_int("Z", 1)') == ["X_Y", "Z"]
