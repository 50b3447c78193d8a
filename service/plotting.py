"""SVG charts of losses and their derivatives, of regularisation paths and of CV scores.

A small SVG writer for the service's three charts (no plotting library: the image carries
no matplotlib, fonttools or pillow). It draws what matplotlib drew for them before: panels
with a frame, linear or logarithmic axes (α runs decreasing to the right), "nice" ticks with
labels and a light grid, 5 % margins around the data, lines in matplotlib's tab10 colours
(NaN and ±inf leave gaps), error bars with caps and markers, dashed or dotted reference
lines, titles, axis labels and legends placed where they hide the fewest points. Text stays
text (searchable, accessible). Groups carry matplotlib's SVG ids (``axes_N``, ``xtick_N``,
``ytick_N``, ``line2d_N``, ``legend_N``), so a chart's parts remain addressable.

Everything is computed from the arguments (no global state): charts can be drawn from
several threads at once. A chart that cannot be drawn (its axis ticks or data range beyond
the float range) raises :class:`ValueError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import numpy.typing as npt

from losscore import Curve

__all__ = ["MAX_LINES", "cv_svg", "losses_svg", "path_svg"]

MAX_LINES = 20  # most coefficient lines a path chart draws

# matplotlib's defaults: the tab10 cycle, DejaVu Sans 10 pt, 72 points per inch
COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
RED, GREEN = COLORS[3], COLORS[2]
FONT = "DejaVu Sans, Bitstream Vera Sans, Arial, Helvetica, sans-serif"
SIZE = 10.0  # tick labels, axis labels
TITLE_SIZE = 12.0
LEGEND_SIZE = 8.33  # "small"
CHAR = 0.6  # average glyph width, in font sizes (for the layout: there are no font metrics)
DPI = 72.0
MARGIN = 0.05  # of the data range, on each side
TICK = 3.5  # tick length
GRID = 'stroke="#b0b0b0" stroke-width="0.8" stroke-opacity="0.3"'
DASHES = {"--": "3.7,1.6", ":": "1,1.65"}  # matplotlib's patterns at width 1, scaled by width
MINUS = "\u2212"

Floats = npt.NDArray[np.float64]


@dataclass
class Series:
    """A line through (x, y); optional markers and vertical error bars (± yerr)."""

    x: Sequence[float]
    y: Sequence[float]
    label: str | None
    color: str
    width: float = 1.5
    marker: float = 0.0  # marker diameter (0: none)
    yerr: Sequence[float] | None = None


@dataclass
class RefLine:
    """A line across the panel: vertical at x = value, or horizontal at y = value."""

    vertical: bool
    value: float
    color: str
    width: float
    style: str = "-"
    label: str | None = None


@dataclass
class Panel:
    series: list[Series]
    refs: list[RefLine] = field(default_factory=list)
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    xlog: bool = False
    xinvert: bool = False
    legend: bool = True


# ---------------------------------------------------------------- axes and ticks


def _nonsingular(lo: float, hi: float) -> tuple[float, float]:
    """Widen an empty or vanishing range (matplotlib's ``nonsingular``, expander 0.05)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return -MARGIN, MARGIN
    big = max(abs(lo), abs(hi))
    if big < 1e21 * np.finfo(float).tiny:  # the range is a few subnormal steps wide
        return -MARGIN, MARGIN
    if hi - lo <= big * 1e-15:
        if lo == hi == 0.0:
            return -MARGIN, MARGIN
        lo, hi = lo - MARGIN * abs(lo), hi + MARGIN * abs(hi)
    return lo, hi


@dataclass
class Axis:
    """Data limits [lo, hi] mapped to pixels [p0, p1] (linear, or logarithmic in base 10)."""

    lo: float
    hi: float
    log: bool
    p0: float = 0.0
    p1: float = 1.0

    def frac(self, v: float) -> float:
        if self.log:
            a, b = math.log10(self.lo), math.log10(self.hi)
            return (math.log10(v) - a) / (b - a)
        return (v - self.lo) / (self.hi - self.lo)

    def px(self, v: float) -> float:
        return self.p0 + (self.p1 - self.p0) * self.frac(v)


def axis_for(values: Sequence[float], log: bool) -> Axis:
    """Limits around the finite (positive, on a log axis) values, with 5 % margins."""
    good = [v for v in values if math.isfinite(v) and (v > 0.0 or not log)]
    if log:
        if not good:
            return Axis(1.0, 10.0, log=True)
        a, b = math.log10(min(good)), math.log10(max(good))
        if b - a < 1e-12:
            a, b = a - 1.0, b + 1.0
        pad = MARGIN * (b - a)
        return Axis(10.0 ** (a - pad), 10.0 ** (b + pad), log=True)
    lo, hi = _nonsingular(min(good, default=0.0), max(good, default=1.0))
    span = hi - lo
    lo, hi = lo - MARGIN * span, hi + MARGIN * span
    if not all(map(math.isfinite, (span, lo, hi, hi - lo))):
        raise ValueError("the data range exceeds the float range")
    return Axis(lo, hi, log=False)


def linear_ticks(lo: float, hi: float, bins: int) -> tuple[list[float], float]:
    """Multiples of a 1, 2, 2.5 or 5 times a power of ten inside [lo, hi] (at most ``bins``
    intervals), and that step. The ticks just outside the range must be floats too."""
    raw = (hi - lo) / max(bins, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1.0, 2.0, 2.5, 5.0, 10.0) if s * mag >= raw * (1 - 1e-9))
    outer = (math.floor(lo / step) * step, math.ceil(hi / step) * step)
    if not (step > 0.0 and all(map(math.isfinite, outer))):
        raise ValueError(f"tick positions beyond the float range (step {step:g})")
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step + 0.0 for k in range(first, last + 1)], step


def linear_labels(ticks: Sequence[float], step: float) -> list[str]:
    """Labels with as many digits as the step needs; scientific notation for large or small
    magnitudes; a true minus sign."""
    big = max((abs(t) for t in ticks), default=0.0) or step
    lead = math.floor(math.log10(step))
    extra = 0 if round(step / 10.0**lead, 6) in (1.0, 2.0, 5.0) else 1  # 2.5 needs one more
    if 1e-4 <= big < 1e6:
        decimals = min(max(0, extra - lead), 17)
        out = [f"{t:.{decimals}f}" for t in ticks]
    else:
        digits = min(max(0, math.floor(math.log10(big)) - lead + extra), 16)
        out = [_sci(f"{t:.{digits}e}") if t != 0.0 else "0" for t in ticks]
    return [s.replace("-", MINUS) for s in out]


def _sci(s: str) -> str:
    mantissa, exponent = s.split("e")
    return f"{mantissa}e{int(exponent)}"


def log_ticks(lo: float, hi: float, bins: int) -> list[tuple[float, str]]:
    """Powers of ten inside [lo, hi] (every k-th one over many decades); over less than two
    decades also 2 and 5 times them, then every digit."""
    a, b = math.log10(lo), math.log10(hi)
    decades = list(range(math.ceil(a - 1e-9), math.floor(b + 1e-9) + 1))
    if len(decades) >= 2:
        every = max(1, math.ceil(len(decades) / max(bins, 1)))
        return [(10.0**d, _power(d)) for d in decades if d % every == 0]
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        ticks = [
            (m * 10.0**d, _power(d) if m == 1 else f"{m * 10.0**d:g}".replace("-", MINUS))
            for d in range(math.floor(a) - 1, math.ceil(b) + 1)
            for m in mantissas
            if lo <= m * 10.0**d <= hi
        ]
        if len(ticks) >= 2:
            return ticks
    return ticks


def _power(d: int) -> str:
    exp = str(d).replace("-", MINUS)
    return f'10<tspan dy="-4" font-size="{SIZE * 0.7:g}">{exp}</tspan>'


# ---------------------------------------------------------------- drawing


def _num(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def _text(x: float, y: float, text: str, size: float, anchor: str = "middle",
          extra: str = "", markup: bool = False) -> str:  # fmt: skip
    body = text if markup else escape(text)
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size:g}" text-anchor="{anchor}"'
        f"{extra}>{body}</text>"
    )


def _width(text: str, size: float) -> float:
    plain = text.split("<", 1)[0] + ("00" if "<tspan" in text else "")  # 10 + exponent
    return len(plain) * CHAR * size


def _dash(style: str, width: float) -> str:
    pattern = DASHES.get(style)
    if pattern is None:
        return ""
    scaled = ",".join(_num(float(p) * width) for p in pattern.split(","))
    return f' stroke-dasharray="{scaled}"'


class Ids:
    """Document-wide numbering of element ids (axes_1, xtick_1, …)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{kind}_{self.counts[kind]}"


def _runs(px: Floats, py: Floats) -> Iterator[tuple[Floats, Floats]]:
    """Runs of consecutive finite points (a NaN or infinite value leaves a gap)."""
    ok = np.isfinite(px) & np.isfinite(py)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.view(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        yield px[start:stop], py[start:stop]


def _decimate(px: Floats, py: Floats) -> tuple[Floats, Floats]:
    """At most the first, lowest, highest and last point of each pixel column (x sorted):
    what a renderer would draw anyway, for a fraction of the bytes."""
    if len(px) < 8 or (np.any(np.diff(px) < 0) and np.any(np.diff(px) > 0)):
        return px, py
    column = np.floor(px).astype(np.int64)
    starts = np.flatnonzero(np.diff(column, prepend=column[0] - 1))
    if len(px) <= 4 * len(starts):
        return px, py
    ends = np.append(starts[1:], len(px)) - 1
    low = np.array([s + int(np.argmin(py[s : e + 1])) for s, e in zip(starts, ends, strict=True)])
    high = np.array([s + int(np.argmax(py[s : e + 1])) for s, e in zip(starts, ends, strict=True)])
    keep = np.unique(np.concatenate((starts, ends, low, high)))
    return px[keep], py[keep]


def _path(px: Floats, py: Floats) -> str:
    points = [f"{_num(x)} {_num(y)}" for x, y in zip(px.tolist(), py.tolist(), strict=True)]
    return "M " + " L ".join(points)


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float


def _legend(out: list[str], ids: Ids, box: Box, entries: list[tuple[str, str]],
            points: list[tuple[float, float]]) -> None:  # fmt: skip
    """A framed legend (sample, label) where it covers the fewest data points."""
    size = LEGEND_SIZE
    row = size * 1.45
    sample = 2.0 * size
    width = 0.8 * size + sample + 0.8 * size + max(_width(t, size) for _, t in entries) + 0.8 * size
    height = row * len(entries) + 0.6 * size
    pad = 0.5 * size
    xs = {
        "left": box.x0 + pad,
        "center": (box.x0 + box.x1 - width) / 2,
        "right": box.x1 - pad - width,
    }
    ys = {
        "upper": box.y0 + pad,
        "center": (box.y0 + box.y1 - height) / 2,
        "lower": box.y1 - pad - height,
    }
    # matplotlib's order of preference for loc="best"
    order = [("upper", "right"), ("upper", "left"), ("lower", "left"), ("lower", "right"),
             ("center", "right"), ("center", "left"), ("lower", "center"), ("upper", "center"),
             ("center", "center")]  # fmt: skip

    def covered(v: str, h: str) -> int:
        x, y = xs[h], ys[v]
        return sum(1 for px, py in points if x <= px <= x + width and y <= py <= y + height)

    v, h = min(order, key=lambda vh: covered(*vh))
    x, y = xs[h], ys[v]
    out.append(f'<g id="{ids("legend")}">')
    out.append(
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}" '
        'rx="2" fill="#ffffff" fill-opacity="0.8" stroke="#cccccc" stroke-width="0.8"/>'
    )
    for i, (style, label) in enumerate(entries):
        cy = y + 0.3 * size + row * (i + 0.5)
        x0 = x + 0.8 * size
        out.append(
            f"<g>{style.format(x0=_num(x0), x1=_num(x0 + sample), y=_num(cy), xm=_num(x0 + sample / 2))}"
        )
        out.append(_text(x0 + sample + 0.8 * size, cy + 0.35 * size, label, size, "start") + "</g>")
    out.append("</g>")


def _draw_panel(out: list[str], ids: Ids, panel: Panel, region: Box) -> None:
    """One set of axes inside ``region`` (the panel's share of the figure)."""
    xs = [v for s in panel.series for v in s.x] + [r.value for r in panel.refs if r.vertical]
    ys = [v for s in panel.series for v in s.y] + [r.value for r in panel.refs if not r.vertical]
    for s in panel.series:
        if s.yerr is not None:
            ys += [y + e for y, e in zip(s.y, s.yerr, strict=True)]
            ys += [y - e for y, e in zip(s.y, s.yerr, strict=True)]
    xaxis, yaxis = axis_for(xs, panel.xlog), axis_for(ys, False)

    # layout: y tick labels and label on the left, x tick labels and label below, title above
    height0 = region.y1 - region.y0
    yticks, ystep = linear_ticks(yaxis.lo, yaxis.hi, max(2, int(height0 * 0.75 / (2 * SIZE))))
    ylabels = linear_labels(yticks, ystep)
    left = (
        6
        + (1.2 * SIZE if panel.ylabel else 0)
        + max(_width(t, SIZE) for t in ylabels)
        + 2 * TICK
        + 2
    )
    bottom = TICK + 3.5 + 1.2 * SIZE + (1.4 * SIZE if panel.xlabel else 0) + 6
    top = (1.6 * TITLE_SIZE if panel.title else 0) + 8
    box = Box(region.x0 + left, region.y0 + top, region.x1 - 10, region.y1 - bottom)
    if box.x1 - box.x0 < 20 or box.y1 - box.y0 < 20:
        raise ValueError("the figure is too small for its labels")
    xaxis.p0, xaxis.p1 = (box.x1, box.x0) if panel.xinvert else (box.x0, box.x1)
    yaxis.p0, yaxis.p1 = box.y1, box.y0
    xbins = max(2, int((box.x1 - box.x0) / (3 * SIZE)))
    if panel.xlog:
        xticks = log_ticks(xaxis.lo, xaxis.hi, xbins)
    else:
        ticks, step = linear_ticks(xaxis.lo, xaxis.hi, xbins)
        xticks = list(zip(ticks, linear_labels(ticks, step), strict=True))
        widest = max(_width(t, SIZE) for _, t in xticks)
        while len(xticks) > 2 and widest * len(xticks) > 0.8 * (box.x1 - box.x0):  # no overlap
            xbins = max(1, xbins - 1) if xbins > 2 else 1
            ticks, step = linear_ticks(xaxis.lo, xaxis.hi, xbins)
            xticks = list(zip(ticks, linear_labels(ticks, step), strict=True))
            if xbins == 1:
                break

    name = ids("axes")
    clip = f"clip_{name}"
    w, h = box.x1 - box.x0, box.y1 - box.y0
    rect = f'x="{_num(box.x0)}" y="{_num(box.y0)}" width="{_num(w)}" height="{_num(h)}"'
    out.append(f'<g id="{name}">')
    out.append(f'<rect id="{ids("patch")}" {rect} fill="#ffffff"/>')
    out.append(f'<defs><clipPath id="{clip}"><rect {rect}/></clipPath></defs>')
    # grid and ticks (a group per tick, as matplotlib writes them)
    for v, label in xticks:
        x = _num(xaxis.px(v))
        out.append(f'<g id="{ids("xtick")}">')
        out.append(f'<line x1="{x}" y1="{_num(box.y0)}" x2="{x}" y2="{_num(box.y1)}" {GRID}/>')
        out.append(
            f'<line x1="{x}" y1="{_num(box.y1)}" x2="{x}" y2="{_num(box.y1 + TICK)}" stroke="#000000" stroke-width="0.8"/>'
        )
        out.append(_text(xaxis.px(v), box.y1 + TICK + 3.5 + SIZE * 0.8, label, SIZE, markup=True))
        out.append("</g>")
    for v, label in zip(yticks, ylabels, strict=True):
        y = _num(yaxis.px(v))
        out.append(f'<g id="{ids("ytick")}">')
        out.append(f'<line x1="{_num(box.x0)}" y1="{y}" x2="{_num(box.x1)}" y2="{y}" {GRID}/>')
        out.append(
            f'<line x1="{_num(box.x0 - TICK)}" y1="{y}" x2="{_num(box.x0)}" y2="{y}" stroke="#000000" stroke-width="0.8"/>'
        )
        out.append(_text(box.x0 - TICK - 3.5, yaxis.px(v) + SIZE * 0.35, label, SIZE, "end"))
        out.append("</g>")

    # data, clipped to the axes
    points: list[tuple[float, float]] = []
    entries: list[tuple[str, str]] = []
    out.append(f'<g clip-path="url(#{clip})">')
    for s in panel.series:
        sample = _draw_series(out, ids, s, xaxis, yaxis, points)
        if s.label:
            entries.append((sample, s.label))
    for r in panel.refs:
        if r.vertical and panel.xlog and not r.value > 0.0:
            continue
        attrs = f'stroke="{r.color}" stroke-width="{r.width:g}"{_dash(r.style, r.width)}'
        if r.vertical:
            x = _num(xaxis.px(r.value))
            out.append(
                f'<line id="{ids("line2d")}" x1="{x}" y1="{_num(box.y0)}" x2="{x}" y2="{_num(box.y1)}" {attrs}/>'
            )
        else:
            y = _num(yaxis.px(r.value))
            out.append(
                f'<line id="{ids("line2d")}" x1="{_num(box.x0)}" y1="{y}" x2="{_num(box.x1)}" y2="{y}" {attrs}/>'
            )
        if r.label:
            entries.append(
                (f'<line x1="{{x0}}" y1="{{y}}" x2="{{x1}}" y2="{{y}}" {attrs}/>', r.label)
            )
    out.append("</g>")
    # frame, labels, title, legend
    out.append(
        f'<rect {rect} fill="none" stroke="#000000" stroke-width="0.8" stroke-linejoin="miter"/>'
    )
    if panel.xlabel:
        out.append(_text((box.x0 + box.x1) / 2, region.y1 - 8, panel.xlabel, SIZE))
    if panel.ylabel:
        cx, cy = region.x0 + 6 + SIZE * 0.8, (box.y0 + box.y1) / 2
        out.append(
            _text(
                cx, cy, panel.ylabel, SIZE, extra=f' transform="rotate(-90 {_num(cx)} {_num(cy)})"'
            )
        )
    if panel.title:
        out.append(_text((box.x0 + box.x1) / 2, box.y0 - 0.6 * TITLE_SIZE, panel.title, TITLE_SIZE))
    if panel.legend and entries:
        _legend(out, ids, box, entries, points)
    out.append("</g>")


def _draw_series(out: list[str], ids: Ids, s: Series, xaxis: Axis, yaxis: Axis,
                 points: list[tuple[float, float]]) -> str:  # fmt: skip
    """The line, error bars and markers of one series; returns its legend sample."""
    x = np.asarray(s.x, dtype=float)
    y = np.asarray(s.y, dtype=float)
    with np.errstate(all="ignore"):
        if xaxis.log:
            x = np.where(x > 0, x, np.nan)
            px = xaxis.p0 + (xaxis.p1 - xaxis.p0) * (
                (np.log10(x) - math.log10(xaxis.lo)) / (math.log10(xaxis.hi) - math.log10(xaxis.lo))
            )
        else:
            px = xaxis.p0 + (xaxis.p1 - xaxis.p0) * ((x - xaxis.lo) / (xaxis.hi - xaxis.lo))
        py = yaxis.p0 + (yaxis.p1 - yaxis.p0) * ((y - yaxis.lo) / (yaxis.hi - yaxis.lo))
    stroke = f'fill="none" stroke="{s.color}" stroke-width="{s.width:g}" stroke-linecap="square"'
    out.append(f'<g id="{ids("line2d")}">')
    for rx, ry in _runs(px, py):
        rx, ry = _decimate(rx, ry)
        points.extend(
            zip(
                rx.tolist()[:: max(1, len(rx) // 200)],
                ry.tolist()[:: max(1, len(rx) // 200)],
                strict=True,
            )
        )
        if len(rx) > 1:
            out.append(f'<path d="{_path(rx, ry)}" {stroke}/>')
    if s.yerr is not None:
        err = np.asarray(s.yerr, dtype=float)
        with np.errstate(all="ignore"):
            top = yaxis.p0 + (yaxis.p1 - yaxis.p0) * ((y + err - yaxis.lo) / (yaxis.hi - yaxis.lo))
            low = yaxis.p0 + (yaxis.p1 - yaxis.p0) * ((y - err - yaxis.lo) / (yaxis.hi - yaxis.lo))
        cap = 2.0
        for bx, bt, bl in zip(px.tolist(), top.tolist(), low.tolist(), strict=True):
            if all(map(math.isfinite, (bx, bt, bl))):
                out.append(
                    f'<path d="M {_num(bx)} {_num(bl)} L {_num(bx)} {_num(bt)} M {_num(bx - cap)} {_num(bt)} '
                    f'L {_num(bx + cap)} {_num(bt)} M {_num(bx - cap)} {_num(bl)} L {_num(bx + cap)} {_num(bl)}" '
                    f'fill="none" stroke="{s.color}" stroke-width="{s.width:g}"/>'
                )
    marker = ""
    if s.marker:
        r = _num(s.marker / 2)
        for mx, my in zip(px.tolist(), py.tolist(), strict=True):
            if math.isfinite(mx) and math.isfinite(my):
                out.append(
                    f'<circle cx="{_num(mx)}" cy="{_num(my)}" r="{r}" fill="{s.color}" stroke="{s.color}"/>'
                )
        marker = f'<circle cx="{{xm}}" cy="{{y}}" r="{r}" fill="{s.color}" stroke="{s.color}"/>'
    out.append("</g>")
    return f'<line x1="{{x0}}" y1="{{y}}" x2="{{x1}}" y2="{{y}}" stroke="{s.color}" stroke-width="{s.width:g}"/>{marker}'


def figure(width_in: float, height_in: float, panels: Sequence[Panel], title: str) -> bytes:
    """An SVG document of the panels side by side (sizes in inches, as matplotlib's)."""
    width, height = width_in * DPI, height_in * DPI
    out = [
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}pt" height="{_num(height)}pt" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" version="1.1" role="img" '
        f"aria-label={quoteattr(title)} font-family={quoteattr(FONT)}>",
        f"<title>{escape(title)}</title>",
        f'<rect id="patch_0" width="{_num(width)}" height="{_num(height)}" fill="#ffffff"/>',
    ]
    ids = Ids()
    share = width / len(panels)
    for i, panel in enumerate(panels):
        _draw_panel(out, ids, panel, Box(i * share, 0.0, (i + 1) * share, height))
    out.append("</svg>\n")
    return "\n".join(out).encode("utf-8")


# ---------------------------------------------------------------- the service's charts


def losses_svg(curves: Sequence[Curve]) -> bytes:
    """Two panels: ℓ(x) and dℓ/dx of each curve, with axes, ticks, grid and legend."""
    labels = sorted({c.x_label for c in curves})
    x_label = labels[0] if len(labels) == 1 else " / ".join(labels)
    value, grad = [], []
    for i, curve in enumerate(curves):
        params = ", ".join(f"{k}={v:g}" for k, v in curve.params.items())
        label = f"{curve.loss}({params})" if params else curve.loss
        color = COLORS[i % len(COLORS)]
        value.append(Series(curve.x.tolist(), curve.value.tolist(), label, color, 1.6))
        grad.append(Series(curve.x.tolist(), curve.gradient.tolist(), label, color, 1.6))
    zero = [RefLine(False, 0.0, "#808080", 0.6)]
    panels = [
        Panel(value, zero, title="loss", xlabel=x_label, ylabel="ℓ(x)"),
        Panel(grad, zero, title="derivative", xlabel=x_label, ylabel="dℓ/dx"),
    ]
    return figure(10, 4.2, panels, "Losses and their derivatives")


def path_svg(alphas: Sequence[float], coefs: Sequence[Sequence[Sequence[float]]],
             chosen: float, names: Sequence[str]) -> bytes:  # fmt: skip
    """Coefficients against α (log scale, decreasing to the right as the path runs), one line
    per (output, feature), the chosen α marked."""
    a = list(alphas)[: len(coefs)]
    outputs, features = len(coefs[0]), len(coefs[0][0])
    lines = [(k, j) for k in range(outputs) for j in range(features)]
    # the MAX_LINES coefficients that grow largest along the path; the rest are summarised
    lines.sort(key=lambda kj: -max(abs(c[kj[0]][kj[1]]) for c in coefs))
    series = []
    for i, (k, j) in enumerate(lines[:MAX_LINES]):
        label = names[j] if outputs == 1 else f"{names[j]} (output {k})"
        series.append(Series(a, [c[k][j] for c in coefs], label, COLORS[i % len(COLORS)], 1.4))
    title = "Regularisation path"
    if len(lines) > MAX_LINES:
        title = f"Regularisation path ({MAX_LINES} largest of {len(lines)} coefficients)"
    refs = [
        RefLine(True, chosen, "#333333", 1.0, "--", f"chosen α = {chosen:.3g}"),
        RefLine(False, 0.0, "#808080", 0.6),
    ]
    panel = Panel(series, refs, title=title, xlabel="α (penalty strength)", ylabel="coefficient",
                  xlog=True, xinvert=True, legend=min(len(lines), MAX_LINES) <= 12)  # fmt: skip
    return figure(8, 4.5, [panel], title)


def cv_svg(alphas: Sequence[float], mean: Sequence[float | None],
           std_error: Sequence[float | None], alpha_min: float, alpha_one_se: float,
           chosen: float, scoring: str) -> bytes:  # fmt: skip
    """Mean held-out score ± one standard error against α, α_min and α_1se marked."""
    keep = [i for i, m in enumerate(mean) if m is not None]
    a = [alphas[i] for i in keep]
    m = [float(mean[i] or 0.0) for i in keep]
    se = [float(std_error[i] or 0.0) for i in keep]
    scores = Series(a, m, f"mean {scoring} ± 1 SE", COLORS[0], 1.2, marker=3.0, yerr=se)
    refs = [
        RefLine(True, alpha_min, RED, 1.0, "--", f"α_min = {alpha_min:.3g}"),
        RefLine(True, alpha_one_se, GREEN, 1.2, ":", f"α_1se = {alpha_one_se:.3g}"),
    ]
    title = f"Cross-validation (chosen α = {chosen:.3g})"
    panel = Panel([scores], refs, title=title, xlabel="α (penalty strength)",
                  ylabel=f"held-out {scoring}", xlog=True, xinvert=True)  # fmt: skip
    return figure(8, 4.5, [panel], title)
