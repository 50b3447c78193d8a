"""Huge and tiny values, float32 overflow, clamps, empty arrays, many chunks.

Expected values are exact closed forms: at |x| = 1e300 every term but the leading
one is below half an ulp, so e.g. log cosh(1e300) == 1e300 - log 2 == 1e300.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest

import losscore
from losscore import InvalidInputError

F32_MAX = float(np.finfo(np.float32).max)
F64_MAX = float(np.finfo(np.float64).max)
NAMES = list(losscore.loss_names())


def _none(name: str, f: object, y: object, **kw: object) -> losscore.Evaluation:
    return losscore.evaluate(name, f, y, reduction="none", hessian=True, **kw)  # type: ignore[arg-type]


def _finite_everywhere(res: losscore.Evaluation) -> bool:
    arrays = [res.elementwise, res.gradient]
    if res.hessian is not None:
        arrays.append(res.hessian)
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _no_nan(res: losscore.Evaluation) -> bool:
    arrays = [res.elementwise, res.gradient]
    if res.hessian is not None:
        arrays.append(res.hessian)
    return not any(bool(np.isnan(a).any()) for a in arrays) and not (
        res.value is not None and math.isnan(res.value)
    )


# -- log_cosh ---------------------------------------------------------------------------------


def test_log_cosh_at_1e300_is_exact_and_finite() -> None:
    f = np.array([1e300, -1e300, 1e308, -F64_MAX, 800.0])
    res = _none("log_cosh", f, np.zeros_like(f))
    assert _finite_everywhere(res)
    for got, r in zip(res.elementwise, f, strict=True):
        assert got == pytest.approx(abs(r) - math.log(2.0), rel=1e-15)
    np.testing.assert_array_equal(res.gradient, np.sign(f))
    np.testing.assert_array_equal(res.hessian, np.zeros_like(f))  # type: ignore[arg-type]
    # the residual r = f - y itself is huge but finite
    res = _none("log_cosh", [1e300], [-1e300])
    assert float(res.elementwise[0]) == pytest.approx(2e300, rel=1e-15)


def test_log_cosh_float32_up_to_its_max() -> None:
    f = np.array([F32_MAX, -F32_MAX, 1e38, 100.0], dtype=np.float32)
    res = _none("log_cosh", f, np.zeros_like(f))
    assert res.elementwise.dtype == np.float32
    assert _finite_everywhere(res)
    want = [abs(float(v)) - math.log(2.0) for v in f]
    np.testing.assert_allclose(res.elementwise.astype(np.float64), want, rtol=1e-7)
    np.testing.assert_array_equal(res.gradient, np.sign(f))
    # the reduction happens in float64, so the mean of two float32 maxima is still finite
    mean = losscore.evaluate("log_cosh", f[:2], np.zeros(2, dtype=np.float32))
    assert mean.value is not None and math.isfinite(mean.value)
    assert mean.value == pytest.approx(F32_MAX, rel=1e-7)


@pytest.mark.parametrize("r", [1e-8, -1e-8, 3e-5, 1e-150, 2e-3])
def test_log_cosh_tiny_residuals_keep_full_relative_precision(r: float) -> None:
    res = _none("log_cosh", r, 0.0)
    # log cosh r = r²/2 - r⁴/12 + r⁶/45 - ...; math.log(math.cosh(r)) would give 0 at 1e-8
    series = r * r / 2 - r**4 / 12 + r**6 / 45 - 17 * r**8 / 2520
    assert float(res.elementwise) == pytest.approx(series, rel=4e-16)
    assert float(res.gradient) == pytest.approx(math.tanh(r), rel=1e-15)
    assert float(res.elementwise) > 0


def test_log_cosh_tiny_residual_float32() -> None:
    r = np.float32(1e-4)
    res = _none("log_cosh", r, np.float32(0.0))
    assert res.elementwise.dtype == np.float32
    assert float(res.elementwise) == pytest.approx(float(r) ** 2 / 2, rel=1e-6)


# -- log_loss ---------------------------------------------------------------------------------


def test_log_loss_at_huge_logits_is_exact() -> None:
    f = np.array([-1e300, 1e300, -1000.0, 1000.0, -1e300, 1e300, -1000.0, 1000.0, F64_MAX])
    y = np.array([1, 1, 1, 1, -1, -1, -1, -1, -1])
    res = _none("log_loss", f, y)
    assert _no_nan(res)
    want_value = [1e300, 0.0, 1000.0, 0.0, 0.0, 1e300, 0.0, 1000.0, F64_MAX]
    np.testing.assert_array_equal(res.elementwise, want_value)
    # dℓ/df = -y σ(-y f): -1 / 0 for y = +1, +1 / 0 for y = -1 (e^-1000 underflows to 0)
    want_grad = [-1.0, 0.0, -1.0, -math.exp(-1000.0), 0.0, 1.0, 0.0, 1.0, 1.0]
    np.testing.assert_array_equal(res.gradient, want_grad)
    np.testing.assert_array_equal(res.hessian, np.zeros_like(f))  # type: ignore[arg-type]
    # the value at a huge logit keeps the small logits' contribution in a sum
    total = losscore.evaluate("log_loss", [-1000.0, 0.0], [1, 1], reduction="sum")
    assert total.value == 1000.0 + math.log(2.0)


def test_log_loss_just_below_overflow_of_exp() -> None:
    # e^{-z} overflows for z < -709.78, the loss must not
    f = np.array([-709.0, -710.0, -745.0, -1e5])
    res = _none("log_loss", f, np.ones_like(f))
    assert _finite_everywhere(res)
    np.testing.assert_allclose(res.elementwise, -f, rtol=1e-15)
    np.testing.assert_allclose(res.gradient, -np.ones_like(f), rtol=1e-15)


def test_log_loss_float32_huge_logits() -> None:
    f = np.array([-F32_MAX, F32_MAX, -1e30, 100.0], dtype=np.float32)
    res = _none("log_loss", f, np.ones(4, dtype=np.int8))
    assert res.elementwise.dtype == np.float32
    assert _finite_everywhere(res)
    np.testing.assert_array_equal(res.elementwise[:3], np.array([F32_MAX, 0.0, 1e30], np.float32))
    np.testing.assert_array_equal(res.gradient[:3], np.array([-1.0, 0.0, -1.0], np.float32))


# -- softmax cross-entropy --------------------------------------------------------------------


def test_softmax_cross_entropy_at_logits_pm_1000() -> None:
    f = np.array([[1000.0, -1000.0], [1000.0, -1000.0], [1000.0, 1000.0], [-1000.0, -1000.0]])
    res = _none("softmax_cross_entropy", f, [0, 1, 0, 1])
    assert _no_nan(res)
    np.testing.assert_array_equal(res.elementwise, [0.0, 2000.0, math.log(2.0), math.log(2.0)])
    np.testing.assert_array_equal(res.gradient, [[0.0, 0.0], [1.0, -1.0], [-0.5, 0.5], [0.5, -0.5]])
    np.testing.assert_array_equal(res.hessian, [[0, 0], [0, 0], [0.25, 0.25], [0.25, 0.25]])  # type: ignore[arg-type]


def test_softmax_cross_entropy_with_1e300_spreads() -> None:
    f = np.array([[1e300, -1e300, 0.0]] * 3)
    res = _none("softmax_cross_entropy", f, [0, 1, 2])
    assert _no_nan(res)
    np.testing.assert_array_equal(res.elementwise, [0.0, 2e300, 1e300])
    np.testing.assert_array_equal(res.gradient[1], [1.0, -1.0, 0.0])
    # label smoothing: ℓ = lse(f) - Σ q f with q = (1 - s) e_y + s/3; here Σ f = 0
    s = 0.25
    res = _none("softmax_cross_entropy", f, [0, 1, 2], label_smoothing=s)
    np.testing.assert_allclose(
        res.elementwise, [s * 1e300, 1e300 + (1 - s) * 1e300, 1e300], rtol=1e-15
    )
    np.testing.assert_allclose(res.gradient[0], [-s / 3 + s, -s / 3, -s / 3], rtol=1e-15)
    # class-probability targets with zeros where the logit is hugely negative
    f = np.array([[F64_MAX / 2, -F64_MAX / 2], [F64_MAX, -F64_MAX]])
    res = _none("softmax_cross_entropy", f, [[1.0, 0.0], [1.0, 0.0]])
    assert _no_nan(res)
    np.testing.assert_array_equal(res.elementwise, [0.0, 0.0])
    np.testing.assert_array_equal(res.gradient, [[0.0, 0.0], [0.0, 0.0]])


def test_softmax_cross_entropy_float32_huge_logits() -> None:
    f = np.array([[1e30, -1e30], [F32_MAX, 0.0]], dtype=np.float32)
    res = _none("softmax_cross_entropy", f, [1, 0])
    assert res.elementwise.dtype == np.float32
    assert _finite_everywhere(res)
    np.testing.assert_array_equal(res.elementwise, np.array([2e30, 0.0], np.float32))


# -- overflow beyond the float range: inf, never NaN ------------------------------------------


def test_l2_at_1e30() -> None:
    res = _none("l2", [1e30, -1e30], [0.0, 1e30])
    np.testing.assert_array_equal(res.elementwise, [1e30 * 1e30, 2e30 * 2e30])
    np.testing.assert_array_equal(res.gradient, [2e30, -4e30])
    np.testing.assert_array_equal(res.hessian, [2.0, 2.0])  # type: ignore[arg-type]
    mean = losscore.evaluate("l2", [1e30, -1e30], [0.0, 1e30]).value
    assert mean == pytest.approx(2.5e60, rel=1e-15)
    # float32: r² = 1e60 exceeds the float32 range -> inf; the gradient 2e30 does not
    r32 = _none("l2", np.float32([1e30]), np.float32([0.0]))
    assert r32.elementwise.dtype == np.float32
    assert np.isposinf(r32.elementwise[0])
    assert float(r32.gradient[0]) == pytest.approx(2e30, rel=1e-7)
    assert _no_nan(r32)
    mean32 = losscore.evaluate("l2", np.float32([1e30, 1.0]), np.float32([0.0, 0.0]))
    assert mean32.value == math.inf


@pytest.mark.parametrize(
    "name",
    [
        "l1",
        "l2",
        "smooth_l1",
        "huber",
        "pseudo_huber",
        "log_cosh",
        "epsilon_insensitive",
        "squared_epsilon_insensitive",
    ],
)
def test_float32_residual_overflow_gives_inf_not_nan(name: str) -> None:
    # f - y = 6e38 > float32 max: the loss's true value is beyond float32 too
    f = np.array([3e38, -3e38, 1.0], dtype=np.float32)
    y = np.array([-3e38, 3e38, 0.0], dtype=np.float32)
    res = _none(name, f, y)
    assert _no_nan(res)
    assert np.isposinf(res.elementwise[:2]).all()
    assert np.isfinite(res.elementwise[2])
    g = res.gradient[:2]
    assert (np.sign(g) == [1.0, -1.0]).all()
    if name in ("smooth_l1", "l1", "log_cosh", "epsilon_insensitive"):
        np.testing.assert_array_equal(g, [1.0, -1.0])  # bounded slope stays exact
    if name in ("huber", "pseudo_huber"):
        np.testing.assert_array_equal(g, [1.0, -1.0])  # delta · sign(r)


def test_exponential_loss_overflows_to_inf_explicitly() -> None:
    f = np.array([-710.0, -1000.0, 710.0, 5.0])
    y = np.array([1, 1, -1, 1])  # margins -710, -1000, -710, 5
    res = _none("exponential", f, y)
    np.testing.assert_array_equal(res.elementwise[:3], [math.inf] * 3)
    np.testing.assert_array_equal(res.gradient[:3], [-math.inf, -math.inf, math.inf])
    np.testing.assert_array_equal(res.hessian[:3], [math.inf] * 3)  # type: ignore[index]
    assert float(res.elementwise[3]) == pytest.approx(math.exp(-5.0), rel=1e-15)
    assert losscore.evaluate("exponential", f, y).value == math.inf
    assert losscore.evaluate("exponential", f, y, reduction="sum").value == math.inf
    # just inside the range it is finite and exact
    edge = _none("exponential", [-709.0], [1])
    assert float(edge.elementwise[0]) == pytest.approx(math.exp(709.0), rel=1e-15)
    # float32: e^{-z} exceeds the float32 range below z ~ -88.7
    r32 = _none("exponential", np.float32([-89.0, -88.0]), [1, 1])
    assert np.isposinf(r32.elementwise[0])
    assert float(r32.elementwise[1]) == pytest.approx(math.exp(88.0), rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_zero_weight_removes_an_infinite_term(reduction: str) -> None:
    """0·∞ must not turn into NaN: a zero weight removes the element entirely."""
    f = np.array([-1000.0, 1.0, -2000.0])
    y = np.array([1, 1, 1])
    w = np.array([0.0, 2.0, 0.0])
    res = losscore.evaluate("exponential", f, y, weight=w, reduction=reduction, hessian=True)  # type: ignore[arg-type]
    assert _no_nan(res)
    scale = 0.5 if reduction == "mean" else 1.0
    np.testing.assert_array_equal(res.elementwise, [0.0, 2 * math.exp(-1.0), 0.0])
    np.testing.assert_allclose(res.gradient, [0.0, -2 * math.exp(-1.0) * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(res.hessian, [0.0, 2 * math.exp(-1.0) * scale, 0.0], rtol=1e-15)  # type: ignore[arg-type]
    if reduction != "none":
        assert res.value == pytest.approx(2 * math.exp(-1.0) * scale, rel=1e-15)


@pytest.mark.parametrize(
    ("dtype", "weights"),
    [
        (np.float64, [1e308, 1e308, 5e307]),  # Σw overflows float64
        (np.float64, [1e-320, 3e-320, 2e-320]),  # 1/Σw overflows float64
        (np.float64, [5e-324, 0.0, 5e-324]),  # smallest subnormal, and a zero
        (np.float32, [3e38, 3e38, 1e38]),  # w·ℓ' overflows float32
        (np.float32, [1e-45, 3e-45, 1e-45]),  # 1/Σw overflows float32
    ],
)
def test_weighted_mean_with_extreme_weights(dtype: type, weights: list[float]) -> None:
    """Σwℓ/Σw and wℓ'/Σw do not depend on the weights' scale: no inf, no 0, no NaN.

    Oracle: exact rational arithmetic on the weights as stored (l2, r = 1, 2, 3).
    """
    from fractions import Fraction

    f = np.array([1.0, 2.0, 3.0], dtype=dtype)
    w = np.array(weights, dtype=dtype)
    res = losscore.evaluate("l2", f, np.zeros(3, dtype), weight=w, hessian=True)
    fw = [Fraction(float(x)) for x in w]
    total = sum(fw, Fraction(0))
    want_value = float(sum((wi * (i + 1) ** 2 for i, wi in enumerate(fw)), Fraction(0)) / total)
    want_grad = [float(wi * 2 * (i + 1) / total) for i, wi in enumerate(fw)]
    want_hess = [float(wi * 2 / total) for wi in fw]
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert res.gradient.dtype == dtype
    assert res.value == pytest.approx(want_value, rel=rtol)
    np.testing.assert_allclose(res.gradient, want_grad, rtol=rtol)
    np.testing.assert_allclose(res.hessian, want_hess, rtol=rtol)  # type: ignore[arg-type]
    want_sum = float(total) if total <= Fraction(F64_MAX) else math.inf
    assert res.weight_sum == pytest.approx(want_sum, rel=1e-15)
    # elementwise stays w·ℓ (here overflowing only where the true w·ℓ exceeds the range)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(res.elementwise, w * f * f, rtol=rtol)


def test_float32_sum_overflowing_is_inf_but_mean_is_not() -> None:
    f = np.full(4, 1.5e19, dtype=np.float32)  # r² = 2.25e38 each, sum 9e38 > float32 max
    zeros = np.zeros(4, dtype=np.float32)
    assert losscore.evaluate("l2", f, zeros, reduction="sum").value == math.inf
    mean = losscore.evaluate("l2", f, zeros, reduction="mean").value
    assert mean == pytest.approx(2.25e38, rel=1e-6)


def test_float64_total_beyond_range_is_inf_but_the_mean_is_not() -> None:
    # two finite terms of 1.69e308 in different chunks: their sum overflows float64
    f = np.zeros(70_000)
    f[0] = f[-1] = 1.3e154
    zeros = np.zeros_like(f)
    assert losscore.evaluate("l2", f, zeros, reduction="sum").value == math.inf
    mean = losscore.evaluate("l2", f, zeros, reduction="mean").value
    assert mean == pytest.approx(2 * (1.3e154 * 1.3e154 / 70_000), rel=1e-15)
    # the same within one chunk
    mean = losscore.evaluate("l2", f[[0, -1]], zeros[:2], reduction="mean").value
    assert mean == pytest.approx(1.3e154 * 1.3e154, rel=1e-15)


def test_smooth_l1_with_subnormal_beta_has_no_nan() -> None:
    beta = 1e-320  # 1/beta overflows float64
    f = np.array([0.0, 5e-321, -2.0])
    res = _none("smooth_l1", f, np.zeros(3), beta=beta)
    assert _no_nan(res)
    assert float(res.elementwise[0]) == 0.0 and float(res.gradient[0]) == 0.0
    assert float(res.elementwise[2]) == 2.0 and float(res.gradient[2]) == -1.0
    np.testing.assert_array_equal(res.hessian, [math.inf, math.inf, 0.0])  # type: ignore[arg-type]
    assert 0.0 <= float(res.gradient[1]) < 1.0


# -- binary_cross_entropy clamps --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_at_zero_and_one(dtype: type[np.floating]) -> None:
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25], dtype=dtype)
    res = _none("binary_cross_entropy", p, t)
    assert res.elementwise.dtype == dtype
    assert _finite_everywhere(res)
    # log clamped at -100: ℓ = -(t·max(log p, -100) + (1 - t)·max(log(1 - p), -100))
    np.testing.assert_array_equal(res.elementwise, np.array([100, 0, 100, 0, 50, 75], dtype))
    # derivatives of the clamped function: a clamped log contributes 0
    np.testing.assert_array_equal(res.gradient, np.array([0, 1, 0, -1, 0.5, -0.25], dtype))
    np.testing.assert_array_equal(res.hessian, np.array([0, 1, 0, 1, 0.5, 0.25], dtype))  # type: ignore[arg-type]


def test_binary_cross_entropy_clamp_threshold() -> None:
    # log p = -100 exactly at p = e^-100: below it the clamp is active
    p = np.array([math.exp(-99.0), math.exp(-101.0)])
    res = _none("binary_cross_entropy", p, np.ones(2))
    assert float(res.elementwise[0]) == pytest.approx(99.0, rel=1e-15)
    assert float(res.elementwise[1]) == 100.0
    assert float(res.gradient[0]) == pytest.approx(-1.0 / p[0], rel=1e-15)
    assert float(res.gradient[1]) == 0.0


# -- empty arrays -----------------------------------------------------------------------------


def _empty(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kind = losscore.get_loss(name).kind
    if kind == "multiclass":
        return np.zeros((0, 3)), np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.zeros(0), np.zeros(0), np.zeros(0)


@pytest.mark.parametrize("name", NAMES)
def test_empty_arrays_none_and_sum(name: str) -> None:
    f, y, w = _empty(name)
    res = losscore.evaluate(name, f, y, reduction="sum", hessian=True)
    assert res.value == 0.0
    assert res.gradient.shape == f.shape
    assert res.elementwise.shape == (0,)
    res = losscore.evaluate(name, f, y, weight=w, reduction="sum")
    assert res.value == 0.0
    assert res.weight_sum == 0.0
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True)
    assert res.value is None
    assert res.gradient.shape == f.shape
    assert res.hessian is not None and res.hessian.shape == f.shape
    # empty lists (float64 by default) work too
    if losscore.get_loss(name).kind != "multiclass":
        assert losscore.evaluate(name, [], [], reduction="sum").value == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_empty_arrays_mean_is_an_error(name: str) -> None:
    f, y, w = _empty(name)
    with pytest.raises(InvalidInputError) as info:
        losscore.evaluate(name, f, y, reduction="mean")
    assert info.value.field == "prediction"
    assert "empty" in info.value.reason
    with pytest.raises(InvalidInputError):
        losscore.evaluate(name, f, y, weight=w, reduction="mean")


@pytest.mark.parametrize("name", NAMES)
def test_all_zero_weights_with_mean_is_an_error(name: str) -> None:
    f, y, _ = _empty(name)
    kind = losscore.get_loss(name).kind
    if kind == "multiclass":
        f, y = np.zeros((2, 3)), np.array([0, 1])
    elif name == "binary_cross_entropy":
        f, y = np.full(2, 0.5), np.ones(2)
    else:
        f, y = np.zeros(2), np.ones(2)
    w = np.zeros(2)
    with pytest.raises(InvalidInputError) as info:
        losscore.evaluate(name, f, y, weight=w, reduction="mean")
    assert info.value.field == "weight"
    assert "sum to 0" in info.value.reason
    # sum is fine: every term is removed
    assert losscore.evaluate(name, f, y, weight=w, reduction="sum").value == 0.0


# -- many chunks (the engine splits work and may use threads) --------------------------------


def test_large_regression_array_matches_closed_form_across_chunks() -> None:
    rng = np.random.default_rng(0)
    n = 250_003  # several chunks, not a multiple of the chunk size
    f, y = rng.normal(size=n), rng.normal(size=n)
    w = rng.uniform(0, 2, size=n)
    w[::7] = 0.0
    r = f - y
    res = losscore.evaluate("huber", f, y, weight=w, hessian=True, delta=0.5)
    ell = np.where(np.abs(r) <= 0.5, 0.5 * r * r, 0.5 * (np.abs(r) - 0.25))
    dl = np.where(np.abs(r) <= 0.5, r, 0.5 * np.sign(r))
    wsum = math.fsum(w)
    assert res.value == pytest.approx(math.fsum(w * ell) / wsum, rel=1e-13)
    np.testing.assert_allclose(res.gradient, w * dl / wsum, rtol=1e-14, atol=0)
    np.testing.assert_allclose(res.elementwise, w * ell, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.hessian, (np.abs(r) <= 0.5) * w / wsum, rtol=1e-15, atol=0)  # type: ignore[arg-type]


def test_large_multiclass_array_matches_closed_form_across_chunks() -> None:
    rng = np.random.default_rng(1)
    n, k = 40_001, 5
    f = rng.normal(size=(n, k)) * 3
    y = rng.integers(0, k, size=n)
    res = losscore.evaluate("softmax_cross_entropy", f, y, reduction="sum")
    m = f.max(axis=1)
    lse = m + np.log(np.exp(f - m[:, None]).sum(axis=1))
    ell = lse - f[np.arange(n), y]
    assert res.value == pytest.approx(math.fsum(ell), rel=1e-12)
    p = np.exp(f - lse[:, None])
    p[np.arange(n), y] -= 1.0
    np.testing.assert_allclose(res.gradient, p, rtol=1e-12, atol=1e-15)


def test_log_cosh_relative_accuracy_over_many_decades() -> None:
    r = np.concatenate([np.logspace(-150, 2.8, 301), -np.logspace(-20, 1, 50)])
    res = _none("log_cosh", r, np.zeros_like(r))
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        want = []
        for v in r:
            x = decimal.Decimal(float(v))
            if abs(v) < 1e-5:  # the series: the next term is below 1e-60 relative
                want.append(float(x**2 / 2 - x**4 / 12 + x**6 / 45))
            else:
                want.append(float(((x.exp() + (-x).exp()) / 2).ln()))
    np.testing.assert_allclose(res.elementwise, want, rtol=2e-15, atol=0)


def test_binary_cross_entropy_float32_tiny_probability_hessian() -> None:
    # 1/p² overflows float32 here; with t = 0 the p-term of the Hessian is still 0
    p = np.array([1e-20, 1e-30, 1e-40], dtype=np.float32)
    res = _none("binary_cross_entropy", p, np.zeros(3, dtype=np.float32))
    assert _finite_everywhere(res)
    np.testing.assert_allclose(res.hessian, [1.0, 1.0, 1.0], rtol=1e-6)  # type: ignore[arg-type]
    np.testing.assert_allclose(res.gradient, [1.0, 1.0, 1.0], rtol=1e-6)
    # with t = 1 the true Hessian 1/p² exceeds float32: +inf, not NaN
    res = _none("binary_cross_entropy", p, np.ones(3, dtype=np.float32))
    assert _no_nan(res)
    assert np.isposinf(res.hessian).all()  # type: ignore[arg-type]


def _extremes(dtype: type[np.floating]) -> np.ndarray:
    fi = np.finfo(dtype)
    big = [fi.max, fi.max / 2, 1e30, 1e10, 1.0, fi.tiny, fi.smallest_subnormal]
    return np.array([*big, 0.0, *(-v for v in big)], dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_no_nan_anywhere_at_extreme_finite_inputs(name: str, dtype: type[np.floating]) -> None:
    """Every pair of extreme finite values: ±inf where the true value overflows, never NaN."""
    spec = losscore.get_loss(name).spec
    ext = _extremes(dtype)
    fi = np.finfo(dtype)
    cases: list[tuple[np.ndarray, np.ndarray]]
    if spec.kind == "multiclass":
        a, b = (g.ravel() for g in np.meshgrid(ext, ext))
        scores = np.stack([a, b, np.zeros_like(a)], axis=1)
        cases = [(scores, np.full(len(a), j)) for j in range(3)]
        if "probabilit" in spec.target_domain:
            cases.append((scores, np.tile(np.array([1, 0, 0], dtype), (len(a), 1))))
            cases.append((scores, np.tile(np.array([0.5, 0, 0.5], dtype), (len(a), 1))))
    elif name == "binary_cross_entropy":
        p = np.array([0, fi.smallest_subnormal, fi.tiny, 1e-20, 0.5, 1 - fi.eps, 1], dtype)
        t = np.array([0, fi.tiny, 0.5, 1], dtype)
        pp, tt = np.meshgrid(p, t)
        cases = [(pp.ravel(), tt.ravel())]
    elif spec.kind == "binary":
        cases = [(ext, np.ones(ext.size, dtype=int)), (ext, np.zeros(ext.size, dtype=int))]
    else:
        a, b = np.meshgrid(ext, ext)
        cases = [(a.ravel(), b.ravel())]
    other = {
        p.name: p.default * 3 if p.interval.contains(p.default * 3) else p.default / 5
        for p in spec.params
    }
    for params in [{}, other]:
        for f, y in cases:
            res = _none(name, f, y, **params)
            assert res.elementwise.dtype == dtype
            assert _no_nan(res), (name, params, f, y)
            for reduction in ("sum", "mean"):
                total = losscore.evaluate(name, f, y, reduction=reduction, **params).value  # type: ignore[arg-type]
                assert total is not None and not math.isnan(total)


def test_no_negative_zero_where_the_loss_is_zero() -> None:
    """A zero loss or gradient is +0.0 (JSON clients see "-0.0" otherwise)."""
    bce = _none("binary_cross_entropy", [1.0, 0.0], [1.0, 0.0])
    assert bce.elementwise.tolist() == [0.0, 0.0]
    assert not np.signbit(bce.elementwise).any()
    hinge = _none("multiclass_hinge", [[5.0, 0.0, 1.0]], [0])
    assert hinge.elementwise.tolist() == [0.0]
    assert not np.signbit(hinge.gradient).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["hinge", "perceptron", "squared_hinge", "modified_huber"])
def test_binary_gradients_have_no_negative_zero(name: str, dtype: type) -> None:
    """Far on the right side of the margin the derivative is exactly 0: it must be +0.0 for
    both labels, not a sign-carrying -0.0 (log_loss's float64 fast path still gives -0.0
    where e^{-|f|} underflows, |f| > 745: fixing it costs a pass over every gradient)."""
    f = np.array([2.0, -2.0, 800.0, -800.0, 5.0, -5.0], dtype=dtype)
    y = np.array([1, -1, 1, -1, 1, -1])
    res = losscore.evaluate(name, f, y, reduction="none", hessian=True)
    assert res.gradient is not None
    zero = res.gradient == 0
    assert zero.any()
    assert not np.signbit(res.gradient[zero]).any(), res.gradient


@pytest.mark.parametrize(("dtype", "big"), [(np.float64, 1.7e308), (np.float32, np.float32(3e38))])
def test_weighted_mean_of_huge_losses_is_finite(dtype: type, big: float) -> None:
    """w·ℓ overflows (3 × 1.7e308) but the weighted mean Σwℓ/Σw is a convex combination of
    finite losses: it must be finite (it was inf), and a zero weight drops its term."""
    f = np.array([big, big, 1.0, 5.0], dtype=dtype)
    y = np.zeros(4, dtype=dtype)
    w = np.array([3.0, 3.0, 1.0, 0.0], dtype=dtype)
    res = losscore.evaluate("l1", f, y, weight=w)
    assert res.elementwise is not None and np.isinf(res.elementwise[:2]).all()  # w·ℓ itself
    expected = float(big) * (6 / 7) + 1.0 / 7
    assert res.value == pytest.approx(expected, rel=1e-6)
