"""``losscore plot``: the SVG's polylines, mapped back through each panel's axes, lie on the
closed forms of the losses; one chart per x axis (the losses' target kind)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.cli import _oracle
from tests.cli._cli import run

SVG = "{http://www.w3.org/2000/svg}"
Points = dict[tuple[str, str, str], np.ndarray]  # (kind, quantity, series) -> (n, 2) data


def _curves(path: Path) -> Points:
    """Every curve in data coordinates, from the panels' ranges and plot areas."""
    root = ET.parse(path).getroot()
    out: Points = {}
    for panel in root.iter(f"{SVG}g"):
        if panel.get("class") != "panel":
            continue
        x0, x1 = float(panel.get("data-x-min", "")), float(panel.get("data-x-max", ""))
        y0, y1 = float(panel.get("data-y-min", "")), float(panel.get("data-y-max", ""))
        area = next(r for r in panel.iter(f"{SVG}rect") if r.get("class") == "plot-area")
        ax, ay = float(area.get("x", "")), float(area.get("y", ""))
        aw, ah = float(area.get("width", "")), float(area.get("height", ""))
        for line in panel.iter(f"{SVG}polyline"):
            pixels = np.array(
                [[float(v) for v in p.split(",")] for p in (line.get("points") or "").split()]
            )
            data = np.column_stack(
                [
                    x0 + (pixels[:, 0] - ax) / aw * (x1 - x0),
                    y1 - (pixels[:, 1] - ay) / ah * (y1 - y0),
                ]
            )
            key = (
                panel.get("data-kind", ""),
                panel.get("data-quantity", ""),
                line.get("data-series", ""),
            )
            out[key] = np.vstack([out[key], data]) if key in out else data
    return out


def _check(curve: np.ndarray, grid: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> None:
    """The curve's points are the grid's, and on f (to the drawing's 0.001 px)."""
    span_x = grid[-1] - grid[0]
    np.testing.assert_allclose(curve[:, 0], grid, atol=2e-5 * span_x)
    expected = f(grid)
    span_y = max(float(np.ptp(expected)), 1.0)
    np.testing.assert_allclose(curve[:, 1], expected, atol=2e-5 * span_y)


def test_curves_lie_on_the_closed_forms(tmp_path: Path) -> None:
    out = tmp_path / "losses.svg"
    got = run(
        "plot",
        "-l",
        "l1,l2,smooth_l1,hinge",
        "--param",
        "smooth_l1.beta=0.5",
        "-o",
        str(out),
        "--json",
    ).json()
    assert got["output"] == str(out)
    assert [c["losses"] for c in got["charts"]] == [
        ["l1", "l2", "smooth_l1(beta=0.5)"],
        ["hinge(threshold=1)"],
    ]
    curves = _curves(out)
    grid = np.linspace(-3.0, 3.0, 201)  # the default range and points
    forms = {"l1": _oracle.l1(), "l2": _oracle.l2(), "smooth_l1(beta=0.5)": _oracle.smooth_l1(0.5)}
    for label, (value, grad, _) in forms.items():
        _check(curves[("real", "value", label)], grid, value)
        _check(curves[("real", "gradient", label)], grid, grad)
    _check(curves[("binary_label", "value", "hinge(threshold=1)")], grid, _oracle.hinge_margin)
    _check(
        curves[("binary_label", "gradient", "hinge(threshold=1)")], grid, _oracle.hinge_margin_grad
    )
    assert len(curves) == 8  # nothing else drawn


def test_range_points_and_hessian(tmp_path: Path) -> None:
    out = tmp_path / "huber.svg"
    r = run(
        "plot",
        "-l",
        "huber",
        "--param",
        "delta=0.5",
        "--range",
        "-1,2",
        "--points",
        "31",
        "--hessian",
        "-o",
        str(out),
    )
    assert r.code == 0 and f"wrote {out}" in r.out
    curves = _curves(out)
    value, grad, hess = _oracle.huber(0.5)
    grid = np.linspace(-1.0, 2.0, 31)
    _check(curves[("real", "value", "huber(delta=0.5)")], grid, value)
    _check(curves[("real", "gradient", "huber(delta=0.5)")], grid, grad)
    _check(curves[("real", "hessian", "huber(delta=0.5)")], grid, hess)
    title = ET.parse(out).getroot().find(f"{SVG}title")
    assert title is not None and title.text == "losses: huber(delta=0.5)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--range", "-1,2"], "error: --range:"),
        (["--points", "1"], "error: --points:"),
    ],
)
def test_plot_errors(tmp_path: Path, args: list[str], message: str) -> None:
    import losscore

    probability = next(s.name for s in losscore.list_losses() if s.target == "probability")
    r = run("plot", "-l", probability, *args, "-o", str(tmp_path / "p.svg"))
    assert r.code == 1 and r.err.startswith(message), r.err
    assert not (tmp_path / "p.svg").exists()
