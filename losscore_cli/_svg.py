"""A small SVG writer for line charts: panels with axes, ticks, labelled polylines, a legend and
a title, in plain SVG 1.1 (no script, no external resources).

Each panel is a ``<g class="panel">`` carrying its data ranges (``data-x-min``, ``data-x-max``,
``data-y-min``, ``data-y-max``) and a ``<rect class="plot-area">``: a point (x, y) is drawn at
``area.x + (x − x_min)/(x_max − x_min)·area.width`` and
``area.y + (y_max − y)/(y_max − y_min)·area.height``, so a reader (a test) can recover the data
from the drawing. A curve is one ``<polyline class="curve" data-series="…">`` per run of finite
points (a non-finite value breaks the line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Chart", "Panel", "Series", "nice_ticks", "render"]

PANEL_W, PANEL_H = 440, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 16, 30, 44
LEGEND_W = 190
TITLE_H = 40
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)


@dataclass(frozen=True)
class Series:
    """One curve: a label (the legend's and ``data-series``), its colour and its points."""

    label: str
    color: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass(frozen=True)
class Panel:
    """One set of axes."""

    title: str
    x_label: str
    y_label: str
    series: Sequence[Series]
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chart:
    """A row of panels sharing one legend (the series of its first panel)."""

    title: str
    panels: Sequence[Panel]


def color(i: int) -> str:
    """The i-th colour of the palette (cycling)."""
    return PALETTE[i % len(PALETTE)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About *count* round tick values (1, 2 or 5 times a power of ten apart) in [low, high]."""
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return [low]
    raw = span / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    k = 0
    while (value := first + k * step) <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        k += 1
    return ticks


def _range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return -1.0, 1.0
    low, high = min(finite), max(finite)
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _label(value: float) -> str:
    return f"{value:.4g}"


def _runs(xs: Sequence[float], ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(x) and math.isfinite(y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _panel(panel: Panel, left: float, top: float) -> list[str]:
    x0, x1 = _range([x for s in panel.series for x in s.x])
    y0, y1 = _range([y for s in panel.series for y in s.y])
    ax, ay = left + MARGIN_L, top + MARGIN_T
    aw, ah = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B

    def px(x: float) -> float:
        return ax + (x - x0) / (x1 - x0) * aw

    def py(y: float) -> float:
        return ay + (y1 - y) / (y1 - y0) * ah

    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in panel.attrs.items())
    out = [
        f'<g class="panel"{attrs} data-x-min="{x0!r}" data-x-max="{x1!r}" '
        f'data-y-min="{y0!r}" data-y-max="{y1!r}">',
        f'<text class="panel-title" x="{_num(ax)}" y="{_num(top + 20)}" '
        f'font-weight="bold">{escape(panel.title)}</text>',
        f'<rect class="plot-area" x="{_num(ax)}" y="{_num(ay)}" width="{_num(aw)}" '
        f'height="{_num(ah)}" fill="white" stroke="#444"/>',
    ]
    for t in nice_ticks(x0, x1):
        out.append(
            f'<line class="grid" x1="{_num(px(t))}" y1="{_num(ay)}" x2="{_num(px(t))}" '
            f'y2="{_num(ay + ah)}" stroke="#e5e5e5"/>'
            f'<text x="{_num(px(t))}" y="{_num(ay + ah + 16)}" text-anchor="middle" '
            f'font-size="11">{escape(_label(t))}</text>'
        )
    for t in nice_ticks(y0, y1):
        out.append(
            f'<line class="grid" x1="{_num(ax)}" y1="{_num(py(t))}" x2="{_num(ax + aw)}" '
            f'y2="{_num(py(t))}" stroke="#e5e5e5"/>'
            f'<text x="{_num(ax - 6)}" y="{_num(py(t) + 4)}" text-anchor="end" '
            f'font-size="11">{escape(_label(t))}</text>'
        )
    if x0 < 0 < x1:
        out.append(
            f'<line class="axis" x1="{_num(px(0))}" y1="{_num(ay)}" x2="{_num(px(0))}" '
            f'y2="{_num(ay + ah)}" stroke="#999"/>'
        )
    if y0 < 0 < y1:
        out.append(
            f'<line class="axis" x1="{_num(ax)}" y1="{_num(py(0))}" x2="{_num(ax + aw)}" '
            f'y2="{_num(py(0))}" stroke="#999"/>'
        )
    for s in panel.series:
        for run in _runs(s.x, s.y):
            points = " ".join(f"{_num(px(x))},{_num(py(y))}" for x, y in run)
            out.append(
                f'<polyline class="curve" data-series={quoteattr(s.label)} fill="none" '
                f'stroke="{s.color}" stroke-width="1.8" points="{points}"/>'
            )
    out += [
        f'<text class="x-label" x="{_num(ax + aw / 2)}" y="{_num(ay + ah + 36)}" '
        f'text-anchor="middle" font-size="12">{escape(panel.x_label)}</text>',
        f'<text class="y-label" x="{_num(left + 14)}" y="{_num(ay + ah / 2)}" '
        f'text-anchor="middle" font-size="12" transform="rotate(-90 {_num(left + 14)} '
        f'{_num(ay + ah / 2)})">{escape(panel.y_label)}</text>',
        "</g>",
    ]
    return out


def _legend(series: Sequence[Series], left: float, top: float) -> list[str]:
    out = ['<g class="legend">']
    for i, s in enumerate(series):
        y = top + MARGIN_T + 30 + 20 * i
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + 24)}" y2="{_num(y)}" '
            f'stroke="{s.color}" stroke-width="3"/>'
            f'<text x="{_num(left + 30)}" y="{_num(y + 4)}" font-size="12">{escape(s.label)}</text>'
        )
    out.append("</g>")
    return out


def render(title: str, charts: Sequence[Chart]) -> str:
    """The SVG document: the title, then one row per chart (its panels side by side, the
    legend on the right)."""
    columns = max(len(c.panels) for c in charts)
    width = columns * PANEL_W + LEGEND_W
    height = TITLE_H + len(charts) * (PANEL_H + 24)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text class="title" x="{width / 2:g}" y="26" text-anchor="middle" font-size="16" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for row, chart in enumerate(charts):
        top = TITLE_H + row * (PANEL_H + 24)
        out.append(f'<g class="chart" data-title={quoteattr(chart.title)}>')
        out.append(
            f'<text class="chart-title" x="{_num(columns * PANEL_W + 8)}" '
            f'y="{_num(top + MARGIN_T)}" font-size="12" fill="#333">{escape(chart.title)}</text>'
        )
        for i, panel in enumerate(chart.panels):
            out += _panel(panel, i * PANEL_W, top + 8)
        out += _legend(chart.panels[0].series if chart.panels else [], columns * PANEL_W + 8, top)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
