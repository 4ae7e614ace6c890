"""The docs' generated tables: the functions and the topics (docs/architecture.md) and every environment
variable (docs/configuration.md), each from its one declaration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from statefun import ValueSpec

from fraud_common.contract import Topic
from fraud_common.logs import LOG_LEVEL
from fraud_common.settings import Setting, declared_settings
from fraud_dev.cluster.config import ClusterConfig, ClusterPorts
from fraud_dev.generate.blocks import fill
from fraud_dev.generate.chart import read_text
from fraud_dev.maven import MAVEN_REPO_LOCAL
from fraud_dev.module_spec import ModuleSpecSettings
from fraud_dev.prerequisites import JAVA_HOME
from fraud_dev.stack.config import Ports, StackConfig
from fraud_functions.declarations import Declared
from fraud_functions.settings import FunctionSettings
from fraud_simulator.settings import SimulatorSettings
from merchant_service.settings import Settings as MerchantServiceSettings

ARCHITECTURE = Path("docs") / "architecture.md"
CONFIGURATION = Path("docs") / "configuration.md"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def code(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "-"


def ttl(spec: ValueSpec) -> str:
    if not spec.duration:
        return "no TTL"
    seconds = spec.duration // 1000
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def function_table(functions: Sequence[Declared], topics: Sequence[Topic]) -> str:
    """One row per declared function: what it does, takes, answers, keeps, and the topics it reads."""
    settings = FunctionSettings()
    rows = []
    for item in functions:
        state = ", ".join(f"`{spec.name}` ({ttl(spec)})" for spec in item.state(settings)) or "none"
        read = [topic.name for topic in topics if topic.ingress is not None and topic.ingress.target == item.typename]
        rows.append([f"`{item.typename}`", item.summary, code(item.takes), code(item.answers), state, code(read)])
    return table(["function", "what it does", "takes", "answers", "state (TTL)", "reads Kafka topic"], rows)


def runtime_side(topic: Topic) -> str:
    if topic.ingress is not None:
        return f"ingress `{topic.id}` → `{topic.ingress.target}`, as `{topic.ingress.record_type}`"
    choice = topic.egress.delivery_setting if topic.egress is not None else None
    return f"egress `{topic.id}`, exactly-once" + (f" (or as `{choice}` says)" if choice else "")


def topic_table(topics: Sequence[Topic]) -> str:
    """One row per topic of the contract."""
    rows = [[f"`{t.name}`", t.key, t.value, str(t.partitions), runtime_side(t)] for t in topics]
    return table(["topic", "key", "value", "partitions", "the runtime"], rows)


@dataclass(frozen=True)
class Section:
    """One block of docs/configuration.md: the settings of one component, in the order they are declared."""

    name: str
    settings: tuple[Setting, ...]


def of(cls: type) -> tuple[Setting, ...]:
    return tuple(declared for _, declared in declared_settings(cls))


SECTIONS = (
    Section("functions", of(FunctionSettings)),
    Section("merchant-service", of(MerchantServiceSettings)),
    Section("simulator", of(SimulatorSettings)),
    Section("every-component", (LOG_LEVEL,)),
    Section("module-spec", of(ModuleSpecSettings)),
    Section("local-stack", of(StackConfig) + of(Ports) + (JAVA_HOME, MAVEN_REPO_LOCAL)),
    Section("control-plane", of(ClusterConfig) + of(ClusterPorts)),
)


def settings_table(settings: Sequence[Setting]) -> str:
    rows = [
        [f"`{item.variable}`", item.documented_default(), item.accepts(), item.meaning.replace("|", "\\|")]
        for item in settings
    ]
    return table(["variable", "default", "accepts", "meaning"], rows)


def architecture(root: Path, functions: Sequence[Declared], topics: Sequence[Topic]) -> str:
    return fill(
        read_text(root / ARCHITECTURE),
        {"functions": function_table(functions, topics), "topics": topic_table(topics)},
        str(ARCHITECTURE),
    )


def configuration(root: Path, sections: Sequence[Section] = SECTIONS) -> str:
    return fill(
        read_text(root / CONFIGURATION),
        {section.name: settings_table(section.settings) for section in sections},
        str(CONFIGURATION),
    )
