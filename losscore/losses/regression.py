"""Regression losses on the residual r = prediction − target (PyTorch's sign convention).

Kink convention (all losses here): where the loss is not differentiable the
gradient is the **minimum-norm subgradient** (0 at the minimum of |r|, of the
pinball loss and at the edge of the ε-tube), and the second derivative is the
one of the branch that the formula assigns to the kink point. The Hessian of
piecewise-linear parts is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore._fused import (
    FusedKernel,
    add_compensated,
    block_size,
    compensated_total,
    compilable,
    kernel,
    radd,
    weighed,
)
from losscore._numerics import log_cosh, sech2
from losscore._parallel import scratch
from losscore.losses._base import Loss, Ramps
from losscore.spec import Interval, KinkSpec, LossSpec, ParamSpec, TrainingSpec

_REG_LABELS = "none: targets are real numbers"
_REAL = "real numbers"

NONNEG = Interval(0.0, None)
POSITIVE = Interval(0.0, None, low_inclusive=False)


def _l1_kernel(
    prediction: FloatArray,
    target: NDArray[Any],
    loss_out: FloatArray,
    grad_out: FloatArray,
    hess_out: FloatArray | None,
) -> None:
    np.subtract(prediction, target, out=grad_out)
    np.abs(grad_out, out=loss_out)
    np.sign(grad_out, out=grad_out)
    if hess_out is not None:
        hess_out.fill(0)


def _l1_ramps(y: FloatArray) -> Ramps:
    """|f − y| = y − f + 2·max(0, f − y)."""
    n = y.shape[0]
    return Ramps(y.copy(), np.full(n, -1.0), y.reshape(n, 1).copy(), np.full((n, 1), 2.0))


class L1Loss(Loss):
    spec = LossSpec(
        name="l1",
        aliases=("mae", "absolute_error"),
        kind="regression",
        title="Absolute error (L1)",
        params=(),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = |r|,\quad r = f - y",
        derivative=r"\ell'(r) = \operatorname{sign}(r)",
        second_derivative=r"\ell''(r) = 0",
        kinks="At r = 0 the gradient is 0 (minimum-norm subgradient of [-1, 1]).",
        reference="torch.nn.functional.l1_loss; sklearn AbsoluteError (which halves nothing either)",
        smooth=False,
        target="real",
        kink_points=(KinkSpec(0.0),),
        training=TrainingSpec(tasks=("regression",), linear_pieces=True),
    )

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        return _l1_ramps(target)

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        _l1_kernel(prediction, target, loss_out, grad_out, hess_out)


@kernel
def _l2_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """ℓ = r·r, ℓ' = r·2, ℓ'' = 2 (the NumPy kernel's operations)."""
    (two,) = consts
    n = p.shape[0]
    weighted = w is not None
    one = p.dtype.type(1)
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    for lo in range(0, n, block):
        s = acc  # the block's sum, in acc's dtype
        for i in range(np.uint64(lo), np.uint64(min(lo + block, n))):
            r = p[i] - t[i]
            probe = radd(probe, p[i] * zero + t[i] * zero)  # NaN unless both finite
            wi = w[i] if w is not None else one
            ev, gv, hv, term = weighed(r * r, r * two, two, wi, s1, s2, c, weighted)
            if el is not None:
                el[i] = ev
            if g is not None:
                g[i] = gv
            if h is not None:
                h[i] = hv
            s = radd(s, term)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, 0


class L2Loss(Loss):
    spec = LossSpec(
        name="l2",
        aliases=("mse", "squared_error"),
        kind="regression",
        title="Squared error (L2)",
        params=(),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = r^2,\quad r = f - y",
        derivative=r"\ell'(r) = 2r",
        second_derivative=r"\ell''(r) = 2",
        kinks="None: smooth everywhere.",
        reference="torch.nn.functional.mse_loss (no 1/2 factor; sklearn's HalfSquaredError is half of it)",
        target="real",
        training=TrainingSpec(tasks=("regression",), constant_hessian=2.0),
    )

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        np.subtract(prediction, target, out=grad_out)
        np.square(grad_out, out=loss_out)
        grad_out *= 2
        if hess_out is not None:
            hess_out.fill(2)

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        if not compilable(prediction, target):
            return None
        return FusedKernel(_l2_fused, (prediction.dtype.type(2),))


@kernel
def _smooth_l1_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """:func:`_smooth_l1_branch_free` per element, as selects: with q = [|r| < β] and
    m = clip(r, ±β): ℓ = (r·r)·c inside, |r| − β/2 outside; ℓ' = m·(1/β); ℓ'' = q·(1/β)."""
    beta, half_beta, c_half, inv = consts
    n = p.shape[0]
    weighted = w is not None
    one = p.dtype.type(1)
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    for lo in range(0, n, block):
        s = acc  # the block's sum, in acc's dtype
        for i in range(np.uint64(lo), np.uint64(min(lo + block, n))):
            r = p[i] - t[i]
            probe = radd(probe, p[i] * zero + t[i] * zero)  # NaN unless both finite
            a = abs(r)
            inside = a < beta
            value = (r * r) * c_half if inside else a - half_beta
            m = min(max(r, -beta), beta)
            wi = w[i] if w is not None else one
            ev, gv, hv, term = weighed(
                value, m * inv, inv if inside else zero, wi, s1, s2, c, weighted
            )
            if el is not None:
                el[i] = ev
            if g is not None:
                g[i] = gv
            if h is not None:
                h[i] = hv
            s = radd(s, term)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, 0


class SmoothL1Loss(Loss):
    spec = LossSpec(
        name="smooth_l1",
        aliases=("smooth_l1_loss",),
        kind="regression",
        title="Smooth L1",
        params=(
            ParamSpec("beta", 1.0, NONNEG, "Width of the quadratic zone; beta = 0 is exactly l1."),
        ),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=(
            r"\ell(r) = \begin{cases} \tfrac{1}{2} r^2 / \beta & |r| < \beta \\"
            r" |r| - \tfrac{1}{2}\beta & \text{otherwise} \end{cases}"
        ),
        derivative=(
            r"\ell'(r) = \begin{cases} r/\beta & |r| < \beta \\"
            r" \operatorname{sign}(r) & \text{otherwise} \end{cases}"
        ),
        second_derivative=r"\ell''(r) = 1/\beta \text{ if } |r| < \beta \text{ else } 0",
        kinks=(
            "The gradient is continuous. At |r| = beta the second derivative is 0 (linear branch). "
            "With beta = 0 the loss is l1, with gradient 0 at r = 0."
        ),
        reference="torch.nn.functional.smooth_l1_loss (Girshick, Fast R-CNN, 2015)",
        target="real",
        kink_points=(KinkSpec(param="beta", scale=-1.0, order=2), KinkSpec(param="beta", order=2)),
        training=TrainingSpec(tasks=("regression",), linear_pieces=True),
    )

    def kinks(self, params: Mapping[str, float]) -> list[tuple[float, int]]:
        if params["beta"] == 0.0:
            return [(0.0, 1)]  # exactly l1
        return super().kinks(params)

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return params["beta"] == 0.0

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        return _l1_ramps(target)  # beta = 0: exactly l1

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        beta = params["beta"]
        if beta == 0.0:
            _l1_kernel(prediction, target, loss_out, grad_out, hess_out)
            return
        dt = prediction.dtype.type
        r = grad_out
        np.subtract(prediction, target, out=r)
        fmax = 0.25 * float(np.finfo(prediction.dtype).max)
        if beta * beta < fmax and 1.0 / beta < fmax and dt(beta) * dt(1.0 / beta) == 1:
            b, hb, c, inv = dt(beta), dt(0.5 * beta), dt(0.5 / beta), dt(1.0 / beta)
            _smooth_l1_branch_free(r, b, hb, c, inv, loss_out, hess_out)
            return
        a = np.abs(r)
        quad = a < dt(beta)
        # value: |r| - beta/2 outside, r^2 / (2 beta) inside
        np.subtract(a, dt(0.5 * beta), out=loss_out)
        if 1.0 / beta > float(np.finfo(prediction.dtype).max):
            # Subnormal beta: 1/beta overflows, so r^2 * (0.5/beta) would give 0·inf = NaN
            # at r = 0. Divide instead (|r| < beta makes r/beta < 1); the Hessian 1/beta
            # exceeds the float range and is +inf on the quadratic zone, 0 elsewhere.
            ratio = np.divide(r, dt(beta), out=np.zeros_like(r), where=quad)
            np.copyto(loss_out, dt(0.5) * r * ratio, where=quad)
            if hess_out is not None:
                hess_out.fill(0)
                np.copyto(hess_out, dt(np.inf), where=quad)
            np.sign(r, out=r)
            np.copyto(r, ratio, where=quad)
            return
        q = np.square(r)
        q *= dt(0.5 / beta)
        np.putmask(loss_out, quad, q)
        if hess_out is not None:
            np.multiply(quad, dt(1.0 / beta), out=hess_out)
        inv = dt(1.0 / beta)
        if dt(beta) * inv == 1:
            # clip(r, ±beta) · (1/beta): r/beta inside, exactly sign(r) outside; no masks
            np.clip(r, -dt(beta), dt(beta), out=r)
            r *= inv
        else:
            np.copyto(r, np.sign(r), where=~quad)
            np.multiply(r, inv, out=r, where=quad)

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        """The branch-free regime of :meth:`kernel` only (0 < β, β² and 1/β in range,
        β·(1/β) = 1 in the dtype); beta = 0 (l1) and extreme β keep the NumPy kernel."""
        beta = params["beta"]
        if beta == 0.0 or not compilable(prediction, target):
            return None
        dt = prediction.dtype.type
        fmax = 0.25 * float(np.finfo(prediction.dtype).max)
        if not (beta * beta < fmax and 1.0 / beta < fmax and dt(beta) * dt(1.0 / beta) == 1):
            return None
        consts = (dt(beta), dt(0.5 * beta), dt(0.5 / beta), dt(1.0 / beta))
        return FusedKernel(_smooth_l1_fused, consts)


def _smooth_l1_branch_free(
    r: FloatArray,
    beta: np.floating[Any],
    half_beta: np.floating[Any],
    c: np.floating[Any],
    inv: np.floating[Any],
    loss_out: FloatArray,
    hess_out: FloatArray | None,
) -> None:
    """Smooth L1 kernel body without masked selects, bit-identical to the selects.

    With the 0/1 float mask q = [|r| < beta] and m = clip(r, ±beta) (m = r where q):
    value = (|r| − beta/2)·(1 − q) + q·m·m·c, exact because x·1 = x, x·0 = ±0 and x + ±0 = x
    (both terms are finite: the caller ensures beta² is); the gradient m/beta, written
    into *r*, is exactly sign(r) outside because the caller ensures beta·(1/beta) == 1.
    c = 0.5/beta, inv = 1/beta. Masked copies branch on random masks; these ufuncs do not.
    """
    q = scratch(0, r.size, r.dtype).reshape(r.shape)
    np.abs(r, out=loss_out)
    np.less(loss_out, beta, out=q, casting="unsafe")
    if hess_out is not None:
        np.multiply(q, inv, out=hess_out)
    loss_out -= half_beta
    np.subtract(1, q, out=q)
    loss_out *= q
    np.subtract(1, q, out=q)
    np.clip(r, -beta, beta, out=r)
    q *= r
    q *= r
    q *= c
    loss_out += q
    r *= inv


@kernel
def _huber_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """The branch-free form of :meth:`HuberLoss.kernel` per element, as selects:
    ℓ = (r·r)·½ for |r| ≤ δ, (|r| − δ/2)·δ beyond; ℓ' = clip(r, ±δ); ℓ'' = [|r| ≤ δ]."""
    delta, half_delta, half = consts
    n = p.shape[0]
    weighted = w is not None
    one = p.dtype.type(1)
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    for lo in range(0, n, block):
        s = acc  # the block's sum, in acc's dtype
        for i in range(np.uint64(lo), np.uint64(min(lo + block, n))):
            r = p[i] - t[i]
            probe = radd(probe, p[i] * zero + t[i] * zero)  # NaN unless both finite
            a = abs(r)
            inside = a <= delta
            value = (r * r) * half if inside else (a - half_delta) * delta
            m = min(max(r, -delta), delta)
            wi = w[i] if w is not None else one
            ev, gv, hv, term = weighed(value, m, one if inside else zero, wi, s1, s2, c, weighted)
            if el is not None:
                el[i] = ev
            if g is not None:
                g[i] = gv
            if h is not None:
                h[i] = hv
            s = radd(s, term)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, 0


class HuberLoss(Loss):
    spec = LossSpec(
        name="huber",
        aliases=("huber_loss",),
        kind="regression",
        title="Huber",
        params=(
            ParamSpec("delta", 1.0, POSITIVE, "Threshold between the quadratic and linear zones."),
        ),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=(
            r"\ell(r) = \begin{cases} \tfrac{1}{2} r^2 & |r| \le \delta \\"
            r" \delta (|r| - \tfrac{1}{2}\delta) & \text{otherwise} \end{cases}"
        ),
        derivative=(
            r"\ell'(r) = \begin{cases} r & |r| \le \delta \\"
            r" \delta \operatorname{sign}(r) & \text{otherwise} \end{cases}"
        ),
        second_derivative=r"\ell''(r) = 1 \text{ if } |r| \le \delta \text{ else } 0",
        kinks="The gradient is continuous. At |r| = delta the second derivative is 1 (quadratic branch).",
        reference="torch.nn.functional.huber_loss; Huber (1964); huber = delta * smooth_l1(beta=delta)",
        target="real",
        kink_points=(
            KinkSpec(param="delta", scale=-1.0, order=2),
            KinkSpec(param="delta", order=2),
        ),
        training=TrainingSpec(tasks=("regression",), linear_pieces=True),
    )

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = prediction.dtype.type
        delta = dt(params["delta"])
        r = grad_out
        np.subtract(prediction, target, out=r)
        if params["delta"] * params["delta"] < 0.25 * float(np.finfo(prediction.dtype).max):
            # Branch-free, bit-identical form of the selects below (see _smooth_l1_branch_free)
            q = scratch(0, r.size, r.dtype).reshape(r.shape)
            np.abs(r, out=loss_out)
            np.less_equal(loss_out, delta, out=q, casting="unsafe")
            if hess_out is not None:
                np.copyto(hess_out, q)
            loss_out -= dt(0.5) * delta
            loss_out *= delta
            np.subtract(1, q, out=q)
            loss_out *= q
            np.subtract(1, q, out=q)
            np.clip(r, -delta, delta, out=r)  # r inside, exactly delta·sign(r) outside
            q *= r
            q *= r
            q *= dt(0.5)
            loss_out += q
            return
        a = np.abs(r)
        quad = a <= delta
        np.subtract(a, dt(0.5) * delta, out=loss_out)
        loss_out *= delta
        q = np.square(r)
        q *= dt(0.5)
        np.putmask(loss_out, quad, q)
        if hess_out is not None:
            np.copyto(hess_out, quad, casting="unsafe")
        np.clip(r, -delta, delta, out=r)  # r inside, exactly delta·sign(r) outside

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        """The branch-free regime of :meth:`kernel` only (δ² < max/4)."""
        delta = params["delta"]
        if not compilable(prediction, target):
            return None
        if not delta * delta < 0.25 * float(np.finfo(prediction.dtype).max):
            return None
        dt = prediction.dtype.type
        consts = (dt(delta), dt(0.5) * dt(delta), dt(0.5))
        return FusedKernel(_huber_fused, consts)


class PseudoHuberLoss(Loss):
    spec = LossSpec(
        name="pseudo_huber",
        aliases=("pseudohuber", "charbonnier"),
        kind="regression",
        title="Pseudo-Huber",
        params=(
            ParamSpec(
                "delta",
                1.0,
                POSITIVE,
                "Scale: r²/2 for residuals well inside delta, delta times their size well beyond.",
            ),
        ),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = \delta^2\left(\sqrt{1 + (r/\delta)^2} - 1\right)",
        derivative=r"\ell'(r) = r \big/ \sqrt{1 + (r/\delta)^2}",
        second_derivative=r"\ell''(r) = \left(1 + (r/\delta)^2\right)^{-3/2}",
        kinks="None: smooth everywhere; the second derivative is positive and decays as |r|^-3.",
        reference=(
            "Charbonnier et al. (1994); xgboost reg:pseudohubererror (huber_slope = delta). "
            "Computed without cancellation or overflow for residuals up to the largest float."
        ),
        target="real",
        training=TrainingSpec(tasks=("regression",)),
    )

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        """With a = |r| and v = min(a, δ)/max(a, δ) ≤ 1 (no overflow, no cancellation):
        inside (a ≤ δ, v = a/δ): ℓ = δ·a·v/(√(1+v²) + 1), ℓ' = r/√(1+v²), ℓ'' = (1+v²)^(-3/2);
        outside (v = δ/a): ℓ = δ·a/(√(1+v²) + v), ℓ' = sign(r)·δ/√(1+v²),
        ℓ'' = (v/√(1+v²))³."""
        dt = prediction.dtype.type
        delta = dt(params["delta"])
        r = grad_out
        np.subtract(prediction, target, out=r)
        a = np.abs(r)
        inside = a <= delta
        big = np.maximum(a, delta)
        v = np.minimum(a, delta)
        v /= big  # a/δ inside, δ/a outside (a is never 0 outside)
        root = np.hypot(v, dt(1))  # √(1 + v²) in [1, √2]
        # value: δ·a · (v or 1) / (root + (1 or v))
        np.multiply(a, delta, out=loss_out)
        loss_out *= np.where(inside, v, dt(1))
        loss_out /= root + np.where(inside, dt(1), v)
        if hess_out is not None:
            np.divide(np.where(inside, dt(1), v), root, out=hess_out)
            hess_out **= 3
        # gradient: r/root inside, sign(r)·δ/root outside
        np.copyto(r, np.sign(r) * delta, where=~inside)
        r /= root


class LogCoshLoss(Loss):
    spec = LossSpec(
        name="log_cosh",
        aliases=("logcosh",),
        kind="regression",
        title="Log-cosh",
        params=(),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = \log\cosh(r)",
        derivative=r"\ell'(r) = \tanh(r)",
        second_derivative=r"\ell''(r) = \operatorname{sech}^2(r)",
        kinks="None: smooth everywhere.",
        reference=(
            "Computed as log1p(2 sinh^2(r/2)) for |r| < 1 and |r| + log1p(e^{-2|r|}) - log 2 "
            "otherwise: finite and accurate up to the largest float."
        ),
        target="real",
        training=TrainingSpec(tasks=("regression",)),
    )

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        r = grad_out
        np.subtract(prediction, target, out=r)
        loss_out[...] = log_cosh(r)
        if hess_out is not None:
            hess_out[...] = sech2(r)
        np.tanh(r, out=r)


class QuantileLoss(Loss):
    spec = LossSpec(
        name="quantile",
        aliases=("pinball",),
        kind="regression",
        title="Quantile (pinball)",
        params=(
            ParamSpec("q", 0.5, Interval(0.0, 1.0, False, False), "The quantile level, in (0, 1)."),
        ),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=(
            r"\ell(r) = \max(q (y - f), (q - 1)(y - f)) = "
            r"\begin{cases} -q\,r & r \le 0 \\ (1-q)\,r & r > 0 \end{cases}"
        ),
        derivative=(
            r"\ell'(r) = \begin{cases} -q & r < 0 \\ 0 & r = 0 \\ 1 - q & r > 0 \end{cases}"
        ),
        second_derivative=r"\ell''(r) = 0",
        kinks="At r = 0 the gradient is 0 (minimum-norm subgradient of [-q, 1-q]).",
        reference="Koenker & Bassett (1978); sklearn PinballLoss (which uses -q at r = 0)",
        smooth=False,
        target="real",
        kink_points=(KinkSpec(0.0),),
        training=TrainingSpec(tasks=("regression",), linear_pieces=True),
    )

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        """q·y − q·f + max(0, f − y): −q·r for r ≤ 0, (1 − q)·r above (r = f − y)."""
        q = params["q"]
        n = target.shape[0]
        return Ramps(q * target, np.full(n, -q), target.reshape(n, 1).copy(), np.ones((n, 1)))

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = prediction.dtype.type
        q = dt(params["q"])
        r = grad_out
        np.subtract(prediction, target, out=r)
        over = r > 0
        np.multiply(r, -q, out=loss_out)
        np.copyto(loss_out, (dt(1) - q) * r, where=over)
        loss_out += dt(0)  # -0.0 -> +0.0 at r = 0
        under = r < 0
        grad_out[...] = np.where(over, dt(1) - q, np.where(under, -q, dt(0)))
        if hess_out is not None:
            hess_out.fill(0)


class EpsilonInsensitiveLoss(Loss):
    spec = LossSpec(
        name="epsilon_insensitive",
        aliases=("eps_insensitive",),
        kind="regression",
        title="Epsilon-insensitive (SVR)",
        params=(ParamSpec("epsilon", 0.1, NONNEG, "Half-width of the zero-loss tube."),),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = \max(0, |r| - \epsilon)",
        derivative=r"\ell'(r) = \operatorname{sign}(r)\,[|r| > \epsilon]",
        second_derivative=r"\ell''(r) = 0",
        kinks="At |r| = epsilon the gradient is 0 (minimum-norm subgradient).",
        reference="Vapnik (1995); sklearn SGDRegressor(loss='epsilon_insensitive'), LinearSVR",
        smooth=False,
        target="real",
        kink_points=(KinkSpec(param="epsilon", scale=-1.0), KinkSpec(param="epsilon")),
        training=TrainingSpec(tasks=("regression",), linear_pieces=True),
    )

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        """(y − ε) − f + max(0, f − (y − ε)) + max(0, f − (y + ε))."""
        eps = params["epsilon"]
        n = target.shape[0]
        K = np.empty((n, 2), order="F")
        np.subtract(target, eps, out=K[:, 0])
        np.add(target, eps, out=K[:, 1])
        return Ramps(K[:, 0].copy(), np.full(n, -1.0), K, np.ones((n, 2), order="F"))

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = prediction.dtype.type
        eps = dt(params["epsilon"])
        r = grad_out
        np.subtract(prediction, target, out=r)
        np.abs(r, out=loss_out)
        loss_out -= eps
        np.maximum(loss_out, 0, out=loss_out)
        np.sign(r, out=r)
        r *= loss_out > 0
        if hess_out is not None:
            hess_out.fill(0)


class SquaredEpsilonInsensitiveLoss(Loss):
    spec = LossSpec(
        name="squared_epsilon_insensitive",
        aliases=("squared_eps_insensitive",),
        kind="regression",
        title="Squared epsilon-insensitive",
        params=(ParamSpec("epsilon", 0.1, NONNEG, "Half-width of the zero-loss tube."),),
        label_convention=_REG_LABELS,
        prediction_domain=_REAL,
        target_domain=_REAL,
        formula=r"\ell(r) = \max(0, |r| - \epsilon)^2",
        derivative=r"\ell'(r) = 2\operatorname{sign}(r)\max(0, |r| - \epsilon)",
        second_derivative=r"\ell''(r) = 2\,[|r| > \epsilon]",
        kinks="The gradient is continuous. At |r| = epsilon the second derivative is 0.",
        reference="sklearn SGDRegressor(loss='squared_epsilon_insensitive'), LinearSVR(loss='squared_epsilon_insensitive')",
        target="real",
        kink_points=(
            KinkSpec(param="epsilon", scale=-1.0, order=2),
            KinkSpec(param="epsilon", order=2),
        ),
        training=TrainingSpec(tasks=("regression",)),
    )

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = prediction.dtype.type
        eps = dt(params["epsilon"])
        r = grad_out
        np.subtract(prediction, target, out=r)
        excess = np.abs(r)
        excess -= eps
        np.maximum(excess, 0, out=excess)
        np.square(excess, out=loss_out)
        if hess_out is not None:
            np.multiply(excess > 0, dt(2), out=hess_out)
        np.sign(r, out=r)
        r *= excess
        r *= 2


REGRESSION_LOSSES: tuple[type[Loss], ...] = (
    L1Loss,
    L2Loss,
    SmoothL1Loss,
    HuberLoss,
    PseudoHuberLoss,
    LogCoshLoss,
    QuantileLoss,
    EpsilonInsensitiveLoss,
    SquaredEpsilonInsensitiveLoss,
)
