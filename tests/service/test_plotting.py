"""The SVG writer behind the plot routes (service.plotting): what is drawn is the data.

Each chart is parsed back: the tick labels and their positions give the axis transform, and
the drawn points, mapped back through it, must be points of the curves."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import losscore
from service.plotting import (
    MAX_LINES,
    Panel,
    Series,
    cv_svg,
    figure,
    linear_labels,
    linear_ticks,
    losses_svg,
    path_svg,
)

NS = "{http://www.w3.org/2000/svg}"


def _label(text: ET.Element) -> float:
    """A tick label as a number: '−1.5', '2e6', or 10 with an exponent in a tspan."""
    sup = text.find(f"{NS}tspan")
    if sup is not None:
        return 10.0 ** float((sup.text or "").replace("\u2212", "-"))
    return float("".join(text.itertext()).replace("\u2212", "-"))


def _transform(axes: ET.Element, kind: str, log: bool = False) -> tuple[float, float]:
    """(a, b) with value = a + b * pixel (log10 of the value on a log axis), from the ticks."""
    pixels, values = [], []
    for tick in axes.iter(f"{NS}g"):
        if not tick.get("id", "").startswith(kind + "_"):
            continue
        line = tick.find(f"{NS}line")
        text = tick.find(f"{NS}text")
        assert line is not None and text is not None
        pixels.append(float(line.get("x1" if kind == "xtick" else "y1", "nan")))
        value = _label(text)
        values.append(math.log10(value) if log else value)
    assert len(pixels) >= 2, kind
    b, a = np.polyfit(pixels, values, 1)
    return float(a), float(b)


def _lines(axes: ET.Element) -> list[list[np.ndarray]]:
    """The drawn series of an axes: per series, its paths as (n, 2) pixel arrays."""
    out = []
    for group in axes.iter(f"{NS}g"):
        if group.get("id", "").startswith("line2d_"):
            paths = []
            for path in group.findall(f"{NS}path"):
                nums = [float(v) for v in re.findall(r"-?[\d.]+", path.get("d", ""))]
                paths.append(np.array(nums).reshape(-1, 2))
            out.append(paths)
    return out


def _axes(svg: bytes) -> list[ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return [g for g in root.iter(f"{NS}g") if g.get("id", "").startswith("axes_")]


def _curves(
    names: str, num: int = 601, start: float = -3.0, stop: float = 3.0
) -> list[losscore.Curve]:
    return [
        losscore.loss_curve(losscore.get_loss(n), start=start, stop=stop, num=num)
        for n in names.split(",")
    ]


def test_losses_chart_draws_the_curves_on_its_axes() -> None:
    curves = _curves("l2,l1,huber")
    value_axes, grad_axes = _axes(losses_svg(curves))
    for axes, field in ((value_axes, "value"), (grad_axes, "gradient")):
        ax, bx = _transform(axes, "xtick")
        ay, by = _transform(axes, "ytick")
        lines = _lines(axes)
        assert len(lines) == 3
        for curve, paths in zip(curves, lines, strict=True):
            (pts,) = paths  # finite everywhere: one unbroken line
            x, y = ax + bx * pts[:, 0], ay + by * pts[:, 1]
            # the drawn points are points of the curve (coordinates rounded to 0.01 px): the
            # grid point nearest in x, or its neighbour, has the drawn y
            i = np.clip(np.searchsorted(curve.x, x), 1, len(curve.x) - 1)
            near = np.stack([getattr(curve, field)[i - 1], getattr(curve, field)[i]])
            assert np.max(np.min(np.abs(near - y), axis=0)) < 0.02 * abs(by)
            assert np.max(np.min(np.abs(curve.x[np.stack([i - 1, i])] - x), axis=0)) < 0.02 * bx
            assert x.min() == pytest.approx(-3.0, abs=0.01) and x.max() == pytest.approx(
                3, abs=0.01
            )
    # ℓ = x² reaches 9 at the ends and 0 in the middle: the extremes are drawn
    (l2,) = _lines(value_axes)[0]
    ay, by = _transform(value_axes, "ytick")
    assert (ay + by * l2[:, 1]).max() == pytest.approx(9.0, abs=0.02)
    assert (ay + by * l2[:, 1]).min() == pytest.approx(0.0, abs=0.02)


def test_many_points_are_reduced_to_pixel_columns_keeping_the_extremes() -> None:
    curves = _curves("l1,smooth_l1", num=100_000)
    svg = losses_svg(curves)
    assert len(svg) < 200_000  # 4 points per pixel column at most, not 100,000 per line
    (axes, _) = _axes(svg)
    ay, by = _transform(axes, "ytick")
    (pts,) = _lines(axes)[0]
    y = ay + by * pts[:, 1]
    assert y.min() == pytest.approx(0.0, abs=0.02) and y.max() == pytest.approx(3.0, abs=0.02)
    assert np.all(np.diff(pts[:, 0]) >= 0)


def test_non_finite_values_leave_gaps() -> None:
    x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    y = [0.0, 1.0, math.inf, 3.0, math.nan, 5.0]
    (axes,) = _axes(figure(4, 3, [Panel([Series(x, y, "s", "#000000")])], "gaps"))
    (paths,) = _lines(axes)
    assert [len(p) for p in paths] == [2]  # [0, 1]; 3 and 5 are single points (no segment)
    ay, by = _transform(axes, "ytick")
    assert (ay + by * paths[0][:, 1]).tolist() == pytest.approx([0.0, 1.0], abs=1e-3)


def test_path_chart_log_axis_runs_decreasing_to_the_right() -> None:
    alphas = np.logspace(1, -4, 12).tolist()
    coefs = [[[2.0 - math.log10(a), -0.5 * (1 - math.log10(a)), 0.0]] for a in alphas]
    svg = path_svg(alphas, coefs, 0.01, ["x0", "x1", "x2"])
    text = svg.decode()
    assert "Regularisation path" in text and "chosen α = 0.01" in text
    assert all(f">{n}<" in text for n in ("x0", "x1", "x2"))  # the legend
    (axes,) = _axes(svg)
    ax, bx = _transform(axes, "xtick", log=True)
    assert bx < 0  # α decreases to the right
    ay, by = _transform(axes, "ytick")
    (x0,) = _lines(axes)[0]
    a = 10.0 ** (ax + bx * x0[:, 0])
    np.testing.assert_allclose(a, alphas, rtol=2e-3)
    np.testing.assert_allclose(ay + by * x0[:, 1], [c[0][0] for c in coefs], atol=5e-3)


def test_path_chart_draws_the_largest_coefficients_only() -> None:
    alphas = [1.0, 0.1, 0.01]
    n = MAX_LINES + 5
    coefs = [[[j * (1 + i) for j in range(n)]] for i in range(3)]
    svg = path_svg(alphas, coefs, 0.1, [f"x{j}" for j in range(n)])
    assert f"({MAX_LINES} largest of {n} coefficients)" in svg.decode()
    (axes,) = _axes(svg)
    assert len(_lines(axes)) == MAX_LINES
    assert not [g for g in axes.iter(f"{NS}g") if g.get("id", "").startswith("legend_")]


def test_cv_chart_marks_alpha_min_and_one_se() -> None:
    alphas = [1.0, 0.1, 0.01, 0.001]
    svg = cv_svg(alphas, [0.6, None, 0.9, 0.85], [0.05, None, 0.01, 0.02], 0.01, 0.1, 0.1, "r2")
    text = svg.decode()
    for label in ("mean r2 ± 1 SE", "α_min = 0.01", "α_1se = 0.1", "held-out r2",
                  "Cross-validation (chosen α = 0.1)"):  # fmt: skip
        assert label in text
    (axes,) = _axes(svg)
    assert len(axes.findall(f".//{NS}circle")) == 3 + 1  # 3 scored α and the legend's marker


@pytest.mark.parametrize(
    ("lo", "hi", "bins", "labels"),
    [
        (-0.05, 1.05, 5, ["0.00", "0.25", "0.50", "0.75", "1.00"]),
        (-3.3, 3.3, 10, ["−3", "−2", "−1", "0", "1", "2", "3"]),
        (0.0, 4.2e6, 5, ["0", "1e6", "2e6", "3e6", "4e6"]),
    ],
)
def test_tick_labels(lo: float, hi: float, bins: int, labels: list[str]) -> None:
    ticks, step = linear_ticks(lo, hi, bins)
    assert linear_labels(ticks, step) == labels


def test_ranges_beyond_the_float_range_cannot_be_drawn() -> None:
    with pytest.raises(ValueError, match="float range"):
        losses_svg(_curves("l1", num=5, start=1e308, stop=1.7e308))
    with pytest.raises(ValueError, match="float range"):
        linear_ticks(1.0e308, 1.79e308, 5)
    # a range a few subnormal steps wide is widened, as an empty one
    assert _axes(losses_svg(_curves("l1", num=3, start=-5e-324, stop=5e-324)))
