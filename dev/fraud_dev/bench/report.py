"""docs/benchmarks.json and the generated tables of docs/benchmarks.md.

Each benchmark owns one section of docs/benchmarks.json; a run replaces the
sections it measured and keeps the others, so one benchmark can be rerun
alone. docs/benchmarks.md is written by hand (what was changed, why, the
profiles before and after) except for the blocks between
`<!-- generated:NAME -->` and `<!-- /generated:NAME -->`, which are rendered
here from the JSON, so the prose and the figures cannot drift apart.

Issue 18's keys (TARGETS) sit at the top level of docs/benchmarks.json, each
lifted from the `keys` of the section that measured it, with a `targets` object
beside them: per key its target, whether it is met, and a note (where the
figure was read, or why it is null). A key no section of the file measured is
null with that reason; no figure is carried over from a run that did not measure it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraud_dev.paths import REPO_ROOT

REPO = REPO_ROOT
RESULTS = REPO / "docs" / "benchmarks.json"
REPORT = REPO / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Target:
    """Issue 18's target for one key: `relation` `value`, or, when `value` is None, the value the owning
    section measured for it (its `targets`: eo_alert_p99_ms_at_400's depends on the checkpoint interval)."""

    benchmark: str
    relation: str
    value: float | None
    text: str = ""


TARGETS = {
    "requests_per_transaction": Target("end-to-end", "<=", 4),
    "function_server_tps_per_core": Target("function-server", ">=", 1500),
    "e2e_kept_up_tps_default": Target("end-to-end", ">=", 800),
    "e2e_kept_up_tps_best": Target("end-to-end", ">=", 1000),
    "alo_alert_p99_ms_at_600": Target("end-to-end", "<=", 1000),
    "eo_alert_p99_ms_at_400": Target("end-to-end", "<=", None, "checkpoint interval + 1000"),
    "e2e_kept_up_tps_mixed": Target("end-to-end", ">=", 400),
    "missing_decisions": Target("end-to-end", "<=", 0),
    "duplicate_decisions": Target("end-to-end", "<=", 0),
    "missing_alerts": Target("end-to-end", "<=", 0),
    "duplicate_alerts": Target("end-to-end", "<=", 0),
}
# Keys lifted beside a target's key, without a target of their own.
COMPANIONS = {"e2e_kept_up_tps_best": "e2e_kept_up_tps_best_configuration"}


def machine() -> dict[str, Any]:
    """What the figures were measured on, so a reader can tell one machine's run from another's."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(memory / 1024 / 1024, 1),
        "python": platform.python_version(),
        "java": java[0] if java else "unknown",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def load() -> dict[str, Any]:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {"sections": {}}


def save(sections: dict[str, dict[str, Any]], machine_info: dict[str, Any]) -> dict[str, Any]:
    """Merge freshly measured sections into docs/benchmarks.json, lift the keys, re-render the report."""
    results = load()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for name, section in sections.items():
        results["sections"][name] = {**section, "measured_at": now, "machine": machine_info}
    results = lift(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    render(results)
    return results


def lift(results: dict[str, Any]) -> dict[str, Any]:
    """`results` with every key of TARGETS (and its companions) at the top level, from the section that owns it,
    and `targets` beside them; nothing else at the top level but `sections`."""
    sections = results["sections"]
    lifted: dict[str, Any] = {}
    targets: dict[str, dict[str, Any]] = {}
    for key, target in TARGETS.items():
        section = sections.get(target.benchmark) or {}
        measured = key in section.get("keys", {})
        value = section["keys"][key] if measured else None
        lifted[key] = value
        if key in COMPANIONS:
            lifted[COMPANIONS[key]] = section.get("keys", {}).get(COMPANIONS[key])
        bound = target.value if target.value is not None else section.get("targets", {}).get(key)
        rerun = f"run `make bench` (or `python -m fraud_dev.bench {target.benchmark}`)"
        note = section.get("notes", {}).get(key, "") if measured else f"not measured since issue 18: {rerun}"
        targets[key] = {
            "target": f"{target.relation} {_number(bound)}" + (f" ({target.text})" if target.text else ""),
            "met": met(value, target.relation, bound),
            "note": note,
        }
    return {**lifted, "targets": targets, "sections": sections}


def met(value: float | None, relation: str, bound: float | None) -> bool | None:
    """Whether `value` meets `relation bound`; None when either is unknown."""
    if value is None or bound is None:
        return None
    return value >= bound if relation == ">=" else value <= bound


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:,}"


def _between_markers(block: str) -> Callable[[re.Match[str]], str]:
    """A replacement keeping a generated block's two markers and putting `block` between them."""
    return lambda found: found.group(1) + block + found.group(2)


def render(results: dict[str, Any], path: Path = REPORT) -> None:
    """Replace each generated block of docs/benchmarks.md with its table."""
    text = path.read_text(encoding="utf-8")
    for name, renderer in RENDERERS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"docs/benchmarks.md has no generated:{name} block")
        text = pattern.sub(_between_markers(renderer(results)), text)
    path.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("–" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def not_measured(name: str) -> str:
    return f"_Not measured yet: run `make bench` (or `python -m fraud_dev.bench {name}`)._\n"


def render_summary(results: dict[str, Any]) -> str:
    rows = []
    for key in TARGETS:
        target = results.get("targets", {}).get(key, {})
        value = results.get(key)
        if key in COMPANIONS and results.get(COMPANIONS[key]) is not None:
            value = f"{value} ({results[COMPANIONS[key]]})"
        measured = results.get(key) is not None
        verdict = {None: "target unknown" if measured else "not measured", True: "met", False: "**not met**"}[
            target.get("met")
        ]
        rows.append([f"`{key}`", value, target.get("target"), verdict, target.get("note")])
    return table(["key", "measured", "target", "", "where from, or why not measured"], rows)


def render_function_server(results: dict[str, Any]) -> str:
    section = results["sections"].get("function-server")
    if not section:
        return not_measured("function-server")
    rows = [
        [
            r["workload"],
            r["in_process_requests_per_second"],
            r["http_requests_per_second"],
            r["http_untraced_requests_per_second"],
            f"{r['in_process_per_second']} / {r['http_per_second']}",
            f"{r['http_p50_ms']} / {r['http_p99_ms']}",
            r["ratio"],
        ]
        for r in section["results"]
    ]
    text = table(
        [
            "workload",
            "in-process req/s (ceiling)",
            "HTTP req/s (metrics, 10% traces)",
            "HTTP req/s (no tracing)",
            "per core: in-process / HTTP (tx/s or invocations/s)",
            "HTTP p50 / p99 ms",
            "ratio",
        ],
        rows,
    )
    stacks = section["results"][0].get("bare_stacks") or {}
    if stacks:
        text += (
            "\nThe same handler behind the thinnest HTTP servers (dev/fraud_dev/bench/bare_servers.py: no screen, "
            "metrics, tracing or drain), same mix, same rounds:\n\n"
        )
        text += table(
            ["server", "req/s", "ratio"],
            [
                [
                    "this project's server (metrics, tracing)",
                    section["results"][0]["http_requests_per_second"],
                    section["results"][0]["ratio"],
                ]
            ]
            + [[name, stack["requests_per_second"], stack["ratio"]] for name, stack in stacks.items()],
        )
    profile = section["results"][0].get("profile")
    if profile:
        text += (
            f"\nWhere the server's core goes under the steady-state mix (py-spy, {profile['samples']} samples, "
            "innermost frame):\n\n"
        )
        text += table(["layer", "% of samples"], [[name, share] for name, share in profile["layers"].items()])
    return text + _measured(section)


def render_sdk(results: dict[str, Any]) -> str:
    section = results["sections"].get("sdk")
    if not section:
        return not_measured("sdk")
    rows = [
        [
            name,
            p["sdk"],
            f"{p['protobuf']} ({p['protobuf_implementation']})",
            p["requests_per_second"],
            p["transactions_per_second"],
        ]
        for name, p in section["packages"].items()
    ]
    return (
        table(["package", "version", "protobuf (implementation)", "in-process req/s", "transactions/s per core"], rows)
        + f"\n`flink-statefun` is {section['speedup']}x the Apache package on the same requests.\n"
        + _measured(section)
    )


def render_end_to_end(results: dict[str, Any]) -> str:
    section = results["sections"].get("end-to-end")
    if not section:
        return not_measured("end-to-end")
    text = ""
    for configuration in section["configurations"]:
        # A section from before issue 18 has no knee, verdicts or producer rates: "–" for them.
        knee = configuration.get("knee", f"kept up with up to {configuration.get('highest_rate_kept_up')} tx/s")
        text += (
            f"\n**{configuration['name']}** ({configuration['guarantee']}): {knee}; sustained (p99 within a "
            f"second) up to {configuration['highest_sustained_rate']} tx/s\n\n"
        )
        rows = []
        for run in configuration["runs"]:
            alert, cpu = run["alert_latency"], run["load"].get("cpu_percent", {})
            producers = run.get("producer_rates") or {}
            counts = run.get("ledger", run)  # read once the ladder drained; a section before issue 18: the rung's
            rows.append(
                [
                    run["rate"],
                    " / ".join(str(rate) for rate in producers.values()) or None,
                    run.get("verdict", "kept up" if run["kept_up"] else "not kept up"),
                    "yes" if run["sustained"] else "no",
                    f"{run['decided']}/{run['produced']} ({counts.get('missing_decisions', '–')} / "
                    f"{counts.get('duplicate_decisions', '–')})",
                    f"{run['alerts']} ({counts.get('missing_alerts', '–')} / {counts.get('duplicate_alerts', '–')})",
                    run["job_restarts"],
                    f"{alert['p50_ms']} / {alert['p99_ms']} / {alert['p999_ms']}",
                    f"{run.get('requests_per_transaction')} / {run.get('messages_per_request')}",
                    " / ".join(str(cpu.get(name, "–")) for name in CPU_COLUMNS),
                ]
            )
        text += table(
            [
                "tx/s",
                "producers achieved tx/s (transactions / confirmed / thresholds)",
                "verdict",
                "sustained",
                "decided in the drain (missing / duplicated in the ledger)",
                "alerts in the drain (missing / duplicated in the ledger)",
                "restarts",
                "alert latency p50 / p99 / p999 ms",
                "requests per tx / messages per request",
                "CPU % " + " / ".join(CPU_COLUMNS),
            ],
            rows,
        )
    return text + "\n" + _measured(section)


CPU_COLUMNS = ("statefun-runtime", "functions", "kafka", "simulator", "merchant-service")


def render_footprint(results: dict[str, Any]) -> str:
    section = results["sections"].get("end-to-end")
    if not section:
        return not_measured("end-to-end")
    rows = []
    for configuration in section["configurations"]:
        last = next((run for run in reversed(configuration["runs"]) if run["kept_up"]), configuration["runs"][-1])
        rss = last["load"].get("rss_mib", {})
        checkpoint = last["checkpoints"]
        cold = configuration["cold_start"]
        rows.append(
            [
                configuration["name"],
                last["rate"],
                " / ".join(str(rss.get(name, "–")) for name in CPU_COLUMNS),
                _kib(checkpoint["latest_state_size_bytes"]),
                _kib(checkpoint["latest_checkpointed_size_bytes"]),
                f"{checkpoint['latest_duration_ms']} / {checkpoint['average_duration_ms']}",
                f"{cold['stack_ready_s']} + {cold['first_alert_s']}",
            ]
        )
    text = table(
        [
            "configuration",
            "at tx/s",
            "RSS MiB " + " / ".join(CPU_COLUMNS),
            "state KiB",
            "last checkpoint KiB",
            "checkpoint ms last / average",
            "cold start s: stack ready + first alert",
        ],
        rows,
    )
    text += render_threads(section["configurations"])
    return text + _measured(section)


def render_threads(configurations: list[dict[str, Any]]) -> str:
    """The runtime JVM's busiest threads side by side, every configuration at one rate: the default's highest
    kept-up rung (or its last), so that a column differs from the default's by the configuration alone."""
    default = configurations[0]
    rate = next((run for run in reversed(default["runs"]) if run["kept_up"]), default["runs"][-1])["rate"]
    columns = {
        configuration["name"]: run["load"].get("threads", {})
        for configuration in configurations
        for run in configuration["runs"]
        if run["rate"] == rate and run["load"].get("threads")
    }
    if not columns:
        return ""
    groups = sorted(
        {name for threads in columns.values() for name in threads},
        key=lambda name: -max(threads.get(name, 0.0) for threads in columns.values()),
    )
    rows = [[f"`{name}`", *(threads.get(name) for threads in columns.values())] for name in groups]
    rows.append(["**all threads listed**", *(round(sum(threads.values()), 1) for threads in columns.values())])
    return (
        f"\nThe runtime JVM's busiest threads at {rate} tx/s (% of one core, from /proc; each configuration's ten "
        "busiest, – where a group was not among them):\n\n" + table(["thread group", *columns], rows)
    )


def _kib(size: int | None) -> str | None:
    return None if size is None else str(round(size / 1024))


def _measured(section: dict[str, Any]) -> str:
    info = section.get("machine", {})
    return (
        f"\n_Measured {section.get('measured_at', '?')} on {info.get('cpus', '?')} CPUs "
        f"({info.get('cpu_model', '?')}), "
        f"load average {info.get('load_average_at_start', '?')} at the start._\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "summary": render_summary,
    "function-server": render_function_server,
    "sdk": render_sdk,
    "end-to-end": render_end_to_end,
    "footprint": render_footprint,
}
