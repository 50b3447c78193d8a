"""Binary classification losses on the margin z = y·f.

Labels: y ∈ {−1, +1}; a target in {0, 1} is mapped explicitly (0 → −1). Any
other label value, or a mix of 0 and −1 in one array, is an error naming the
first offending index. Gradients are with respect to the score f: ∂ℓ/∂f = y·ℓ'(z),
and ∂²ℓ/∂f² = ℓ''(z) because y² = 1.

Kink convention: the minimum-norm subgradient (0 at the hinge point of hinge
and perceptron); second derivatives follow the branch the formula assigns to
the kink point (given per loss).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, check_finite, check_same_shape
from losscore._fused import (
    FusedKernel,
    add_compensated,
    block_size,
    check_label,
    compensated_total,
    compilable,
    exp_nonpos_any,
    kernel,
    label_kinds,
    log1p_unit_any,
    radd,
    transcendental_kernel,
    weighed,
)
from losscore._numerics import sigmoid, sigmoid_product, softplus
from losscore._parallel import scratch
from losscore.losses._base import (
    Loss,
    Ramps,
    binary_labels_ok,
    check_binary_labels,
    check_interval,
    signed_labels,
)
from losscore.spec import Interval, KinkSpec, LossSpec, ParamSpec, TrainingSpec

_LABELS = "y in {-1, +1}; {0, 1} accepted and mapped 0 -> -1, 1 -> +1"
_SCORES = "real scores (logits / decision values)"


class MarginLoss(Loss):
    """A loss of the margin z = y·f. Subclasses implement :meth:`margin_kernel`."""

    def prepare_target(
        self, target: NDArray[Any], prediction: FloatArray, params: Mapping[str, float]
    ) -> NDArray[Any]:
        check_same_shape("target", target, prediction.shape, "prediction")
        if not binary_labels_ok(target):  # one pass; valid labels are finite
            check_finite("target", target)
            check_binary_labels(target)
        return np.ascontiguousarray(target).reshape(-1)

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        y = signed_labels(target, prediction.dtype)
        z = prediction * y
        self.margin_kernel(z, params, loss_out, grad_out, hess_out)
        grad_out *= y  # dl/df = y * dl/dz
        grad_out += 0  # -0.0 (a zero derivative times a sign) -> +0.0

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        """Write ℓ(z), ℓ'(z) and ℓ''(z)."""
        raise NotImplementedError


def _margin_ramps(y: FloatArray, threshold: float) -> Ramps:
    """max(0, t − y·f) for labels y = ±1: t − f + max(0, f − t) where y = +1,
    max(0, f − (−t)) where y = −1."""
    n = y.shape[0]
    pos = y > 0
    kink = np.where(pos, threshold, -threshold)
    return Ramps(
        np.where(pos, threshold, 0.0), np.where(pos, -1.0, 0.0), kink.reshape(n, 1), np.ones((n, 1))
    )


@kernel
def _hinge_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """:meth:`MarginLoss.kernel` + :meth:`HingeLoss.margin_kernel` per element: y = ±1 from
    the label, z = f·y, ℓ = max(t − z, 0), ℓ' = −[ℓ > 0]·y + 0 (no −0.0), ℓ'' = 0."""
    (threshold,) = consts
    n = p.shape[0]
    weighted = w is not None
    one = p.dtype.type(1)
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    zeros = minus = zero  # counts of 0 and -1 labels, in the dtype (an int64 count widens)
    for lo in range(0, n, block):
        s = acc  # the block's sum, in acc's dtype
        for i in range(np.uint64(lo), np.uint64(min(lo + block, n))):
            y = one if t[i] > 0 else -one
            gap = threshold - p[i] * y
            value = gap if gap >= zero else zero  # np.maximum(gap, 0)
            dz = -(one if value > zero else zero)
            probe, zeros, minus = check_label(probe, zeros, minus, p[i], t[i], zero, one)
            wi = w[i] if w is not None else one
            ev, gv, hv, term = weighed(value, dz * y + zero, zero, wi, s1, s2, c, weighted)
            if el is not None:
                el[i] = ev
            if g is not None:
                g[i] = gv
            if h is not None:
                h[i] = hv
            s = radd(s, term)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, label_kinds(zeros, minus)


class HingeLoss(MarginLoss):
    spec = LossSpec(
        name="hinge",
        aliases=("svm",),
        kind="binary",
        title="Hinge (linear SVM)",
        params=(
            ParamSpec(
                "threshold", 1.0, Interval(0.0, None), "Margin below which the loss is positive."
            ),
        ),
        label_convention=_LABELS,
        prediction_domain=_SCORES,
        target_domain="binary labels",
        formula=r"\ell(z) = \max(0, t - z),\quad z = y f",
        derivative=r"\partial\ell/\partial f = -y\,[z < t]",
        second_derivative=r"0",
        kinks="At z = t the gradient is 0 (minimum-norm subgradient of [-1, 0]).",
        reference="Cortes & Vapnik (1995); sklearn SGDClassifier(loss='hinge') (which uses -y at z = t)",
        smooth=False,
        target="binary_label",
        kink_points=(KinkSpec(param="threshold"),),
        training=TrainingSpec(tasks=("classification",), linear_pieces=True),
    )

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        return _margin_ramps(target, params["threshold"])

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = z.dtype.type
        np.subtract(dt(params["threshold"]), z, out=loss_out)
        np.maximum(loss_out, 0, out=loss_out)
        np.copyto(dz_out, loss_out > 0)
        np.negative(dz_out, out=dz_out)
        if hess_out is not None:
            hess_out.fill(0)

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        if not compilable(prediction, target):
            return None
        dt = prediction.dtype.type
        return FusedKernel(_hinge_fused, (dt(params["threshold"]),))


class SquaredHingeLoss(MarginLoss):
    spec = LossSpec(
        name="squared_hinge",
        aliases=("l2_svm",),
        kind="binary",
        title="Squared hinge (L2-SVM)",
        params=(
            ParamSpec(
                "threshold", 1.0, Interval(0.0, None), "Margin below which the loss is positive."
            ),
        ),
        label_convention=_LABELS,
        prediction_domain=_SCORES,
        target_domain="binary labels",
        formula=r"\ell(z) = \max(0, t - z)^2",
        derivative=r"\partial\ell/\partial f = -2y\max(0, t - z)",
        second_derivative=r"2\,[z < t]",
        kinks="The gradient is continuous; at z = t the second derivative is 0.",
        reference="sklearn LinearSVC(loss='squared_hinge'), SGDClassifier(loss='squared_hinge')",
        target="binary_label",
        kink_points=(KinkSpec(param="threshold", order=2),),
        training=TrainingSpec(tasks=("classification",)),
    )

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = z.dtype.type
        np.subtract(dt(params["threshold"]), z, out=dz_out)
        np.maximum(dz_out, 0, out=dz_out)
        np.square(dz_out, out=loss_out)
        if hess_out is not None:
            np.multiply(dz_out > 0, dt(2), out=hess_out)
        dz_out *= -2


class ModifiedHuberLoss(MarginLoss):
    spec = LossSpec(
        name="modified_huber",
        aliases=(),
        kind="binary",
        title="Modified Huber",
        params=(),
        label_convention=_LABELS,
        prediction_domain=_SCORES,
        target_domain="binary labels",
        formula=(
            r"\ell(z) = \begin{cases} 0 & z \ge 1 \\ (1 - z)^2 & -1 \le z < 1 \\"
            r" -4z & z < -1 \end{cases}"
        ),
        derivative=(
            r"\partial\ell/\partial f = y \cdot \begin{cases} 0 & z \ge 1 \\"
            r" -2(1 - z) & -1 \le z < 1 \\ -4 & z < -1 \end{cases}"
        ),
        second_derivative=r"2\,[-1 \le z < 1]",
        kinks="The gradient is continuous; the second derivative is 2 on [-1, 1) and 0 elsewhere.",
        reference="Zhang (2004); sklearn SGDClassifier(loss='modified_huber')",
        target="binary_label",
        kink_points=(KinkSpec(-1.0, order=2), KinkSpec(1.0, order=2)),
        training=TrainingSpec(tasks=("classification",), linear_pieces=True),
    )

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        dt = z.dtype.type
        gap = np.maximum(dt(1) - z, dt(0))  # (1 - z)_+
        linear = z < -1
        np.square(gap, out=loss_out)
        np.copyto(loss_out, dt(-4) * z, where=linear)
        np.multiply(gap, dt(-2), out=dz_out)
        np.copyto(dz_out, dt(-4), where=linear)
        if hess_out is not None:
            np.multiply((gap > 0) & ~linear, dt(2), out=hess_out)


class PerceptronLoss(MarginLoss):
    spec = LossSpec(
        name="perceptron",
        aliases=(),
        kind="binary",
        title="Perceptron",
        params=(),
        label_convention=_LABELS,
        prediction_domain=_SCORES,
        target_domain="binary labels",
        formula=r"\ell(z) = \max(0, -z)",
        derivative=r"\partial\ell/\partial f = -y\,[z < 0]",
        second_derivative=r"0",
        kinks="At z = 0 the gradient is 0 (minimum-norm subgradient).",
        reference="Rosenblatt (1958); sklearn SGDClassifier(loss='perceptron') (hinge with threshold 0)",
        smooth=False,
        target="binary_label",
        kink_points=(KinkSpec(0.0),),
        training=TrainingSpec(tasks=("classification",), zero_at_zero=True, linear_pieces=True),
    )

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        return _margin_ramps(target, 0.0)

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        np.negative(z, out=loss_out)
        np.maximum(loss_out, 0, out=loss_out)
        np.copyto(dz_out, loss_out > 0)
        np.negative(dz_out, out=dz_out)
        if hess_out is not None:
            hess_out.fill(0)


class ExponentialLoss(MarginLoss):
    spec = LossSpec(
        name="exponential",
        aliases=("adaboost",),
        kind="binary",
        title="Exponential (AdaBoost)",
        params=(),
        label_convention=_LABELS,
        prediction_domain=_SCORES,
        target_domain="binary labels",
        formula=r"\ell(z) = e^{-z}",
        derivative=r"\partial\ell/\partial f = -y\,e^{-z}",
        second_derivative=r"e^{-z}",
        kinks="None: smooth everywhere. For z < -709 (float64) or z < -88 (float32) the true value "
        "exceeds the float range and is returned as +inf.",
        reference="Freund & Schapire (1997); sklearn HalfBinomial's sibling ExponentialLoss (on f, not 2f)",
        target="binary_label",
        training=TrainingSpec(tasks=("classification",)),
    )

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        np.negative(z, out=loss_out)
        np.exp(loss_out, out=loss_out)
        np.negative(loss_out, out=dz_out)
        if hess_out is not None:
            hess_out[...] = loss_out


@transcendental_kernel
def _log_loss_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """:meth:`LogLoss.kernel`'s formulas per element, in the dtype:
    −y = +1 for labels ≤ 0, s = −y·f, e = e^{−|f|}, ℓ = log1p(e) + max(s, 0),
    ℓ' = −y·max(e, [s ≥ 0])·(1/(1 + e)), ℓ'' = e·(1/(1 + e))²; e^x and log1p from
    :mod:`losscore._fused` (float64, within 1 ulp as NumPy's) or :mod:`losscore._fused32`
    (float32, within 2 ulp).

    Two loops per block: e^{−|f|} into block-sized scratch (a pure map, vectorised), then
    the rest (see the module docstring of :mod:`losscore._fused`)."""
    n = p.shape[0]
    weighted = w is not None
    one = p.dtype.type(1)
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    zeros = minus = zero  # counts of 0 and -1 labels, in the dtype (an int64 count widens)
    exps = np.empty(block, dtype=p.dtype)
    for lo in range(0, n, block):
        size = np.uint64(min(lo + block, n) - lo)
        for j in range(size):
            exps[j] = exp_nonpos_any(-abs(p[np.uint64(lo) + j]))
        s = acc  # the block's sum, in acc's dtype
        for j in range(size):
            i = np.uint64(lo) + j
            f = p[i]
            e = exps[j]
            ny = one if t[i] <= 0 else -one
            margin = f * ny
            ell = log1p_unit_any(e) + (margin if margin >= zero else zero)
            inv = one / (e + one)  # one division for both (within an ulp of the two quotients)
            num = max(e, one if margin >= zero else zero)
            probe, zeros, minus = check_label(probe, zeros, minus, f, t[i], zero, one)
            wi = w[i] if w is not None else one
            ev, gv, hv, term = weighed(
                ell, (num * ny) * inv, (e * inv) * inv, wi, s1, s2, c, weighted
            )
            if el is not None:
                el[i] = ev
            if g is not None:
                g[i] = gv
            if h is not None:
                h[i] = hv
            s = radd(s, term)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, label_kinds(zeros, minus)


class LogLoss(MarginLoss):
    spec = LossSpec(
        name="log_loss",
        aliases=("logistic", "binary_logistic", "bce_with_logits"),
        kind="binary",
        title="Logistic loss on logits",
        params=(),
        label_convention=_LABELS,
        prediction_domain="real logits",
        target_domain="binary labels",
        formula=r"\ell(z) = \log(1 + e^{-z})",
        derivative=r"\partial\ell/\partial f = -y\,\sigma(-z)",
        second_derivative=r"\sigma(z)\,\sigma(-z)",
        kinks="None: smooth everywhere. Computed with logaddexp and e^{-|z|}, exact for |f| up to "
        "the largest float.",
        reference="torch.nn.functional.binary_cross_entropy_with_logits; sklearn HalfBinomialLoss",
        target="binary_label",
        training=TrainingSpec(tasks=("classification",), probability="logistic"),
    )

    def margin_kernel(
        self,
        z: FloatArray,
        params: Mapping[str, float],
        loss_out: FloatArray,
        dz_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        loss_out[...] = softplus(-z)
        np.negative(sigmoid(-z), out=dz_out)
        if hess_out is not None:
            hess_out[...] = sigmoid_product(z)

    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        """:meth:`margin_kernel`'s formulas fused for flat chunks, in place, no masked selects.

        With s = −z = −y·f and e = e^{−|f|} (= e^{−|z|}): ℓ = max(s, 0) + log1p(e) (the
        formula of logaddexp(0, s)); ∂ℓ/∂f = −y·σ(s) with σ(s) = 1/(1+e) for s ≥ 0 and
        e/(1+e) for s < 0, i.e. max(e, [s ≥ 0])/(1+e) since e ≤ 1; ∂²ℓ/∂f² = e/(1+e)².
        """
        if prediction.ndim != 1 or prediction.dtype != np.float64:  # see softplus for float32
            super().kernel(prediction, target, params, loss_out, grad_out, hess_out)
            return
        n, dtype = prediction.shape[0], prediction.dtype
        ny = grad_out  # −y = +1 for labels <= 0, −1 for label 1
        np.less_equal(target, 0, out=ny, casting="unsafe")
        ny *= 2
        ny -= 1
        s = np.multiply(prediction, ny, out=scratch(0, n, dtype))
        e = np.abs(prediction, out=loss_out)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e^{−|f|}
        if hess_out is not None:
            np.add(e, 1, out=hess_out)
            np.square(hess_out, out=hess_out)
            np.divide(e, hess_out, out=hess_out)
        num = np.greater_equal(s, 0, out=scratch(1, n, dtype), casting="unsafe")  # 1.0 / 0.0
        np.maximum(e, num, out=num)
        np.multiply(num, ny, out=grad_out)  # ±num: the sign commutes with the division
        np.clip(s, 0, np.inf, out=s)  # max(s, 0)
        d = np.add(e, 1, out=num)
        np.divide(grad_out, d, out=grad_out)  # −0.0 only where e^{−|f|} underflows (|f| > 745)
        np.log1p(e, out=loss_out)
        loss_out += s

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        """The formulas of :meth:`kernel` compiled, in the dtype, e^x and log1p within 1 ulp
        (float64) or 2 ulp (float32) but not always equal to NumPy's, and with multiply-adds
        where the processor has them (so ℓ, ℓ', ℓ'' can differ from :meth:`kernel`, and
        between processors, by a few ulp)."""
        if not compilable(prediction, target):
            return None
        return FusedKernel(_log_loss_fused, ())


_LOG_CLAMP = -100.0


class BinaryCrossEntropyLoss(Loss):
    spec = LossSpec(
        name="binary_cross_entropy",
        aliases=("bce",),
        kind="binary",
        title="Binary cross-entropy on probabilities",
        params=(),
        label_convention="target is a probability in [0, 1] (hard labels 0/1 or soft labels)",
        prediction_domain="probabilities in [0, 1]",
        target_domain="probabilities in [0, 1]",
        formula=r"\ell(p, t) = -\left(t \max(\log p, -100) + (1 - t)\max(\log(1-p), -100)\right)",
        derivative=(
            r"\partial\ell/\partial p = -\frac{t}{p}[\log p > -100] "
            r"+ \frac{1-t}{1-p}[\log(1-p) > -100]"
        ),
        second_derivative=(r"\frac{t}{p^2}[\log p > -100] + \frac{1-t}{(1-p)^2}[\log(1-p) > -100]"),
        kinks=(
            "Each log is clamped at -100 as in PyTorch; the derivatives are those of the clamped "
            "function, so they are 0 where a clamp is active (PyTorch instead divides by "
            "max(p(1-p), 1e-12))."
        ),
        reference="torch.nn.functional.binary_cross_entropy",
        target="probability",
        prediction="probability",
    )

    def check_prediction(self, prediction: FloatArray, params: Mapping[str, float]) -> None:
        check_interval("prediction", prediction, 0.0, 1.0, "probabilities")

    def prepare_target(
        self, target: NDArray[Any], prediction: FloatArray, params: Mapping[str, float]
    ) -> NDArray[Any]:
        flat = super().prepare_target(target, prediction, params)
        check_interval("target", target, 0.0, 1.0, "target probabilities")
        return flat

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
        p, t = prediction, target
        one_minus_t = dt(1) - t
        log_p = np.log(p)
        log_q = np.log1p(-p)
        live_p = log_p > _LOG_CLAMP
        live_q = log_q > _LOG_CLAMP
        np.maximum(log_p, dt(_LOG_CLAMP), out=log_p)
        np.maximum(log_q, dt(_LOG_CLAMP), out=log_q)
        np.multiply(t, log_p, out=loss_out)
        loss_out += one_minus_t * log_q
        np.subtract(0, loss_out, out=loss_out)  # -(·) without -0.0 where the loss is 0
        q = dt(1) - p
        inv_q = np.divide(dt(1), q, out=np.zeros_like(p), where=live_q)
        np.multiply(one_minus_t, inv_q, out=grad_out)
        grad_out -= np.divide(t, p, out=np.zeros_like(p), where=live_p)  # t/p: no 0·inf
        # Where no clamp is active, (p - t) / (p (1 - p)) is the same derivative without the
        # cancellation of -t/p + (1-t)/(1-p) when p is close to t.
        both = live_p & live_q
        np.divide(p - t, p * q, out=grad_out, where=both)
        if hess_out is not None:
            # (t / p) / p, not t · (1/p)²: in float32 1/p (p < 3e-39) or 1/p² (p < 5e-20)
            # overflows, and t = 0 would then give 0·inf = NaN instead of 0.
            hess_out.fill(0)
            np.divide(t, p, out=hess_out, where=live_p)
            np.divide(hess_out, p, out=hess_out, where=live_p)
            hess_out += one_minus_t * inv_q * inv_q


BINARY_LOSSES: tuple[type[Loss], ...] = (
    HingeLoss,
    SquaredHingeLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    ExponentialLoss,
    LogLoss,
    BinaryCrossEntropyLoss,
)
