"""``loss_curve``: the grid, values and derivatives for every loss, and its errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import losscore
from losscore import InvalidParameterError, UnknownNameError
from losscore.curves import MAX_CURVE_POINTS

from .test_conventions import ROW, SCALAR
from .test_derivatives import KINK_GAP, kinks

NAMES = list(losscore.loss_names())
STEP = 1e-6


def _range(name: str) -> tuple[float, float]:
    return (0.01, 0.99) if name == "binary_cross_entropy" else (-3.0, 3.0)


def _curve_kinks(name: str, params: dict[str, float]) -> tuple[float, ...]:
    if name == "multiclass_hinge":
        # x = f_y - f_other with k = 2: ℓ = max(0, margin - x)
        return (params.get("margin", 1.0),)
    return kinks(name, params)


PARAMS: dict[str, dict[str, float]] = {
    "smooth_l1": {"beta": 0.5},
    "huber": {"delta": 2.0},
    "quantile": {"q": 0.3},
    "epsilon_insensitive": {"epsilon": 0.25},
    "hinge": {"threshold": 0.5},
    "softmax_cross_entropy": {"label_smoothing": 0.1},
    "multiclass_hinge": {"margin": 2.0},
}


def _cases() -> list[Any]:
    out = []
    for name in NAMES:
        out.append(pytest.param(name, {}, id=f"{name}-default"))
        if name in PARAMS:
            out.append(pytest.param(name, PARAMS[name], id=f"{name}-{PARAMS[name]}"))
    return out


@pytest.mark.parametrize(("name", "params"), _cases())
def test_curve_grid_values_and_derivative(name: str, params: dict[str, float]) -> None:
    start, stop = _range(name)
    num = 241
    curve = losscore.loss_curve(name, start=start, stop=stop, num=num, **params)
    spec = losscore.get_loss(name).spec
    assert curve.loss == name
    assert curve.params == {p.name: params.get(p.name, p.default) for p in spec.params}
    # the grid
    assert curve.x.shape == curve.value.shape == curve.gradient.shape == (num,)
    assert curve.x[0] == start and curve.x[-1] == stop
    np.testing.assert_allclose(np.diff(curve.x), (stop - start) / (num - 1), rtol=1e-12)
    # the x axis: residual, margin or probability, in the documented setting
    if spec.kind == "regression":
        assert "residual" in curve.x_label
        res = losscore.evaluate(name, curve.x, np.zeros(num), reduction="none", **params)
    elif name == "binary_cross_entropy":
        assert "probability" in curve.x_label
        res = losscore.evaluate(name, curve.x, np.ones(num), reduction="none", **params)
    elif spec.kind == "binary":
        assert "margin" in curve.x_label
        res = losscore.evaluate(name, curve.x, np.ones(num), reduction="none", **params)
    else:
        assert "margin" in curve.x_label
        scores = np.stack([curve.x, np.zeros(num)], axis=1)
        res = losscore.evaluate(name, scores, np.zeros(num, dtype=int), reduction="none", **params)
    np.testing.assert_array_equal(curve.value, res.elementwise)
    np.testing.assert_array_equal(
        curve.gradient, res.gradient[:, 0] if res.gradient.ndim == 2 else res.gradient
    )

    # against the closed forms of test_conventions
    if name in SCALAR:
        label = 1.0
        want = np.array(
            [
                SCALAR[name](float(x), 0.0 if spec.kind == "regression" else label, params)[:2]
                for x in curve.x
            ]
        )
    else:
        want = np.array(
            [(lambda o: (o[0], o[1][0]))(ROW[name]([float(x), 0.0], 0, params)) for x in curve.x]
        )
    np.testing.assert_allclose(curve.value, want[:, 0], rtol=1e-13, atol=1e-300)
    # gradients like p - q cancel: an absolute tolerance of a few ulps of 1
    np.testing.assert_allclose(curve.gradient, want[:, 1], rtol=1e-13, atol=1e-15)

    # the derivative is the slope of the value along x, away from kinks
    up = losscore.loss_curve(name, start=start + STEP, stop=stop + STEP, num=num, **params)
    down = losscore.loss_curve(name, start=start - STEP, stop=stop - STEP, num=num, **params)
    fd = (up.value - down.value) / (up.x - down.x)
    ks = _curve_kinks(name, curve.params)
    away = np.array([all(abs(x - k) > KINK_GAP for k in ks) for x in curve.x])
    assert away.sum() > num // 2
    scale = 1.0 + np.max(np.abs(curve.value))
    np.testing.assert_allclose(curve.gradient[away], fd[away], rtol=1e-6, atol=1e-8 * scale)


@pytest.mark.parametrize(("name", "params"), _cases())
def test_curve_second_derivative_is_the_slope_of_the_gradient(
    name: str, params: dict[str, float]
) -> None:
    """d²ℓ/dx² against central differences of dℓ/dx, away from every kink (where the
    gradient jumps or only the second derivative does)."""
    start, stop = _range(name)
    num = 241
    curve = losscore.loss_curve(name, start=start, stop=stop, num=num, **params)
    assert curve.hessian.shape == (num,)
    up = losscore.loss_curve(name, start=start + STEP, stop=stop + STEP, num=num, **params)
    down = losscore.loss_curve(name, start=start - STEP, stop=stop - STEP, num=num, **params)
    fd = (up.gradient - down.gradient) / (up.x - down.x)
    ks = _curve_kinks(name, curve.params)
    away = np.array([all(abs(x - k) > KINK_GAP for k in ks) for x in curve.x])
    assert away.sum() > num // 2
    scale = 1.0 + np.max(np.abs(curve.gradient))
    np.testing.assert_allclose(curve.hessian[away], fd[away], rtol=1e-5, atol=1e-7 * scale)


def test_curves_of_l1_l2_and_smooth_l1_cross_where_expected() -> None:
    """The classic figure: l1 and smooth_l1 differ by beta/2 outside the quadratic zone."""
    l1 = losscore.loss_curve("l1", num=13)
    l2 = losscore.loss_curve("l2", num=13)
    sl1 = losscore.loss_curve("smooth_l1", num=13, beta=1.0)
    x = l1.x
    np.testing.assert_allclose(l1.value, np.abs(x), rtol=1e-15)
    np.testing.assert_allclose(l2.value, x * x, rtol=1e-15)
    outside = np.abs(x) >= 1.0
    np.testing.assert_allclose(sl1.value[outside], np.abs(x[outside]) - 0.5, rtol=1e-15)
    np.testing.assert_allclose(sl1.value[~outside], 0.5 * x[~outside] ** 2, rtol=1e-15)


def test_curve_defaults() -> None:
    curve = losscore.loss_curve("huber")
    assert curve.x.shape == (201,)
    assert (curve.x[0], curve.x[-1]) == (-3.0, 3.0)
    assert curve.params == {"delta": 1.0}


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "stop"), [(1.0, 1.0), (2.0, -2.0), (0.0, -1e-300)])
def test_start_must_be_below_stop(start: float, stop: float) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("l2", start=start, stop=stop)
    assert info.value.field == "stop"


@pytest.mark.parametrize(
    ("start", "stop", "field"),
    [(np.nan, 1.0, "start"), (0.0, np.inf, "stop"), (-np.inf, 0.0, "start")],
)
def test_non_finite_range(start: float, stop: float, field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("l2", start=start, stop=stop)
    assert info.value.field == field


@pytest.mark.parametrize("num", [1, 0, -5, MAX_CURVE_POINTS + 1, 2.5, True, "10", None])
def test_num_out_of_range(num: Any) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("l2", num=num)
    assert info.value.field == "num"
    assert str(MAX_CURVE_POINTS) in info.value.reason


def test_num_limits_are_inclusive() -> None:
    assert losscore.loss_curve("l2", num=2).x.tolist() == [-3.0, 3.0]
    assert losscore.loss_curve("l2", num=MAX_CURVE_POINTS).x.shape == (MAX_CURVE_POINTS,)


@pytest.mark.parametrize(("start", "stop"), [(-0.5, 0.5), (0.5, 1.5), (-3.0, 3.0)])
def test_binary_cross_entropy_range_is_probabilities(start: float, stop: float) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("binary_cross_entropy", start=start, stop=stop)
    assert info.value.field in ("start", "stop")
    assert "[0, 1]" in info.value.reason
    # the closed interval itself is fine, clamps included
    curve = losscore.loss_curve("bce", start=0.0, stop=1.0, num=5)
    assert curve.value[0] == 100.0 and curve.value[-1] == 0.0
    assert np.isfinite(curve.gradient).all()


def test_curve_parameter_and_name_errors() -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("huber", delta=0.0)
    assert info.value.field == "loss.delta"
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("l1", beta=1.0)
    assert info.value.field == "loss.beta"
    with pytest.raises(UnknownNameError):
        losscore.loss_curve("nope")


def test_range_wider_than_the_float_range() -> None:
    """stop − start beyond float64 max: np.linspace would give NaN; the grid stays exact."""
    c = losscore.loss_curve("l1", start=-1.5e308, stop=1.5e308, num=5)
    want = [-1.5e308, -7.5e307, 0.0, 7.5e307, 1.5e308]
    assert c.x.tolist() == want
    assert c.value.tolist() == [abs(v) for v in want]  # |r|, exact
    assert c.gradient.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("bound", ["1", None, True, [1.0]])
def test_non_number_bounds(bound: Any) -> None:
    with pytest.raises(InvalidParameterError) as info:
        losscore.loss_curve("l2", start=bound)
    assert info.value.field == "start"


def test_numpy_integer_num() -> None:
    assert losscore.loss_curve("l2", num=np.int64(3)).x.tolist() == [-3.0, 0.0, 3.0]


@pytest.mark.parametrize(("name", "params"), _cases())
def test_catalog_kinks_agree_with_the_independent_table(
    name: str, params: dict[str, float]
) -> None:
    """The kink points each loss declares (reported with every curve) are the points this
    test module's own table lists, up to the table's conservative extra 0 (where smooth_l1,
    epsilon_insensitive and squared_epsilon_insensitive kink only when their parameter is 0)."""
    full = {p.name: params.get(p.name, p.default) for p in losscore.get_loss(name).spec.params}
    declared = {x for x, _ in losscore.get_loss(name).kinks(full)}
    table = set(_curve_kinks(name, full))
    conservative = (
        {0.0}
        if name in ("smooth_l1", "epsilon_insensitive", "squared_epsilon_insensitive")
        else set()
    )
    assert declared <= table
    assert table - conservative <= declared
    curve = (
        losscore.loss_curve(name, start=-3.0, stop=3.0, num=5, **params)
        if name != ("binary_cross_entropy")
        else None
    )
    if curve is not None:
        assert [x for x, _ in curve.kinks] == sorted(x for x in declared if -3.0 <= x <= 3.0)
