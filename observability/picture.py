"""A picture of a dashboard from a running Prometheus, without Grafana (ADR 0006: none can be had here).

`python -m observability.picture --prometheus http://127.0.0.1:9090 --minutes 10 --out docs/images/overview.png`
runs every query of the dashboard (observability/dashboards/<uid>.json) over the last minutes, draws each
panel where its gridPos puts it (time series as lines, stat panels as their last value) into a
self-contained HTML page of inline SVG, and has headless Chromium (Debian's package:
dev/scripts/ensure-observability-tools.sh --picture) screenshot it. The README's picture of the overview is
made this way from the local stack's real data.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parent / "dashboards"
WIDTH, ROW_HEIGHT, GAP = 1600, 34, 8
COLORS = ("#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a")
UNITS = {"reqps": "/s", "percentunit": "%", "s": " s", "ms": " ms", "bytes": " B"}
# Chromium must not reach out: no updates, no metrics, no sync; the page itself loads nothing.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-extensions",
]


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    expr = expr.replace("$__rate_interval", "1m").replace("$function", ".*")
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{params}", timeout=30) as response:
        return json.loads(response.read())["data"]["result"]


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend: {{label}} replaced by the series' value, by nothing where the series lacks it."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda ref: labels.get(ref.group(1), ""), template).strip()


def formatted(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        for scale, suffix in ((1 << 30, " GiB"), (1 << 20, " MiB"), (1 << 10, " KiB")):
            if abs(value) >= scale:
                return f"{value / scale:.1f}{suffix}"
    return f"{value:.3g}{UNITS.get(unit, '')}"


def series_of(
    prometheus: str, panel: dict, start: float, end: float, step: float
) -> list[tuple[str, list[tuple[float, float]]]]:
    out = []
    for target in panel.get("targets", []):
        for result in query_range(prometheus, target["expr"], start, end, step):
            points = [(float(t), float(v)) for t, v in result["values"] if not math.isnan(float(v))]
            if points:
                out.append((legend(target.get("legendFormat", ""), result["metric"]), points))
    return out


def svg_timeseries(series, width: int, height: int, unit: str, start: float, end: float) -> str:
    columns = max(1, (width - 76) // 240)
    left, right, top, bottom = 64, 12, 8, 22 + 16 * ((len(series) + columns - 1) // columns)
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, points in series for _, v in points] or [0.0]
    low, high = min(0.0, min(values)), max(values)
    high = high if high > low else low + 1
    parts = []
    for i in range(5):
        y = top + plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#2c3235"/>')
        label = html.escape(formatted(high - (high - low) * i / 4, unit))
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for i in range(4):
        t = start + (end - start) * i / 3
        x = left + plot_w * i / 3
        clock = time.strftime("%H:%M", time.localtime(t))
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{clock}</text>')
    for index, (name, points) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        coordinates = " ".join(
            f"{left + plot_w * (t - start) / (end - start):.1f},{top + plot_h * (1 - (v - low) / (high - low)):.1f}"
            for t, v in points
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{coordinates}"/>')
        column, row = index % columns, index // columns
        lx, ly = left + column * plot_w / columns, top + plot_h + 30 + row * 16
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 8}" width="12" height="3" fill="{color}"/>'
            f'<text x="{lx + 16:.1f}" y="{ly - 4}">{html.escape(name[:48])}</text>'
        )
    return f'<svg width="{width}" height="{height}">{"".join(parts)}</svg>'


def panel_html(prometheus: str, panel: dict, start: float, end: float, step: float) -> str:
    grid = panel["gridPos"]
    column_width = (WIDTH - GAP) / 24
    x, y = GAP + grid["x"] * column_width, grid["y"] * ROW_HEIGHT + GAP
    width, height = grid["w"] * column_width - GAP, grid["h"] * ROW_HEIGHT - GAP
    style = f"left:{x:.0f}px;top:{y:.0f}px;width:{width:.0f}px;height:{height:.0f}px"
    if panel["type"] == "row":
        return f'<div class="row" style="{style}">{html.escape(panel["title"])}</div>'
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    series = series_of(prometheus, panel, start, end, step)
    if not series:
        body = '<div class="empty">No data</div>'
    elif panel["type"] == "stat":
        body = f'<div class="stat">{html.escape(formatted(series[0][1][-1][1], unit))}</div>'
    else:
        body = svg_timeseries(series, int(width) - 16, int(height) - 40, unit, start, end)
    return f'<div class="panel" style="{style}"><div class="title">{html.escape(panel["title"])}</div>{body}</div>'


def page(prometheus: str, board: dict, minutes: float) -> tuple[str, int]:
    end = time.time()
    start = end - minutes * 60
    step = max(5.0, minutes * 60 / 300)
    panels = [panel_html(prometheus, panel, start, end, step) for panel in board["panels"]]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"]) * ROW_HEIGHT + 2 * GAP + 40
    header = (
        f'<div class="header">{html.escape(board["title"])} <span>last {minutes:g} minutes, '
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(end))}, from Prometheus</span></div>"
    )
    css = (
        "body{margin:0;background:#111217;color:#ccccdc;font:12px sans-serif}"
        ".header{height:32px;line-height:32px;padding:0 12px;font-size:16px}.header span{font-size:12px;color:#8e8e8e}"
        ".canvas{position:relative;margin-top:4px}.panel,.row{position:absolute;box-sizing:border-box}"
        ".panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 8px}"
        ".row{font-size:14px;font-weight:bold;padding-top:8px}.title{font-weight:500;margin-bottom:4px}"
        "svg text{fill:#8e8e8e;font-size:10px}.stat{font-size:40px;color:#73bf69;text-align:center;margin-top:30px}"
        ".empty{color:#8e8e8e;text-align:center;margin-top:40px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head><body>{header}"
        f"<div class='canvas'>{''.join(panels)}</div></body></html>"
    ), height


def screenshot(document: str, height: int, out: Path) -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium not found: dev/scripts/ensure-observability-tools.sh --picture")
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "dashboard.html"
        source.write_text(document, encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={scratch}/profile",
                f"--window-size={WIDTH},{height}",
                f"--screenshot={out.resolve()}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="the Prometheus to ask (loopback)")
    parser.add_argument(
        "--dashboard", default="fraud-overview", help="dashboard uid (observability/dashboards/<uid>.json)"
    )
    parser.add_argument("--minutes", type=float, default=10, help="time range, ending now")
    parser.add_argument("--out", type=Path, default=Path("docs/images/overview.png"))
    args = parser.parse_args(argv)
    board = json.loads((DASHBOARDS / f"{args.dashboard}.json").read_text(encoding="utf-8"))
    document, height = page(args.prometheus, board, args.minutes)
    screenshot(document, height, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
