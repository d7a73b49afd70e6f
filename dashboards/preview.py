"""Draw a dashboard's panels as SVG from real Prometheus query results.

Grafana is not installable here; this renders the committed dashboard JSON's panels
(time series, stats, bar gauges) with the same queries, against any Prometheus:

    python dashboards/preview.py --prometheus http://127.0.0.1:9090 --minutes 30 \
        dashboards/facilitation.json docs/img/facilitation.svg

Dashboard variables are taken as "all" (``$course`` = ``.*``) and ``$__range`` is the
window drawn. Pure standard library, so it runs wherever the tests run.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

COL = 50  # px per Grafana grid column (24 columns)
ROW = 30  # px per grid row
PALETTE = ("#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9",
           "#705da0", "#508642", "#cca300")  # fmt: skip


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _get(self, path: str, **params: str) -> list[dict[str, Any]]:
        url = f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.loads(answer.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{url}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def instant(self, query: str, at: float) -> list[dict[str, Any]]:
        return self._get("query", query=query, time=f"{at:.3f}")

    def range(self, query: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return self._get("query_range", query=query, start=f"{start:.3f}", end=f"{end:.3f}",
                         step=f"{step:.3f}")


def substitute(expr: str, minutes: int) -> str:
    """Dashboard variables as Grafana would expand them with "All" selected."""
    return (expr.replace('=~"$course"', '=~".*"').replace("$__range", f"{minutes}m")
            .replace("${datasource}", ""))  # fmt: skip


def legend(fmt: str, labels: dict[str, str]) -> str:
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)
    return text.strip() or ", ".join(f"{k}={v}" for k, v in labels.items()) or "value"


def fmt_value(value: float, unit: str) -> str:
    if math.isnan(value) or math.isinf(value):
        return "-"
    if value == 0:
        return "0"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "s":
        for size, suffix in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value * 1000:.3g} ms"
    suffix = "/s" if unit == "ops" else ""
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k{suffix}"
    return f"{value:.3g}{suffix}"


def _finite(value: str) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


class Canvas:
    def __init__(self, title: str, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts = [
            f'<rect width="{width}" height="{height}" fill="#111217"/>',
            f'<text x="12" y="24" fill="#d8d9da" font-size="18">{escape(title)}</text>',
        ]

    def text(self, x: float, y: float, text: str, size: int = 12, color: str = "#d8d9da",
             anchor: str = "start") -> None:
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" fill="{color}" font-size="{size}" '
                          f'text-anchor="{anchor}">{escape(text)}</text>')

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
                f'height="{self.height}" font-family="sans-serif">\n'
                + "\n".join(self.parts) + "\n</svg>\n")


def _box(canvas: Canvas, panel: dict[str, Any], top: int) -> tuple[float, float, float, float]:
    pos = panel["gridPos"]
    x, y = pos["x"] * COL + 6, top + pos["y"] * ROW + 6
    w, h = pos["w"] * COL - 12, pos["h"] * ROW - 12
    canvas.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3" '
                        'fill="#181b1f" stroke="#2c3235"/>')
    canvas.text(x + 8, y + 18, panel["title"], 13)
    return x, y, w, h


def _unit(panel: dict[str, Any]) -> str:
    # grafanalib writes bar gauges in the pre-7 layout (options.fieldOptions).
    legacy = panel.get("options", {}).get("fieldOptions", {}).get("defaults", {})
    return str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
               or legacy.get("unit", ""))


def draw_stat(canvas: Canvas, panel: dict[str, Any], top: int, prom: Prometheus, end: float,
              minutes: int) -> None:
    x, y, w, h = _box(canvas, panel, top)
    result = prom.instant(substitute(panel["targets"][0]["expr"], minutes), end)
    value = float(result[0]["value"][1]) if result else float("nan")
    canvas.text(x + w / 2, y + h / 2 + 16, fmt_value(value, _unit(panel)), 32, "#73bf69",
                "middle")


def draw_bars(canvas: Canvas, panel: dict[str, Any], top: int, prom: Prometheus, end: float,
              minutes: int) -> None:
    x, y, w, h = _box(canvas, panel, top)
    target = panel["targets"][0]
    rows = [(legend(target["legendFormat"], r["metric"]), _finite(r["value"][1]))
            for r in prom.instant(substitute(target["expr"], minutes), end)]
    rows = sorted((name, v) for name, v in rows if v is not None)
    top_y, bar_h = y + 32, max(8.0, min(22.0, (h - 40) / max(len(rows), 1) - 6))
    for i, (name, value) in enumerate(rows):
        by = top_y + i * (bar_h + 6)
        canvas.text(x + 8, by + bar_h - 4, name, 11)
        width = max(0.0, min(1.0, value)) * (w - 220)
        canvas.parts.append(f'<rect x="{x + 150:.1f}" y="{by:.1f}" width="{width:.1f}" '
                            f'height="{bar_h:.1f}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        canvas.text(x + w - 10, by + bar_h - 4, fmt_value(value, _unit(panel)), 11,
                    anchor="end")


def draw_series(canvas: Canvas, panel: dict[str, Any], top: int, prom: Prometheus, end: float,
                minutes: int) -> None:
    x, y, w, h = _box(canvas, panel, top)
    start, step = end - minutes * 60, max(minutes * 60 / 120, 1.0)
    series: list[tuple[str, list[tuple[float, float]]]] = []
    for target in panel["targets"]:
        for result in prom.range(substitute(target["expr"], minutes), start, end, step):
            points = [(float(t), v) for t, raw in result["values"]
                      if (v := _finite(raw)) is not None]
            if points:
                series.append((legend(target["legendFormat"], result["metric"]), points))
    plot_x, plot_y, plot_w, plot_h = x + 56, y + 28, w - 64 - 230, h - 48
    values = [v for _, points in series for _, v in points] or [0.0, 1.0]
    low, high = min(0.0, *values), max(values)
    high = high if high > low else low + 1
    unit = _unit(panel)
    for frac in (0.0, 0.5, 1.0):
        gy = plot_y + plot_h * (1 - frac)
        canvas.parts.append(f'<line x1="{plot_x}" x2="{plot_x + plot_w}" y1="{gy:.1f}" '
                            f'y2="{gy:.1f}" stroke="#2c3235"/>')
        canvas.text(plot_x - 4, gy + 4, fmt_value(low + frac * (high - low), unit), 10,
                    "#8e8e8e", "end")
    if not series:
        canvas.text(plot_x + plot_w / 2, plot_y + plot_h / 2, "No data", 14, "#8e8e8e", "middle")
    for i, (name, points) in enumerate(series[:10]):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(
            f"{plot_x + (t - start) / (end - start) * plot_w:.1f},"
            f"{plot_y + plot_h * (1 - (v - low) / (high - low)):.1f}" for t, v in points)
        canvas.parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                            f'points="{path}"/>')
        ly = y + 34 + i * 15
        canvas.parts.append(f'<rect x="{x + w - 225}" y="{ly - 9}" width="10" height="3" '
                            f'fill="{color}"/>')
        short = name if len(name) <= 32 else f"{name[:10]}…{name[-21:]}"
        canvas.text(x + w - 210, ly - 4, f"{short} {fmt_value(points[-1][1], unit)}", 10)


DRAW = {"timeseries": draw_series, "stat": draw_stat, "bargauge": draw_bars}


def render(dashboard: dict[str, Any], prom: Prometheus, minutes: int,
           end: float | None = None) -> str:
    end = time.time() if end is None else end
    panels = [p for p in dashboard["panels"] if p.get("type") in DRAW]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    canvas = Canvas(f"{dashboard['title']} (last {minutes} min)", 24 * COL, 40 + bottom * ROW)
    for panel in panels:
        DRAW[panel["type"]](canvas, panel, 40, prom, end, minutes)
    return canvas.svg()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="base URL of a Prometheus")
    parser.add_argument("--minutes", type=int, default=30, help="window to draw")
    parser.add_argument("dashboard", type=Path, help="dashboard JSON")
    parser.add_argument("out", type=Path, help="SVG file to write")
    args = parser.parse_args(argv)
    svg = render(json.loads(args.dashboard.read_text()), Prometheus(args.prometheus),
                 args.minutes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
