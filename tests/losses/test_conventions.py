"""Closed forms and documented conventions, written independently of the library.

Every loss has a scalar reference below (value, derivative and second derivative in
Python's ``math``), including the documented choice at each kink: the minimum-norm
subgradient (0 at r = 0 for l1/quantile, at z = t for hinge, at z = 0 for perceptron,
at |r| = ε for ε-insensitive), the linear-branch Hessian (0) at |r| = β for smooth_l1,
the quadratic-branch Hessian (1) at |r| = δ for huber.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

import losscore

Params = Mapping[str, float]
# (value, d/df, d²/df²) of one element; f and y are Python floats
Scalar = Callable[[float, float, Params], tuple[float, float, float]]
# (value, gradient row, Hessian-diagonal row) of one multiclass row
Row = Callable[[list[float], Any, Params], tuple[float, list[float], list[float]]]


def _sign(x: float) -> float:
    return 0.0 if x == 0 else math.copysign(1.0, x)


# -- regression, r = f - y ------------------------------------------------------------------


def _reg(fn: Callable[[float, Params], tuple[float, float, float]]) -> Scalar:
    return lambda f, y, p: fn(f - y, p)


def _l1(r: float, p: Params) -> tuple[float, float, float]:
    return abs(r), _sign(r), 0.0


def _l2(r: float, p: Params) -> tuple[float, float, float]:
    return r * r, 2.0 * r, 2.0


def _smooth_l1(r: float, p: Params) -> tuple[float, float, float]:
    b = p.get("beta", 1.0)
    if abs(r) < b:
        return 0.5 * r * r / b, r / b, 1.0 / b
    return abs(r) - 0.5 * b, _sign(r), 0.0


def _huber(r: float, p: Params) -> tuple[float, float, float]:
    d = p.get("delta", 1.0)
    if abs(r) <= d:
        return 0.5 * r * r, r, 1.0
    return d * (abs(r) - 0.5 * d), d * _sign(r), 0.0


def _pseudo_huber(r: float, p: Params) -> tuple[float, float, float]:
    # δ²(√(1 + (r/δ)²) − 1) in 50 digits: the float formula cancels for |r| << δ
    d = p.get("delta", 1.0)
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        x, dd = decimal.Decimal(r), decimal.Decimal(d)
        root = (1 + (x / dd) ** 2).sqrt()
        return float(dd * dd * (root - 1)), float(x / root), float(1 / root**3)


def _log_cosh(r: float, p: Params) -> tuple[float, float, float]:
    # 50 significant digits: math.log(math.cosh(r)) loses ~eps/r² relative near 0
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        x = decimal.Decimal(r)
        value = float(((x.exp() + (-x).exp()) / 2).ln())
    return value, math.tanh(r), 1.0 / math.cosh(r) ** 2


def _quantile(r: float, p: Params) -> tuple[float, float, float]:
    q = p.get("q", 0.5)
    # pinball on y - f: max(q (y - f), (q - 1)(y - f))
    value = max(q * -r, (q - 1.0) * -r) + 0.0
    grad = (1.0 - q) if r > 0 else (-q if r < 0 else 0.0)
    return value, grad, 0.0


def _eps_insensitive(r: float, p: Params) -> tuple[float, float, float]:
    e = p.get("epsilon", 0.1)
    excess = max(0.0, abs(r) - e)
    return excess, _sign(r) if excess > 0 else 0.0, 0.0


def _sq_eps_insensitive(r: float, p: Params) -> tuple[float, float, float]:
    e = p.get("epsilon", 0.1)
    excess = max(0.0, abs(r) - e)
    return excess**2, 2.0 * _sign(r) * excess, 2.0 if excess > 0 else 0.0


# -- binary margin losses, z = y f, labels ±1 (0 -> -1) -------------------------------------


def _margin(fn: Callable[[float, Params], tuple[float, float, float]]) -> Scalar:
    def scalar(f: float, label: float, p: Params) -> tuple[float, float, float]:
        y = 1.0 if label > 0 else -1.0
        value, dz, d2z = fn(y * f, p)
        return value, y * dz + 0.0, d2z

    return scalar


def _hinge(z: float, p: Params) -> tuple[float, float, float]:
    t = p.get("threshold", 1.0)
    return max(0.0, t - z), -1.0 if z < t else 0.0, 0.0


def _squared_hinge(z: float, p: Params) -> tuple[float, float, float]:
    t = p.get("threshold", 1.0)
    gap = max(0.0, t - z)
    return gap * gap, -2.0 * gap, 2.0 if z < t else 0.0


def _modified_huber(z: float, p: Params) -> tuple[float, float, float]:
    if z >= 1:
        return 0.0, 0.0, 0.0
    if z >= -1:
        return (1 - z) ** 2, -2.0 * (1 - z), 2.0
    return -4.0 * z, -4.0, 0.0


def _perceptron(z: float, p: Params) -> tuple[float, float, float]:
    return max(0.0, -z), -1.0 if z < 0 else 0.0, 0.0


def _exponential(z: float, p: Params) -> tuple[float, float, float]:
    e = math.exp(-z)
    return e, -e, e


def _log_loss(z: float, p: Params) -> tuple[float, float, float]:
    # log(1 + e^-z), its derivative -1/(1 + e^z) and e^z / (1 + e^z)^2, at moderate z
    return (
        math.log1p(math.exp(-z)),
        -1.0 / (1.0 + math.exp(z)),
        math.exp(z) / (1 + math.exp(z)) ** 2,
    )


def _bce(prob: float, t: float, p: Params) -> tuple[float, float, float]:
    log_p = max(math.log(prob), -100.0) if prob > 0 else -100.0
    log_q = max(math.log1p(-prob), -100.0) if prob < 1 else -100.0
    value = -(t * log_p + (1 - t) * log_q)
    live_p, live_q = log_p > -100, log_q > -100
    grad = (-t / prob if live_p else 0.0) + ((1 - t) / (1 - prob) if live_q else 0.0)
    hess = (t / prob**2 if live_p else 0.0) + ((1 - t) / (1 - prob) ** 2 if live_q else 0.0)
    return value, grad, hess


# -- multiclass rows ------------------------------------------------------------------------


def _softmax_ce(f: list[float], target: Any, p: Params) -> tuple[float, list[float], list[float]]:
    k = len(f)
    s = p.get("label_smoothing", 0.0)
    t = [1.0 if j == target else 0.0 for j in range(k)] if np.ndim(target) == 0 else list(target)
    q = [(1 - s) * tj + s / k for tj in t]
    m = max(f)
    lse = m + math.log(math.fsum(math.exp(fj - m) for fj in f))
    prob = [math.exp(fj - lse) for fj in f]
    value = lse - math.fsum(qj * fj for qj, fj in zip(q, f, strict=True))
    return value, [pj - qj for pj, qj in zip(prob, q, strict=True)], [pj * (1 - pj) for pj in prob]


def _multiclass_hinge(
    f: list[float], target: Any, p: Params
) -> tuple[float, list[float], list[float]]:
    y = int(target)
    margin = p.get("margin", 1.0)
    others = [(fj, j) for j, fj in enumerate(f) if j != y]
    best_score = max(fj for fj, _ in others)
    best = min(j for fj, j in others if fj == best_score)  # lowest index among ties
    value = max(0.0, margin + best_score - f[y])
    grad = [0.0] * len(f)
    if value > 0:
        grad[best], grad[y] = 1.0, -1.0
    return value, grad, [0.0] * len(f)


SCALAR: dict[str, Scalar] = {
    "l1": _reg(_l1),
    "l2": _reg(_l2),
    "smooth_l1": _reg(_smooth_l1),
    "huber": _reg(_huber),
    "pseudo_huber": _reg(_pseudo_huber),
    "log_cosh": _reg(_log_cosh),
    "quantile": _reg(_quantile),
    "epsilon_insensitive": _reg(_eps_insensitive),
    "squared_epsilon_insensitive": _reg(_sq_eps_insensitive),
    "hinge": _margin(_hinge),
    "squared_hinge": _margin(_squared_hinge),
    "modified_huber": _margin(_modified_huber),
    "perceptron": _margin(_perceptron),
    "exponential": _margin(_exponential),
    "log_loss": _margin(_log_loss),
    "binary_cross_entropy": _bce,
}
ROW: dict[str, Row] = {
    "softmax_cross_entropy": _softmax_ce,
    "multiclass_hinge": _multiclass_hinge,
}

# Parameter sets; each includes points exactly on that setting's kinks.
PARAM_SETS: dict[str, list[dict[str, float]]] = {
    "smooth_l1": [{}, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}],
    "huber": [{}, {"delta": 0.5}, {"delta": 2.5}],
    "pseudo_huber": [{}, {"delta": 0.5}, {"delta": 2.5}],
    "quantile": [{}, {"q": 0.25}, {"q": 0.9}],
    "epsilon_insensitive": [{}, {"epsilon": 0.5}, {"epsilon": 0.0}],
    "squared_epsilon_insensitive": [{}, {"epsilon": 0.5}, {"epsilon": 0.0}],
    "hinge": [{}, {"threshold": 0.0}, {"threshold": 2.0}],
    "squared_hinge": [{}, {"threshold": 0.5}],
    "softmax_cross_entropy": [{}, {"label_smoothing": 0.1}, {"label_smoothing": 1.0}],
    "multiclass_hinge": [{}, {"margin": 0.0}, {"margin": 2.0}],
}

DYADIC = [-3.5, -2.0, -1.0, -0.75, -0.25, 0.0, 0.125, 0.5, 1.0, 1.5, 2.0, 7.25]


def _special_points(params: Params) -> list[float]:
    """Each parameter value and its negative: the kinks, hit exactly."""
    pts: list[float] = []
    for v in params.values():
        pts += [v, -v]
    return pts


def inputs(name: str, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Hand-picked (prediction, target) for *name*, kinks included exactly."""
    spec = losscore.get_loss(name).spec
    if spec.kind == "multiclass":
        scores = [
            [0.0, 0.0, 0.0],
            [2.0, 1.0, 0.0],
            [1.0, 1.0, -1.0],  # tie among the wrong classes (target 2)
            [-3.0, 0.5, 4.0],
            [1.0, 0.0, 0.0],  # margin exactly 1 for target 0
            [5.0, -5.0, 2.5],
        ]
        return np.array(scores), np.array([0, 1, 2, 1, 0, 2])
    if name == "binary_cross_entropy":
        prob = np.array([0.0, 1e-50, 0.125, 0.5, 0.75, 0.999, 1.0, 0.25, 0.5])
        return prob, np.array([1.0, 1.0, 0.0, 0.5, 1.0, 0.25, 0.0, 1.0, 0.0])
    if spec.kind == "binary":
        z = np.array([*DYADIC, -1.0, 1.0, *_special_points(params)])
        y = np.resize([1.0, -1.0], z.size)
        return z * y, y
    r = np.array(DYADIC + _special_points(params))
    y = np.resize([0.0, 0.5, -1.25], r.size)
    y[len(DYADIC) :] = 0.0  # kink points exactly: f - 0 == f
    return y + r, y


def reference(
    name: str, f: np.ndarray, y: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unweighted per-element (value, gradient, Hessian) from the closed forms."""
    if name in ROW:
        k = f.shape[-1]
        frows = f.reshape(-1, k)
        yrows = y.reshape(-1, k) if y.shape == f.shape else y.reshape(-1)
        out = [
            ROW[name](list(map(float, fr)), yr, params) for fr, yr in zip(frows, yrows, strict=True)
        ]
        value = np.array([o[0] for o in out]).reshape(f.shape[:-1])
        grad = np.array([o[1] for o in out]).reshape(f.shape)
        hess = np.array([o[2] for o in out]).reshape(f.shape)
        return value, grad, hess
    fn = SCALAR[name]
    triples = [fn(float(a), float(b), params) for a, b in zip(f.ravel(), y.ravel(), strict=True)]
    arr = np.array(triples).reshape(*f.shape, 3)
    return arr[..., 0], arr[..., 1], arr[..., 2]


def _cases() -> list[Any]:
    return [
        pytest.param(name, params, id=f"{name}-{params}")
        for name in losscore.loss_names()
        for params in PARAM_SETS.get(name, [{}])
    ]


# -- closed forms ---------------------------------------------------------------------------


def test_every_loss_has_a_closed_form_here() -> None:
    assert set(losscore.loss_names()) == set(SCALAR) | set(ROW)


@pytest.mark.parametrize(("name", "params"), _cases())
def test_value_gradient_hessian_match_closed_forms(name: str, params: dict[str, float]) -> None:
    f, y = inputs(name, params)
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True, **params)
    value, grad, hess = reference(name, f, y, params)
    assert res.value is None
    assert res.hessian is not None
    np.testing.assert_allclose(res.elementwise, value, rtol=1e-14, atol=0)
    np.testing.assert_allclose(res.gradient, grad, rtol=1e-14, atol=0)
    np.testing.assert_allclose(res.hessian, hess, rtol=1e-14, atol=0)


@pytest.mark.parametrize(("name", "params"), _cases())
def test_weighted_reductions(name: str, params: dict[str, float]) -> None:
    """mean = Σwℓ/Σw, sum = Σwℓ, elementwise = w·ℓ, gradient = w·ℓ' (/Σw for mean)."""
    f, y = inputs(name, params)
    value, grad, hess = reference(name, f, y, params)
    w = np.resize([0.5, 2.0, 0.0, 1.25, 3.0], value.shape)
    wg = w[..., None] if grad.ndim > w.ndim else w
    wsum = math.fsum(w.ravel())
    for reduction, scale in (("none", 1.0), ("sum", 1.0), ("mean", 1.0 / wsum)):
        res = losscore.evaluate(
            name,
            f,
            y,
            weight=w,
            reduction=reduction,  # type: ignore[arg-type]
            hessian=True,
            **params,
        )
        assert res.weight_sum == wsum
        np.testing.assert_allclose(res.elementwise, w * value, rtol=1e-14, atol=0)
        np.testing.assert_allclose(res.gradient, wg * grad * scale, rtol=1e-14, atol=0)
        assert res.hessian is not None
        np.testing.assert_allclose(res.hessian, wg * hess * scale, rtol=1e-14, atol=0)
        total = math.fsum((w * value).ravel())
        if reduction == "none":
            assert res.value is None
        else:
            assert res.value == pytest.approx(total * scale, rel=1e-14, abs=0)
    # unweighted mean divides by N
    res = losscore.evaluate(name, f, y, **params)
    assert res.value == pytest.approx(math.fsum(value.ravel()) / value.size, rel=1e-14)
    np.testing.assert_allclose(res.gradient, grad / value.size, rtol=1e-14, atol=0)


def test_huber_is_delta_times_smooth_l1() -> None:
    r = np.array([-5.0, -2.0, -1.5, -0.5, -1e-3, 0.0, 0.3, 0.75, 1.0, 2.0, 1e6])
    for delta in (0.25, 0.75, 1.0, 2.0, 3.0):
        for reduction in ("none", "sum", "mean"):
            pts = np.concatenate([r, [delta, -delta]])
            h = losscore.evaluate(
                "huber", pts, np.zeros_like(pts), reduction=reduction, delta=delta
            )  # type: ignore[arg-type]
            s = losscore.evaluate(
                "smooth_l1", pts, np.zeros_like(pts), reduction=reduction, beta=delta
            )  # type: ignore[arg-type]
            np.testing.assert_allclose(
                h.elementwise, delta * s.elementwise, rtol=1e-14, atol=1e-300
            )
            np.testing.assert_allclose(h.gradient, delta * s.gradient, rtol=1e-14, atol=1e-300)
            if reduction != "none":
                assert h.value == pytest.approx(delta * s.value, rel=1e-14)  # type: ignore[operator]


def test_smooth_l1_with_beta_zero_is_exactly_l1() -> None:
    f = np.array([-2.5, -1e-300, 0.0, 0.0, 1e-12, 3.0, 1e300])
    y = np.array([0.0, 0.0, 0.0, -0.0, 0.0, 3.0, 0.0])
    for reduction in ("none", "sum", "mean"):
        a = losscore.evaluate("smooth_l1", f, y, reduction=reduction, hessian=True, beta=0.0)  # type: ignore[arg-type]
        b = losscore.evaluate("l1", f, y, reduction=reduction, hessian=True)  # type: ignore[arg-type]
        assert a.value == b.value
        np.testing.assert_array_equal(a.elementwise, b.elementwise)
        np.testing.assert_array_equal(a.gradient, b.gradient)
        np.testing.assert_array_equal(a.hessian, b.hessian)  # type: ignore[arg-type]
    res = losscore.evaluate("smooth_l1", f, y, reduction="none", hessian=True, beta=0.0)
    np.testing.assert_array_equal(res.elementwise, np.abs(f - y))
    np.testing.assert_array_equal(res.gradient, [-1.0, -1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(res.hessian, np.zeros(7))  # type: ignore[arg-type]


def test_l2_has_no_half() -> None:
    res = losscore.evaluate("l2", [4.0, 0.0, -1.0], [1.0, 2.0, -1.0], hessian=True)
    assert res.value == pytest.approx((9.0 + 4.0 + 0.0) / 3, rel=1e-15)
    np.testing.assert_array_equal(res.gradient * 3, [6.0, -4.0, 0.0])
    np.testing.assert_allclose(res.hessian, [2 / 3] * 3, rtol=1e-15)  # type: ignore[arg-type]
    assert losscore.evaluate("mse", 3.0, 0.0).value == 9.0


def test_log_loss_matches_log1p_exp_at_moderate_logits() -> None:
    f = np.linspace(-30.0, 30.0, 121)
    for label in (1, -1, 0):
        y = np.full_like(f, label)
        res = losscore.evaluate("log_loss", f, y, reduction="none", hessian=True)
        sign = 1.0 if label == 1 else -1.0
        want = [math.log1p(math.exp(-sign * fi)) for fi in f]
        np.testing.assert_allclose(res.elementwise, want, rtol=1e-14)
        moderate = np.abs(f) <= 3  # the textbook form, where 1 + e^-z loses nothing
        naive = [math.log(1.0 + math.exp(-sign * fi)) for fi in f[moderate]]
        np.testing.assert_allclose(res.elementwise[moderate], naive, rtol=1e-14)
        want_g = [-sign / (1.0 + math.exp(sign * fi)) for fi in f]
        np.testing.assert_allclose(res.gradient, want_g, rtol=1e-13)


# -- the kink conventions, one by one -------------------------------------------------------


def _at(name: str, f: float, y: float, **params: float) -> tuple[float, float, float]:
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True, **params)
    assert res.hessian is not None
    return float(res.elementwise), float(res.gradient), float(res.hessian)


def test_subgradient_is_zero_at_the_minimum_of_piecewise_linear_losses() -> None:
    assert _at("l1", 1.5, 1.5) == (0.0, 0.0, 0.0)
    assert _at("smooth_l1", 1.5, 1.5, beta=0.0) == (0.0, 0.0, 0.0)
    for q in (0.1, 0.5, 0.9):
        assert _at("quantile", -2.0, -2.0, q=q) == (0.0, 0.0, 0.0)
    for eps in (0.0, 0.5):
        assert _at("epsilon_insensitive", 0.0, 0.0, epsilon=eps) == (0.0, 0.0, 0.0)


def test_subgradient_is_zero_at_the_tube_edge_of_epsilon_insensitive() -> None:
    for r in (0.5, -0.5):
        assert _at("epsilon_insensitive", r, 0.0, epsilon=0.5) == (0.0, 0.0, 0.0)
        # just outside the tube the slope is ±1
        assert _at("epsilon_insensitive", 2 * r, 0.0, epsilon=0.5)[1] == _sign(r)
    # the squared version: continuous gradient 0 and the Hessian of the flat branch
    assert _at("squared_epsilon_insensitive", 0.5, 0.0, epsilon=0.5) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("label", [1, -1, 0])
def test_hinge_subgradient_is_zero_at_the_threshold(label: int) -> None:
    y = 1.0 if label == 1 else -1.0
    for t in (0.0, 1.0, 2.5):
        assert _at("hinge", t * y, label, threshold=t) == (0.0, 0.0, 0.0)
        # just below the threshold the slope is -y
        assert _at("hinge", (t - 0.5) * y, label, threshold=t) == (0.5, -y, 0.0)
    assert _at("perceptron", 0.0, label) == (0.0, 0.0, 0.0)
    assert _at("squared_hinge", 1.0 * y, label) == (0.0, 0.0, 0.0)  # Hessian 0 at z = t


def test_hessian_branch_at_the_quadratic_linear_boundary() -> None:
    # smooth_l1: |r| = beta belongs to the linear branch (Hessian 0); inside it is 1/beta
    for beta in (0.5, 1.0, 2.0):
        for r in (beta, -beta):
            value, grad, hess = _at("smooth_l1", r, 0.0, beta=beta)
            assert (value, grad, hess) == (0.5 * beta, _sign(r), 0.0)
        assert _at("smooth_l1", 0.25 * beta, 0.0, beta=beta)[2] == 1.0 / beta
    # huber: |r| = delta belongs to the quadratic branch (Hessian 1)
    for delta in (0.5, 1.0, 2.0):
        for r in (delta, -delta):
            value, grad, hess = _at("huber", r, 0.0, delta=delta)
            assert (value, grad, hess) == (0.5 * delta * delta, r, 1.0)
        assert _at("huber", 2 * delta, 0.0, delta=delta)[2] == 0.0
    # modified_huber: the Hessian is 2 on [-1, 1), 0 elsewhere
    assert _at("modified_huber", -1.0, 1)[1:] == (-4.0, 2.0)
    assert _at("modified_huber", 1.0, 1) == (0.0, 0.0, 0.0)
    assert _at("modified_huber", -1.5, 1) == (6.0, -4.0, 0.0)


def test_multiclass_hinge_ties_and_zero_hinge() -> None:
    # tie between classes 0 and 2 for the best wrong score: j* is the lowest index
    res = losscore.evaluate("multiclass_hinge", [[3.0, 2.5, 3.0]], [1], reduction="none")
    np.testing.assert_array_equal(res.gradient, [[1.0, -1.0, 0.0]])
    assert float(res.elementwise[0]) == 1.5
    # hinge exactly 0 (f_y - max_other == margin): gradient 0
    res = losscore.evaluate("multiclass_hinge", [[2.0, 1.0, 0.0]], [0], reduction="none")
    np.testing.assert_array_equal(res.gradient, [[0.0, 0.0, 0.0]])
    assert float(res.elementwise[0]) == 0.0


# -- labels ---------------------------------------------------------------------------------

MARGIN_LOSSES = [
    n
    for n in losscore.loss_names()
    if losscore.get_loss(n).kind == "binary" and n != "binary_cross_entropy"
]


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_zero_one_labels_equal_signed_labels(name: str) -> None:
    f = np.array([[-2.0, -0.5, 0.0], [0.25, 1.0, 3.0]])
    signed = np.array([[1, -1, 1], [-1, -1, 1]])
    zero_one = (signed + 1) // 2
    variants = [signed, zero_one, zero_one.astype(bool), signed.astype(np.float32)]
    w = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    for reduction in ("none", "sum", "mean"):
        ref = losscore.evaluate(name, f, signed, weight=w, reduction=reduction, hessian=True)  # type: ignore[arg-type]
        for labels in variants:
            res = losscore.evaluate(name, f, labels, weight=w, reduction=reduction, hessian=True)  # type: ignore[arg-type]
            assert res.value == ref.value
            np.testing.assert_array_equal(res.elementwise, ref.elementwise)
            np.testing.assert_array_equal(res.gradient, ref.gradient)
            np.testing.assert_array_equal(res.hessian, ref.hessian)  # type: ignore[arg-type]
    # and labels of one sign give the loss of ±f: a label 0 really means -1
    pos = losscore.evaluate(name, -f, np.ones_like(signed), reduction="none")
    neg = losscore.evaluate(name, f, np.zeros_like(signed), reduction="none")
    np.testing.assert_array_equal(pos.elementwise, neg.elementwise)
    np.testing.assert_array_equal(pos.gradient, -neg.gradient)


# -- dtypes and shapes ----------------------------------------------------------------------


def _valid(name: str, shape: tuple[int, ...] = (2, 3)) -> tuple[np.ndarray, np.ndarray]:
    """Valid float64 prediction and a target of the natural dtype for *name*."""
    spec = losscore.get_loss(name).spec
    rng = np.random.default_rng(7)
    if spec.kind == "multiclass":
        return rng.normal(size=shape), rng.integers(0, shape[-1], size=shape[:-1])
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, size=shape), rng.uniform(0, 1, size=shape)
    if spec.kind == "binary":
        return rng.normal(size=shape), rng.choice([-1, 1], size=shape)
    return rng.normal(size=shape), rng.normal(size=shape)


NAMES = list(losscore.loss_names())


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name: str) -> None:
    f, y = _valid(name)
    y32 = y.astype(np.float32) if y.dtype.kind == "f" else y
    res = losscore.evaluate(name, f.astype(np.float32), y32, hessian=True)
    assert res.elementwise.dtype == res.gradient.dtype == np.float32
    assert res.hessian is not None and res.hessian.dtype == np.float32
    assert isinstance(res.value, float)
    assert res.value == float(np.float32(res.value))  # rounded to float32
    w32 = np.ones(res.elementwise.shape, dtype=np.float32)
    res = losscore.evaluate(name, f.astype(np.float32), y32, weight=w32)
    assert res.gradient.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_float64_stays_float64_and_mixed_widths_give_float64(name: str) -> None:
    f, y = _valid(name)
    assert losscore.evaluate(name, f, y).gradient.dtype == np.float64
    f32 = f.astype(np.float32)
    w64 = np.ones(f.shape[:-1] if losscore.get_loss(name).kind == "multiclass" else f.shape)
    # a float64 weight with a float32 prediction: float64
    assert losscore.evaluate(name, f32, y, weight=w64).gradient.dtype == np.float64
    if name not in LABEL_LOSSES:
        # a float64 real-valued target with a float32 prediction: float64
        assert losscore.evaluate(name, f32, y).gradient.dtype == np.float64
        assert losscore.evaluate(name, f, y.astype(np.float32)).gradient.dtype == np.float64


def test_class_probability_targets_take_part_in_the_dtype_rule() -> None:
    """Probabilities are real-valued targets: float32 scores with float64 rows give float64;
    class indices (labels) never widen float32 scores."""
    f32 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=np.float32)
    probs = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    res = losscore.evaluate("softmax_cross_entropy", f32, probs)
    assert res.gradient.dtype == np.float64
    ref = losscore.evaluate("softmax_cross_entropy", f32.astype(np.float64), probs)
    np.testing.assert_array_equal(res.gradient, ref.gradient)
    both32 = losscore.evaluate("softmax_cross_entropy", f32, probs.astype(np.float32))
    assert both32.gradient.dtype == np.float32
    indices = losscore.evaluate("softmax_cross_entropy", f32, np.array([1, 2]))
    assert indices.gradient.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_integer_inputs_become_float64(name: str) -> None:
    spec = losscore.get_loss(name).spec
    if name == "binary_cross_entropy":
        f, y = np.array([0, 1, 1]), np.array([0, 1, 0])
    elif spec.kind == "multiclass":
        f, y = np.array([[1, 2, 3], [0, 0, 5]]), np.array([0, 2])
    elif spec.kind == "binary":
        f, y = np.array([-2, 0, 3]), np.array([1, -1, 1])
    else:
        f, y = np.array([-2, 0, 3]), np.array([1, 1, 1])
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True)
    assert res.gradient.dtype == np.float64
    assert res.elementwise.dtype == np.float64
    # the same as float64 inputs
    ref = losscore.evaluate(name, f.astype(np.float64), y, reduction="none", hessian=True)
    np.testing.assert_array_equal(res.elementwise, ref.elementwise)
    np.testing.assert_array_equal(res.gradient, ref.gradient)


LABEL_LOSSES = [n for n in NAMES if n in MARGIN_LOSSES or losscore.get_loss(n).kind == "multiclass"]
PROBABILITY_TARGET_LOSSES = [
    n
    for n in NAMES
    if losscore.get_loss(n).kind == "multiclass"
    and "probabilit" in losscore.get_loss(n).spec.target_domain
]


@pytest.mark.parametrize("name", LABEL_LOSSES)
def test_integer_labels_keep_a_float32_prediction_float32(name: str) -> None:
    """Labels and class indices do not take part in the dtype choice."""
    f, y = _valid(name)
    res = losscore.evaluate(name, f.astype(np.float32), y.astype(np.int64), hessian=True)
    assert res.gradient.dtype == np.float32
    assert res.elementwise.dtype == np.float32


def test_mixed_width_regression_computes_in_float64() -> None:
    f = np.float32(0.1)
    y = np.float64(0.3)
    res = losscore.evaluate("l2", f, y)
    assert res.gradient.dtype == np.float64
    # computed from the exact float32 value of f, in float64
    r = float(np.float32(0.1)) - 0.3
    assert res.value == r * r


@pytest.mark.parametrize("name", [n for n in NAMES if losscore.get_loss(n).kind != "multiclass"])
def test_zero_dimensional_scalars(name: str) -> None:
    f, y = (0.25, 1.0) if name == "binary_cross_entropy" else (0.25, 1)
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True)
    assert res.elementwise.shape == res.gradient.shape == ()
    assert res.hessian is not None and res.hessian.shape == ()
    value, grad, hess = SCALAR[name](f, float(y), {})
    assert float(res.elementwise) == pytest.approx(value, rel=1e-14)
    assert float(res.gradient) == pytest.approx(grad, rel=1e-14)
    assert float(res.hessian) == pytest.approx(hess, rel=1e-14)
    for reduction in ("mean", "sum"):
        r = losscore.evaluate(name, np.float64(f), np.asarray(y), reduction=reduction)  # type: ignore[arg-type]
        assert r.value == pytest.approx(value, rel=1e-14)
        assert r.gradient.shape == ()


@pytest.mark.parametrize("name", [n for n in NAMES if losscore.get_loss(n).kind == "multiclass"])
def test_multiclass_single_row_with_scalar_target(name: str) -> None:
    res = losscore.evaluate(name, [0.5, -1.0, 2.0], 1, reduction="none", hessian=True)
    assert res.elementwise.shape == ()
    assert res.gradient.shape == (3,)
    value, grad, _ = ROW[name]([0.5, -1.0, 2.0], 1, {})
    assert float(res.elementwise) == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(res.gradient, grad, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_any_shape_is_preserved(name: str) -> None:
    f, y = _valid(name, (2, 3, 4))
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True)
    multiclass = losscore.get_loss(name).kind == "multiclass"
    assert res.elementwise.shape == ((2, 3) if multiclass else (2, 3, 4))
    assert res.gradient.shape == (2, 3, 4)
    assert res.hessian is not None and res.hessian.shape == (2, 3, 4)
    value, grad, hess = reference(name, f, y, {})
    np.testing.assert_allclose(res.elementwise, value, rtol=1e-13)
    np.testing.assert_allclose(res.gradient, grad, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(res.hessian, hess, rtol=1e-13, atol=1e-16)
    # and a flattened evaluation agrees element for element
    if multiclass:
        flat = losscore.evaluate(name, f.reshape(6, 4), y.reshape(6), reduction="none")
    else:
        flat = losscore.evaluate(name, f.ravel(), y.ravel(), reduction="none")
    np.testing.assert_array_equal(flat.elementwise.ravel(), res.elementwise.ravel())
    np.testing.assert_array_equal(flat.gradient.ravel(), res.gradient.ravel())


@pytest.mark.parametrize("name", PROBABILITY_TARGET_LOSSES)
def test_probability_targets_and_indices_agree_for_one_hot_rows(name: str) -> None:
    f, y = _valid(name, (4, 3))
    one_hot = np.eye(3)[y]
    for s in (0.0, 0.2):
        a = losscore.evaluate(name, f, y, reduction="none", label_smoothing=s)
        b = losscore.evaluate(name, f, one_hot, reduction="none", label_smoothing=s)
        np.testing.assert_allclose(a.elementwise, b.elementwise, rtol=1e-14)
        np.testing.assert_allclose(a.gradient, b.gradient, rtol=1e-14, atol=1e-16)
    soft = np.array([[0.2, 0.3, 0.5]] * 4)
    res = losscore.evaluate(name, f, soft, reduction="none")
    value, grad, _ = reference(name, f, soft, {})
    np.testing.assert_allclose(res.elementwise, value, rtol=1e-14)
    np.testing.assert_allclose(res.gradient, grad, rtol=1e-13, atol=1e-16)
