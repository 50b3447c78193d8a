"""scikit-learn as a live, independent oracle for losscore's losses.

Two families of references are used:

* ``sklearn._loss.loss`` (the vectorised Cython losses behind HGBT, the GLMs,
  LogisticRegression and — since 1.6 — SGD's ``log_loss``/``huber``/``squared_error``):
  values, gradients and Hessian diagonals, with and without ``sample_weight``,
  in float64 and float32.
* The scalar SGD losses in ``sklearn.linear_model._sgd_fast`` (``Hinge(threshold)``,
  ``SquaredHinge``, ``ModifiedHuber``, ``EpsilonInsensitive``,
  ``SquaredEpsilonInsensitive``) through their ``py_loss(p, y)`` / ``py_dloss(p, y)``.
  ``Log``, ``Huber`` and ``SquaredLoss`` no longer exist there: SGD now uses
  ``CyHalfBinomialLoss``, ``CyHuberLoss`` and ``CyHalfSquaredError`` from ``sklearn._loss``,
  which the first family covers (``test_sgd_uses_the_loss_module`` pins that mapping).

Convention differences, converted explicitly below:

* ``HalfSquaredError`` is ½·r²; our ``l2`` is r² (PyTorch's mse): factor 2 on value,
  gradient and Hessian.
* ``HuberLoss`` chooses δ as a quantile of |r| only while *fitting* (HGBT updates
  ``closs.delta``); the loss object itself uses the fixed ``delta`` it is built with, so
  ``HuberLoss(delta=d)`` is our ``huber(delta=d)`` exactly, Hessian included.
* ``HalfBinomialLoss`` and ``ExponentialLoss`` take labels in {0, 1} on the raw score f:
  log(1 + e^f) − y·f and y·e^{−f} + (1 − y)·e^{f}. With ±1 = 2y − 1 these are exactly our
  ``log_loss`` and ``exponential`` on the margin z = ±f (sklearn's half-logit *link*
  of the exponential loss only matters for ``predict_proba``; the loss of the raw score
  has no factor 2).
* ``HalfMultinomialLoss`` is our ``softmax_cross_entropy`` with class indices. It has no
  label smoothing and no probability targets, but the loss is affine in the target
  distribution q (ℓ = lse(f) − Σ q_j f_j with Σ q_j = 1), so both are checked as the
  q-weighted combination of sklearn's per-class losses.
* Kinks: sklearn picks a one-sided subgradient at every kink (|r| and pinball at r = 0:
  +1 / −q; hinge at z = t: −y); ours is the minimum-norm one (0). The data below keeps
  every residual / margin at least ``_KINK_GAP`` away from a kink, so both are the
  ordinary derivative. ``AbsoluteError``/``PinballLoss`` report a Hessian of 1
  (``approx_hessian = True``: a positive surrogate for Newton steps in HGBT); the true
  Hessian, ours, is 0, so their Hessians are not compared.
* sklearn's ``sample_weight`` multiplies per-sample loss, gradient and Hessian: that is our
  ``reduction="none"`` with ``weight=``; its ``__call__`` is ``np.average(loss, weights=w)``,
  our weighted mean Σwℓ/Σw.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn._loss import loss as sk_loss
from sklearn._loss._loss import CyHalfBinomialLoss, CyHalfSquaredError, CyHuberLoss
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.linear_model._sgd_fast import (
    EpsilonInsensitive,
    Hinge,
    ModifiedHuber,
    SquaredEpsilonInsensitive,
    SquaredHinge,
)

import losscore

N = 257  # odd, not a multiple of anything the engine chunks by
_KINK_GAP = 1e-3
DTYPES = [np.float64, np.float32]

# float64: both sides compute the same closed forms, so only rounding differs.
# float32: the reference is sklearn run in float64 on the float32 inputs (upcast exactly),
# so the tolerance is a few float32 ulps of *our* rounding. (sklearn's own float32 path is
# not a precise reference: HalfMultinomialLoss computes in float32 and its lse − f_y cancels,
# an absolute error of ~ulp(|f|), 5e-4 relative on small losses.)
RTOL = {np.float64: 1e-12, np.float32: 2e-6}
# atol: a few ulps of 1 (× weights ≤ 2), for softmax gradients p − q that cancel where p ≈ q.
ATOL = {np.float64: 1e-14, np.float32: 4 * float(np.finfo(np.float32).eps)}


def _tol(dtype: Any) -> dict[str, float]:
    return {"rtol": RTOL[dtype], "atol": ATOL[dtype]}


def _away_from(values: np.ndarray, kinks: tuple[float, ...]) -> np.ndarray:
    """Move every value lying within 2·_KINK_GAP of a kink to 2·_KINK_GAP from it."""
    out = values.copy()
    for k in kinks:
        close = np.abs(out - k) < 2 * _KINK_GAP
        out[close] = k + np.where(out[close] >= k, 2 * _KINK_GAP, -2 * _KINK_GAP)
    return out


def _weights(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.0, 2.0, size=n)
    w[::7] = 0.0  # zero weights must contribute nothing
    return w


# ---------------------------------------------------------------------------------------------
# sklearn._loss: the vectorised losses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossCase:
    """One sklearn._loss class against one losscore loss.

    ours = scale · sklearn for value, gradient and Hessian (after the label map).
    """

    id: str
    make: Callable[[], Any]
    ours: str
    params: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0
    kind: str = "regression"  # or "binary01"
    kinks: tuple[float, ...] = ()  # residual values r where the loss has a kink
    compare_hessian: bool = True


LOSS_CASES = [
    LossCase("half_squared_error", sk_loss.HalfSquaredError, "l2", scale=2.0),
    # approx_hessian: sklearn reports 1 where the true (our) Hessian is 0.
    LossCase("absolute_error", sk_loss.AbsoluteError, "l1", kinks=(0.0,), compare_hessian=False),
    *(
        LossCase(
            f"pinball_q{q}",
            lambda q=q: sk_loss.PinballLoss(quantile=q),
            "quantile",
            {"q": q},
            kinks=(0.0,),
            compare_hessian=False,
        )
        for q in (0.1, 0.5, 0.9)
    ),
    *(
        LossCase(
            f"huber_delta{d}",
            lambda d=d: sk_loss.HuberLoss(delta=d),
            "huber",
            {"delta": d},
            kinks=(-d, d),
        )
        for d in (0.3, 1.0, 2.5)
    ),
    LossCase("half_binomial", sk_loss.HalfBinomialLoss, "log_loss", kind="binary01"),
    LossCase("exponential", sk_loss.ExponentialLoss, "exponential", kind="binary01"),
]


def _data(case: LossCase, dtype: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if case.kind == "binary01":
        y = rng.integers(0, 2, size=N).astype(dtype)
        f = rng.normal(0.0, 3.0, size=N).astype(dtype)
        return f, y
    y = rng.normal(0.0, 2.0, size=N)
    r = _away_from(rng.normal(0.0, 2.0, size=N), case.kinks)
    return (y + r).astype(dtype), y.astype(dtype)


def _f64(a: np.ndarray | None) -> Any:
    return None if a is None else a.astype(np.float64)


def _sk_eval(
    case: LossCase, f: np.ndarray, y: np.ndarray, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's pointwise (weighted) loss, gradient and Hessian, computed in float64."""
    obj = case.make()
    f, y, w = _f64(f), _f64(y), _f64(w)
    value = obj.loss(y_true=y, raw_prediction=f, sample_weight=w)
    grad, hess = obj.gradient_hessian(y_true=y, raw_prediction=f, sample_weight=w)
    # gradient() and loss_gradient() are separate code paths in sklearn: they must agree.
    np.testing.assert_array_equal(obj.gradient(y_true=y, raw_prediction=f, sample_weight=w), grad)
    return value, grad, hess


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c.id)
def test_loss_module_pointwise(case: LossCase, weighted: bool, dtype: Any) -> None:
    f, y = _data(case, dtype, seed=zlib.crc32(case.id.encode()))
    w = _weights(np.random.default_rng(1), N).astype(dtype) if weighted else None
    sk_value, sk_grad, sk_hess = _sk_eval(case, f, y, w)

    ev = losscore.evaluate(case.ours, f, y, weight=w, reduction="none", hessian=True, **case.params)
    assert ev.elementwise.dtype == dtype
    assert ev.gradient.dtype == dtype
    assert ev.hessian is not None
    assert ev.hessian.dtype == dtype
    tol = _tol(dtype)
    np.testing.assert_allclose(ev.elementwise, case.scale * sk_value, **tol)
    np.testing.assert_allclose(ev.gradient, case.scale * sk_grad, **tol)
    if case.compare_hessian:
        np.testing.assert_allclose(ev.hessian, case.scale * sk_hess, **tol)
    else:
        np.testing.assert_array_equal(ev.hessian, 0)

    # The same targets in the {-1, +1} convention give the same result.
    if case.kind == "binary01":
        ev_pm = losscore.evaluate(case.ours, f, 2 * y - 1, weight=w, reduction="none")
        np.testing.assert_array_equal(ev_pm.elementwise, ev.elementwise)
        np.testing.assert_array_equal(ev_pm.gradient, ev.gradient)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c.id)
def test_loss_module_reductions(case: LossCase, dtype: Any) -> None:
    """mean = sklearn's ``__call__`` (np.average with weights); sum = Σ w·ℓ."""
    f, y = _data(case, dtype, seed=zlib.crc32(case.id.encode()) + 1)
    w = _weights(np.random.default_rng(2), N).astype(dtype)
    obj = case.make()
    f64, y64, w64 = _f64(f), _f64(y), _f64(w)
    sk_point = obj.loss(y_true=y64, raw_prediction=f64)
    sk_grad = obj.gradient(y_true=y64, raw_prediction=f64, sample_weight=w64)
    tol = _tol(dtype)

    for weight in (None, w):
        sk_mean = case.scale * obj(y64, f64, sample_weight=_f64(weight))
        ev = losscore.evaluate(case.ours, f, y, weight=weight, reduction="mean", **case.params)
        assert ev.value == pytest.approx(sk_mean, rel=tol["rtol"] * 10)

    sk_sum = case.scale * float(np.sum(w64 * sk_point))
    ev_sum = losscore.evaluate(case.ours, f, y, weight=w, reduction="sum", **case.params)
    assert ev_sum.value == pytest.approx(sk_sum, rel=tol["rtol"] * 10)
    np.testing.assert_allclose(ev_sum.gradient, case.scale * sk_grad, **tol)

    # gradient of the weighted mean = w·ℓ' / Σw
    ev_mean = losscore.evaluate(case.ours, f, y, weight=w, reduction="mean", **case.params)
    w_sum = float(np.sum(w64))
    np.testing.assert_allclose(ev_mean.gradient, case.scale * sk_grad / w_sum, **tol)
    assert ev_mean.weight_sum == pytest.approx(w_sum)


def test_log_loss_extreme_logits() -> None:
    """Logits ±30 and ±1000 with both labels: finite, and equal to sklearn up to its rounding.

    sklearn evaluates log(1 + e^f) − y·f, which cancels catastrophically when y = 1 and f is
    large (f = 30: true 9.3576e-14, sklearn 9.2371e-14), so its *value* is only accurate to
    about eps·|f| in absolute terms; ours uses softplus(−z) and is accurate relatively.
    Gradient and Hessian are computed without cancellation on both sides.
    """
    f = np.array([30.0, -30.0, 1000.0, -1000.0, 36.0, -37.5, 40.0, -40.0] * 2)
    y = np.repeat([1.0, 0.0], 8)
    obj = sk_loss.HalfBinomialLoss()
    sk_value = obj.loss(y_true=y, raw_prediction=f)
    sk_grad, sk_hess = obj.gradient_hessian(y_true=y, raw_prediction=f)
    ev = losscore.evaluate("log_loss", f, y, reduction="none", hessian=True)
    assert ev.hessian is not None
    # sklearn's absolute rounding error is a few ulps of |f|, per element
    err = np.abs(ev.elementwise - sk_value)
    assert np.all(err <= 1e-12 * np.abs(sk_value) + 4 * np.abs(f) * 2**-52), err
    np.testing.assert_allclose(ev.gradient, sk_grad, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ev.hessian, sk_hess, rtol=1e-12, atol=0)
    # where sklearn's formula cancels, ours keeps relative accuracy: log1p(e^{-30})
    assert ev.elementwise[0] == pytest.approx(np.log1p(np.exp(-30.0)), rel=1e-15)


# ---------------------------------------------------------------------------------------------
# Multinomial: class indices, label smoothing, probability targets
# ---------------------------------------------------------------------------------------------


def _multinomial_data(
    dtype: Any, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 3.0, size=(N, k)).astype(dtype)
    labels = rng.integers(0, k, size=N)
    return f, labels, _weights(rng, N).astype(dtype), sk_loss.HalfMultinomialLoss(n_classes=k)


def _per_class_losses(obj: Any, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's loss, gradient, Hessian for every label j, in float64: shapes (k, N[, k])."""
    f = f.astype(np.float64)
    n, k = f.shape
    values, grads, hesses = [], [], []
    for j in range(k):
        yj = np.full(n, j, dtype=f.dtype)
        values.append(obj.loss(y_true=yj, raw_prediction=f))
        g, h = obj.gradient_hessian(y_true=yj, raw_prediction=f)
        grads.append(g)
        hesses.append(h)
    return np.stack(values), np.stack(grads), np.stack(hesses)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("k", [2, 3, 7])
def test_multinomial_class_indices(k: int, weighted: bool, dtype: Any) -> None:
    f, labels, w, obj = _multinomial_data(dtype, k, seed=k)
    sw = w if weighted else None
    # sklearn wants float labels of the raw_prediction dtype; it runs in float64 (see RTOL)
    y, f64, sw64 = labels.astype(np.float64), f.astype(np.float64), _f64(sw)
    sk_value = obj.loss(y_true=y, raw_prediction=f64, sample_weight=sw64)
    sk_grad, sk_hess = obj.gradient_hessian(y_true=y, raw_prediction=f64, sample_weight=sw64)

    ev = losscore.evaluate(
        "softmax_cross_entropy", f, labels, weight=sw, reduction="none", hessian=True
    )
    assert ev.hessian is not None
    assert ev.elementwise.shape == (N,)
    assert ev.gradient.dtype == dtype
    tol = _tol(dtype)
    np.testing.assert_allclose(ev.elementwise, sk_value, **tol)
    np.testing.assert_allclose(ev.gradient, sk_grad, **tol)
    np.testing.assert_allclose(ev.hessian, sk_hess, **tol)

    ev_mean = losscore.evaluate("softmax_cross_entropy", f, labels, weight=sw)
    assert ev_mean.value == pytest.approx(obj(y, f64, sample_weight=sw64), rel=tol["rtol"] * 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
def test_multinomial_label_smoothing_and_probability_targets(smoothing: float, dtype: Any) -> None:
    """ℓ(f, q) = Σ_j q_j · sklearn_loss(f, j) for any distribution q, and likewise ∇ℓ.

    Label smoothing with indices y is q = (1 − s)·e_y + s/k; soft targets t give
    q = (1 − s)·t + s/k. (The Hessian diagonal p(1 − p) does not depend on q.)
    """
    k = 5
    f, labels, w, obj = _multinomial_data(dtype, k, seed=11)
    per_value, per_grad, per_hess = _per_class_losses(obj, f)
    rng = np.random.default_rng(12)
    soft = rng.dirichlet(np.full(k, 0.7), size=N)
    tol = _tol(dtype)
    soft = soft.astype(dtype)
    for target, t in ((labels, np.eye(k)[labels]), (soft, soft.astype(np.float64))):
        q = (1.0 - smoothing) * t + smoothing / k  # (N, k), float64
        want_value = np.einsum("nj,jn->n", q, per_value.astype(np.float64))
        want_grad = np.einsum("nj,jnc->nc", q, per_grad.astype(np.float64))
        ev = losscore.evaluate(
            "softmax_cross_entropy",
            f,
            target,
            weight=w,
            reduction="none",
            hessian=True,
            label_smoothing=smoothing,
        )
        assert ev.hessian is not None
        assert ev.gradient.dtype == dtype
        # The value is a q-weighted sum of non-negative losses (no cancellation); the gradient
        # Σ_j q_j (p − e_j) = p − q cancels where p ≈ q, hence an absolute tolerance of a few
        # ulps of 1 there.
        np.testing.assert_allclose(ev.elementwise, w * want_value, **tol)
        np.testing.assert_allclose(ev.gradient, w[:, None] * want_grad, **tol)
        np.testing.assert_allclose(ev.hessian, w[:, None] * per_hess[0], **tol)


def test_multinomial_large_logits_match() -> None:
    """Logits of size 1e3: agreement up to sklearn's rounding, which is absolute.

    sklearn computes (max_j f_j + log Σ e^{f_j − max}) − f_y: when f_y ≈ max ≈ 1e3 the final
    subtraction leaves an absolute error of a few ulps of 1e3 (≈ 1e-13). Ours sums
    non-negative terms, log Σ e^{f_j − m} + (m − f_y), and is accurate relatively: row 1 is
    1 + log1p(e^{-1}) (+ e^{-2000}, below the float range) to the last bit.
    """
    f = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 999.0, 1000.0], [5.0, 5.0, 5.0]])
    labels = np.array([1, 1, 2])
    obj = sk_loss.HalfMultinomialLoss(n_classes=3)
    sk_value = obj.loss(y_true=labels.astype(float), raw_prediction=f)
    sk_grad = obj.gradient(y_true=labels.astype(float), raw_prediction=f)
    ev = losscore.evaluate("softmax_cross_entropy", f, labels, reduction="none")
    np.testing.assert_allclose(ev.elementwise, sk_value, rtol=1e-15, atol=4 * 1000 * 2**-52)
    np.testing.assert_allclose(ev.gradient, sk_grad, rtol=1e-14, atol=1e-300)
    assert ev.elementwise[1] == 1.0 + np.log1p(np.exp(-1.0))
    assert ev.elementwise[2] == pytest.approx(np.log(3.0), rel=1e-15)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_multinomial_dominant_class_keeps_relative_accuracy(dtype: Any) -> None:
    """k = 2 softmax cross-entropy is the binomial loss: ce([a, b], 0) = log(1 + e^{b − a}).

    sklearn's HalfBinomialLoss with y = 0 evaluates log1p(e^f) at f = b − a, which is accurate
    relatively even when the loss is ~1e-40. This caught a losscore bug: log(Σ e^{f_j − m})
    rounded Σ ≈ 1 + 1e-13 to lose all relative accuracy (float64 2.5e-3 relative error at a
    1e-13 loss; float32 returned 0 for a 1e-8 loss). The kernel now uses log1p of the sum
    over the non-maximal classes.
    """
    gaps = np.array([0.5, 5.0, 17.0, 30.0, 36.0, 50.0, 80.0], dtype=dtype)
    f = np.stack([gaps, np.zeros_like(gaps)], axis=1)  # class 0 leads by `gap`
    labels = np.zeros(len(gaps), dtype=int)
    ev = losscore.evaluate("softmax_cross_entropy", f, labels, reduction="none", hessian=True)
    obj = sk_loss.HalfBinomialLoss()
    raw = -gaps.astype(np.float64)  # b − a, exact
    sk_value = obj.loss(y_true=np.zeros(len(gaps)), raw_prediction=raw)
    sk_grad, sk_hess = obj.gradient_hessian(y_true=np.zeros(len(gaps)), raw_prediction=raw)
    assert np.all(ev.elementwise > 0)
    tol = _tol(dtype)
    np.testing.assert_allclose(ev.elementwise, sk_value, rtol=tol["rtol"], atol=0)
    # ∂ce/∂f_1 = p_1 = σ(b − a), sklearn's gradient at y = 0; ∂ce/∂f_0 = −p_1 up to rounding
    # of 1 − p_0 (an absolute error of ~eps, as in every softmax implementation).
    np.testing.assert_allclose(ev.gradient[:, 1], sk_grad, rtol=tol["rtol"], atol=0)
    np.testing.assert_allclose(ev.gradient[:, 0], -sk_grad, rtol=tol["rtol"], atol=tol["atol"])
    assert ev.hessian is not None
    np.testing.assert_allclose(ev.hessian[:, 1], sk_hess, rtol=tol["rtol"], atol=0)


# ---------------------------------------------------------------------------------------------
# SGD's scalar losses (py_loss / py_dloss)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SgdCase:
    id: str
    sk: Any
    ours: str
    params: dict[str, float]
    binary: bool
    kinks: tuple[float, ...]  # margins z (binary) or residuals r (regression)


SGD_CASES = [
    *(SgdCase(f"hinge_t{t}", Hinge(t), "hinge", {"threshold": t}, True, (t,)) for t in (1.0, 0.5)),
    # SGDClassifier(loss="perceptron") is Hinge(0.0); so is our perceptron.
    SgdCase("hinge_t0_as_hinge", Hinge(0.0), "hinge", {"threshold": 0.0}, True, (0.0,)),
    SgdCase("hinge_t0_as_perceptron", Hinge(0.0), "perceptron", {}, True, (0.0,)),
    *(
        SgdCase(
            f"squared_hinge_t{t}", SquaredHinge(t), "squared_hinge", {"threshold": t}, True, (t,)
        )
        for t in (1.0, 0.5, 0.0)
    ),
    SgdCase("modified_huber", ModifiedHuber(), "modified_huber", {}, True, (-1.0, 1.0)),
    *(
        SgdCase(
            f"eps_insensitive_{e}",
            EpsilonInsensitive(e),
            "epsilon_insensitive",
            {"epsilon": e},
            False,
            (-e, e),
        )
        for e in (0.0, 0.1, 0.7)
    ),
    *(
        SgdCase(
            f"squared_eps_insensitive_{e}",
            SquaredEpsilonInsensitive(e),
            "squared_epsilon_insensitive",
            {"epsilon": e},
            False,
            (-e, e),
        )
        for e in (0.0, 0.1, 0.7)
    ),
]


def _sgd_data(case: SgdCase, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if case.binary:
        y = rng.choice([-1.0, 1.0], size=N)
        z = _away_from(rng.normal(0.0, 2.0, size=N), case.kinks)
        return z * y, y  # f = z·y so the margin y·f is z
    y = rng.normal(0.0, 2.0, size=N)
    r = _away_from(rng.normal(0.0, 1.5, size=N), case.kinks)
    return y + r, y


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", SGD_CASES, ids=lambda c: c.id)
def test_sgd_losses(case: SgdCase, weighted: bool, dtype: Any) -> None:
    f, y = _sgd_data(case, seed=zlib.crc32(case.id.encode()))
    f, y = f.astype(dtype), y.astype(dtype)
    # py_loss / py_dloss take (p, y) as C doubles: evaluate them at the dtype-rounded inputs.
    sk_value = np.array([case.sk.py_loss(float(p), float(t)) for p, t in zip(f, y, strict=True)])
    sk_grad = np.array([case.sk.py_dloss(float(p), float(t)) for p, t in zip(f, y, strict=True)])
    w = _weights(np.random.default_rng(3), N).astype(dtype) if weighted else None
    ev = losscore.evaluate(case.ours, f, y, weight=w, reduction="none", **case.params)
    assert ev.gradient.dtype == dtype
    ww = np.ones(N) if w is None else w.astype(np.float64)
    tol = _tol(dtype)
    np.testing.assert_allclose(ev.elementwise, ww * sk_value, **tol)
    np.testing.assert_allclose(ev.gradient, ww * sk_grad, **tol)

    ev_sum = losscore.evaluate(case.ours, f, y, weight=w, reduction="sum", **case.params)
    assert ev_sum.value == pytest.approx(float(np.sum(ww * sk_value)), rel=tol["rtol"] * 10)


@pytest.mark.parametrize("labels01", [False, True], ids=["pm1", "01"])
def test_sgd_binary_label_conventions(labels01: bool) -> None:
    """SGD maps classes to ±1 before calling py_loss; we accept {0, 1} and map 0 → −1."""
    rng = np.random.default_rng(5)
    y_pm = rng.choice([-1.0, 1.0], size=N)
    f = _away_from(rng.normal(0.0, 2.0, size=N), (-1.0, 1.0)) * y_pm
    target = (y_pm + 1) / 2 if labels01 else y_pm
    sk = ModifiedHuber()
    sk_value = np.array([sk.py_loss(p, t) for p, t in zip(f, y_pm, strict=True)])
    ev = losscore.evaluate("modified_huber", f, target, reduction="none")
    np.testing.assert_allclose(ev.elementwise, sk_value, rtol=1e-15)


def test_sgd_kink_conventions_documented() -> None:
    """At the kinks sklearn's SGD takes a one-sided subgradient; we take the minimum-norm one.

    Not a mismatch to hide: this pins both conventions so a change on either side is noticed.
    """
    # hinge at z = t: sklearn −y, ours 0 (both valid subgradients of max(0, t − z))
    assert Hinge(1.0).py_dloss(1.0, 1.0) == -1.0
    assert losscore.evaluate("hinge", [1.0], [1.0], reduction="none").gradient[0] == 0.0
    # epsilon-insensitive at |r| = ε: both 0
    assert EpsilonInsensitive(0.5).py_dloss(1.5, 1.0) == 0.0
    assert (
        losscore.evaluate(
            "epsilon_insensitive", [1.5], [1.0], reduction="none", epsilon=0.5
        ).gradient[0]
        == 0.0
    )
    # absolute error at r = 0: sklearn −1, ours 0
    sk_abs = sk_loss.AbsoluteError().gradient(y_true=np.zeros(1), raw_prediction=np.zeros(1))
    assert sk_abs[0] == -1.0
    assert losscore.evaluate("l1", [0.0], [0.0], reduction="none").gradient[0] == 0.0
    # pinball at r = 0: sklearn −q, ours 0
    sk_pin = sk_loss.PinballLoss(quantile=0.3).gradient(
        y_true=np.zeros(1), raw_prediction=np.zeros(1)
    )
    assert sk_pin[0] == pytest.approx(-0.3)
    assert losscore.evaluate("quantile", [0.0], [0.0], reduction="none", q=0.3).gradient[0] == 0.0


def test_sgd_uses_the_loss_module() -> None:
    """SGD's log_loss/huber/squared_error are the sklearn._loss classes compared above."""
    assert SGDClassifier.loss_functions["log_loss"][0] is CyHalfBinomialLoss
    assert SGDClassifier.loss_functions["perceptron"] == (Hinge, 0.0)
    assert SGDRegressor.loss_functions["huber"][0] is CyHuberLoss
    assert SGDRegressor.loss_functions["squared_error"][0] is CyHalfSquaredError
    assert sklearn.__version__
