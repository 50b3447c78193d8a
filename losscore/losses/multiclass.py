"""Multiclass losses on a score matrix f of shape (..., k).

Targets are either integer class indices of shape (...) in [0, k), or rows of
class probabilities of shape (..., k) (non-negative, summing to 1). The
elementwise loss has shape (...); gradient and Hessian diagonal have shape (..., k).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, check_finite, first_index
from losscore._fused import (
    FusedKernel,
    add_compensated,
    block_size,
    compensated_total,
    compilable,
    exp_nonpos_any,
    log1p_nonneg,
    radd,
    transcendental_kernel,
)
from losscore._jit import compiled
from losscore.errors import InvalidInputError
from losscore.losses._base import Loss
from losscore.spec import Interval, KinkSpec, LossSpec, ParamSpec, TrainingSpec

_LABELS = (
    "class indices in [0, k) with shape prediction.shape[:-1], or class probabilities "
    "with the prediction's shape (rows non-negative, summing to 1)"
)


def _check_scores_shape(prediction: FloatArray) -> None:
    if prediction.ndim < 1:
        raise InvalidInputError("prediction", "multiclass scores need at least one axis (..., k)")
    if prediction.shape[-1] < 2:
        raise InvalidInputError(
            "prediction",
            f"multiclass scores need k >= 2 classes on the last axis, got k = {prediction.shape[-1]}",
        )


def prepare_class_indices(target: NDArray[Any], k: int) -> NDArray[np.intp]:
    """Validate integer class indices in [0, k) and return them flat as intp."""
    check_finite("target", target)
    if target.dtype.kind == "f":
        non_integral = target != np.round(target)
        if non_integral.any():
            idx = first_index(non_integral)
            raise InvalidInputError(
                "target", f"class indices must be integers, found {target[idx].item()!r}", index=idx
            )
    elif target.dtype.kind == "b":
        raise InvalidInputError("target", "class indices must be integers, got booleans")
    # min and max read the target without a temporary; the mask only to name the culprit
    if target.size and (target.min() < 0 or target.max() >= k):
        idx = first_index((target < 0) | (target >= k))
        raise InvalidInputError(
            "target", f"class index must lie in [0, {k}), found {target[idx].item()!r}", index=idx
        )
    return np.ascontiguousarray(target, dtype=np.intp).reshape(-1)


def prepare_class_probabilities(target: NDArray[Any], prediction: FloatArray) -> FloatArray:
    check_finite("target", target)
    negative = target < 0
    if negative.any():
        idx = first_index(negative)
        raise InvalidInputError(
            "target", f"class probabilities must be >= 0, found {target[idx].item()!r}", index=idx
        )
    k = prediction.shape[-1]
    flat = np.ascontiguousarray(target, dtype=prediction.dtype).reshape(-1, k)
    sums = flat.sum(axis=1, dtype=np.float64)
    tol = 1e-6 if prediction.dtype == np.float64 else 1e-4
    off = np.abs(sums - 1.0) > tol * k
    if off.any():
        row = int(np.argmax(off))
        idx = (
            tuple(int(i) for i in np.unravel_index(row, target.shape[:-1]))
            if target.ndim > 1
            else ()
        )
        raise InvalidInputError(
            "target",
            f"class probabilities must sum to 1 along the last axis, row sums to {sums[row]:.9g}",
            index=tuple(int(i) for i in idx),
        )
    return flat


class MulticlassLoss(Loss):
    accepts_probabilities = True

    def elementwise_shape(self, prediction_shape: tuple[int, ...]) -> tuple[int, ...]:
        return prediction_shape[:-1]

    def prepare_target(
        self, target: NDArray[Any], prediction: FloatArray, params: Mapping[str, float]
    ) -> NDArray[Any]:
        _check_scores_shape(prediction)
        k = prediction.shape[-1]
        if target.shape == prediction.shape[:-1]:
            return prepare_class_indices(target, k)
        if target.shape == prediction.shape and self.accepts_probabilities:
            return prepare_class_probabilities(target, prediction)
        wanted = f"{list(prediction.shape[:-1])} (class indices)"
        if self.accepts_probabilities:
            wanted += f" or {list(prediction.shape)} (class probabilities)"
        raise InvalidInputError(
            "target",
            f"shape {list(target.shape)} does not fit prediction shape "
            f"{list(prediction.shape)}: expected {wanted}",
        )


@transcendental_kernel
def _softmax_fused(p, t, consts, w, s1, s2, c, el, g, h, acc):  # type: ignore[no-untyped-def]
    """:func:`softmax_cross_entropy` per row of k logits, with class-index targets, in the
    dtype (e^x from :mod:`losscore._fused` or :mod:`losscore._fused32`; the one log1p per row
    in float64): m = maxⱼ fⱼ, eⱼ = e^{fⱼ − m}, τ = Σⱼ eⱼ − 1 summed without the 1 of a
    maximal class, ℓ = log1p(τ) + keep·(m − f_y) + (s/k)·Σⱼ(m − fⱼ),
    ∂ℓ/∂fⱼ = eⱼ/(1 + τ) − qⱼ, ∂²ℓ/∂fⱼ² = pⱼ(1 − pⱼ); weighted and scaled as
    :func:`losscore._fused.weighed` does.

    Per block of rows, passes over block-sized scratch: the shifted logits fⱼ − m (flat, so
    that e^x runs as one vectorised map over rows·k values, not k at a time), the rows' τ
    and ℓ (log1p as a map over the block's rows), then the outputs. The rows' terms are summed
    in float64 (``acc`` sets the block's size only)."""
    keep, smooth_k = consts
    n = p.shape[0]
    k = p.shape[1]
    zero = c - c
    block = block_size(acc)
    total = comp = 0.0
    probe = zero  # in the dtype: a float64 probe would widen a float32 loop
    rows = max(1, block // k)
    exps = np.empty(rows * k, dtype=p.dtype)  # fⱼ − m, then eⱼ, then the probabilities
    maxes = np.empty(rows, dtype=p.dtype)
    ells = np.empty(rows, dtype=p.dtype)
    linears = np.empty(rows, dtype=np.float64)
    probs = g is not None or h is not None  # the probabilities are asked for
    for lo in range(0, n, rows):
        size = min(lo + rows, n) - lo
        probe = radd(probe, _softmax_shift(p, lo, size, exps, maxes, zero))
        for q in range(np.uint64(size * k)):  # a pure map: vectorised
            exps[q] = exp_nonpos_any(exps[q])
        _softmax_rows(p, t, lo, size, (keep, smooth_k), maxes, exps, ells, linears, probs)
        s = _softmax_outputs(t, lo, size, (keep, smooth_k, k), exps, ells, w, (s1, s2, c), el, g, h)
        total, comp = add_compensated(total, comp, np.float64(s))
    return compensated_total(total, comp), probe, 0


@compiled(inline="always")
def _softmax_shift(p, lo, size, shifted, maxes, zero):  # type: ignore[no-untyped-def]
    """Rows lo … lo + size − 1: their maxima into *maxes*, fⱼ − m into *shifted* (flat);
    returns Σ fⱼ·0 (NaN unless every logit is finite; not Σ (fⱼ − m)·0: the difference of
    two finite logits can overflow). The probe rides in the vectorised loop of the
    differences: in the maximum's loop (a scalar chain) its additions cost 3 cycles per
    logit."""
    k = np.uint64(p.shape[1])  # unsigned: r·k + j indexes without negative-index handling
    probe = zero
    for r in range(np.uint64(size)):
        i = np.uint64(lo) + r
        m = p[i, 0]
        for j in range(np.uint64(k)):
            m = max(m, p[i, j])
        maxes[r] = m
        for j in range(np.uint64(k)):
            shifted[r * k + j] = p[i, j] - m
            probe = radd(probe, p[i, j] * zero)
    return probe


@compiled(inline="always")
def _softmax_rows(p, t, lo, size, consts, maxes, exps, ells, linears, probs):  # type: ignore[no-untyped-def]
    """Each row's τ and ℓ into *ells* (τ first, then log1p as a map over the rows), and,
    when *probs*, its probabilities eⱼ/(1 + τ) in place of the eⱼ; *linears* is float64
    scratch."""
    keep, smooth_k = consts
    k = np.uint64(p.shape[1])
    one = p.dtype.type(1)
    zero = one - one
    for r in range(np.uint64(size)):
        i = np.uint64(lo) + r
        m = maxes[r]
        tau = zero
        spread = zero
        ties = 0
        for j in range(np.uint64(k)):
            d = p[i, j] - m
            if d < zero:
                tau += exps[r * k + j]
            else:
                ties += 1
            spread -= d
        tau += p.dtype.type(ties - 1)
        y = np.uint64(t[i])
        linear = (m - p[i, y]) * keep if keep > zero else zero
        if smooth_k > zero:
            linear += smooth_k * spread
        ells[r] = tau
        linears[r] = np.float64(linear)
        if probs:  # stored, not computed in the output loop: there eⱼ·inv could fuse into
            inv = one / (one + tau)  # the gradient's subtraction only when no Hessian reads it
            for j in range(k):
                exps[r * k + j] *= inv
    for r in range(np.uint64(size)):  # a pure map: vectorised
        ells[r] = p.dtype.type(log1p_nonneg(np.float64(ells[r])) + linears[r])


@compiled(inline="always")
def _softmax_outputs(t, lo, size, consts, probs, ells, w, scales, el, g, h):  # type: ignore[no-untyped-def]
    """The weighting and the outputs of rows lo … lo + size − 1 (*probs* flat, k per row;
    *scales* = (s1, s2, c) of the module docstring of :mod:`losscore._fused`); returns
    their Σ w'ℓ in float64 (a scalar loop over rows: a float32 sum would add its rounding
    once per row, not once per vector lane)."""
    keep, smooth_k, classes = consts
    k = np.uint64(classes)
    s1, s2, c = scales
    one = probs.dtype.type(1)
    zero = c - c
    s = 0.0
    for r in range(np.uint64(size)):
        i = np.uint64(lo) + r
        ell = ells[r]
        mw = one  # the element's weight w' (1 unweighted)
        if w is not None:
            wi = w[i]
            mw = wi * s1 * s2
            if el is not None:
                el[i] = ell * wi if wi != 0 else zero
            term = np.float64(ell * mw) if mw != 0 else 0.0
        else:
            if el is not None:
                el[i] = ell
            term = np.float64(ell)
        if g is not None or h is not None:
            scale = mw * c
            y = np.uint64(t[i])
            for j in range(np.uint64(k)):
                pj = probs[r * k + j]
                if g is not None:
                    q = smooth_k + keep if j == y else smooth_k
                    g[i, j] = (pj - q) * scale if mw != 0 else zero
                if h is not None:
                    h[i, j] = (pj * (one - pj)) * scale if mw != 0 else zero
        s = radd(s, term)
    return s


class SoftmaxCrossEntropyLoss(MulticlassLoss):
    spec = LossSpec(
        name="softmax_cross_entropy",
        aliases=("cross_entropy", "categorical_cross_entropy", "multinomial"),
        kind="multiclass",
        title="Softmax cross-entropy on logits",
        params=(
            ParamSpec(
                "label_smoothing",
                0.0,
                Interval(0.0, 1.0),
                "Mixes the target with the uniform distribution: q = (1 - s) t + s / k.",
            ),
        ),
        label_convention=_LABELS,
        prediction_domain="real logits, shape (..., k)",
        target_domain=_LABELS,
        formula=(
            r"\ell(f, q) = \log\sum_j e^{f_j} - \sum_j q_j f_j,\quad "
            r"q = (1 - s)\,t + s/k"
        ),
        derivative=r"\partial\ell/\partial f_j = p_j - q_j,\quad p = \operatorname{softmax}(f)",
        second_derivative=r"\partial^2\ell/\partial f_j^2 = p_j (1 - p_j) \text{ (diagonal of the Hessian)}",
        kinks=(
            "None: smooth everywhere. Computed as log sum_j e^{f_j - m} + sum_j q_j (m - f_j) with "
            "m = max_j f_j: a sum of non-negative terms, exact for logits of any size."
        ),
        reference="torch.nn.functional.cross_entropy (label_smoothing as in PyTorch); sklearn HalfMultinomialLoss",
        target="class",
        training=TrainingSpec(tasks=("classification",), multinomial=True, probability="softmax"),
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
        # the class-major computation on a transposed copy of the chunk: its reductions over
        # the k classes then run over k contiguous rows, numpy's fast case
        scores = np.array(prediction.T, order="C")  # a copy even where .T is contiguous (k = 1 row)
        t = target if target.ndim == 1 else np.array(target.T, order="C")
        hess = None if hess_out is None else np.empty_like(scores)
        softmax_cross_entropy(scores, t, params["label_smoothing"], loss_out, hess)
        grad_out[...] = scores.T
        if hess_out is not None and hess is not None:
            hess_out[...] = hess.T

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        """Class-index targets: :func:`softmax_cross_entropy`'s formulas compiled, in the
        dtype (e^x within 1 ulp, float64, or 2 ulp, float32, and not always equal to NumPy's,
        and multiply-adds where the processor has them, so results can differ from
        :meth:`kernel`, and between processors, by a few ulp); class-probability targets keep
        the NumPy kernel."""
        if target.ndim != 1 or not compilable(prediction, target):
            return None
        dt = prediction.dtype.type
        smoothing = params["label_smoothing"]
        k = prediction.shape[-1]
        return FusedKernel(_softmax_fused, (dt(1) - dt(smoothing), dt(smoothing) / dt(k)))

    def class_major(
        self,
        scores: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
    ) -> tuple[FloatArray, FloatArray]:
        loss = np.empty(scores.shape[1], dtype=scores.dtype)
        smoothing = params["label_smoothing"]
        softmax_cross_entropy(scores, target, smoothing, loss, None, exact_small=False)
        return loss, scores


def softmax_cross_entropy(
    scores: FloatArray,
    target: NDArray[Any],
    smoothing: float,
    loss_out: FloatArray,
    hess_out: FloatArray | None,
    *,
    exact_small: bool = True,
) -> None:
    """Softmax cross-entropy with the classes on the leading axis: the one implementation.

    ``scores`` (k, n) logits, overwritten with the gradient p − q; ``target`` class indices
    (n,) or class probabilities (k, n); ``loss_out`` (n,) receives
    ℓ = log Σⱼ e^{fⱼ} − Σⱼ qⱼfⱼ with q = (1 − s)·t + s/k, computed as
    log1p(τ) + Σⱼ qⱼ(m − fⱼ), m = maxⱼ fⱼ, τ = Σⱼ e^{fⱼ − m} − 1 summed without its 1 (the
    term of one maximal class): a sum of non-negative terms, exact for logits of any size,
    and log1p keeps the relative accuracy of ℓ ≈ τ when one class dominates (log of a sum
    that rounds to 1 would lose it all). ``hess_out`` (k, n), if given, receives pⱼ(1 − pⱼ).

    ``exact_small=False`` sums τ with the 1 and subtracts it: ℓ then has an absolute error of
    a few ulps of 1 instead of a relative one, which is all an objective F (a mean of ℓ) needs;
    training's block sums use it (the masked sum costs ~13% of a 1,000 × 20, k = 3 fit).
    """
    dt = scores.dtype.type
    k, n = scores.shape
    keep = dt(1) - dt(smoothing)
    m = scores.max(axis=0)
    scores -= m  # f − m ≤ 0, exactly 0 at every maximal class
    if target.ndim == 1:
        rows = np.arange(n)
        picked = np.negative(scores[target, rows])  # m − f_y ≥ 0
        linear = picked * keep if keep != 1 else picked
    else:
        linear = np.einsum("ij,ij->j", target, scores)
        np.negative(linear, out=linear)
        linear *= keep
    if smoothing:
        linear += dt(smoothing) / dt(k) * -scores.sum(axis=0)
    # 0·inf = NaN needs a zero weight on an infinite m − fⱼ: only with probability targets
    # or keep = 0 (m − f is finite or +inf, and inf + inf = inf)
    if target.ndim != 1 or keep == 0:
        bad = np.flatnonzero(np.isnan(linear))
    else:
        bad = np.empty(0, dtype=np.intp)
    if bad.size:
        # A logit spread beyond the float range makes m − fⱼ = inf, and a class with qⱼ = 0
        # then contributes 0·inf = NaN: those rows again, leaving out the classes with qⱼ = 0.
        linear[bad] = _linear_part_without_zeros(scores[:, bad], target, bad, smoothing)
    if exact_small:
        others = scores < 0  # every class but the maximal ones
        np.exp(scores, out=scores)  # e^{f − m}: exactly 1 at the maximal classes
        tau = np.add.reduce(scores, axis=0, where=others)  # Σⱼ e^{fⱼ − m} over the others
        if np.count_nonzero(others) != n * (k - 1):  # ties: other maximal classes add e^0 = 1
            tau += (k - 1) - np.count_nonzero(others, axis=0)
    else:
        np.exp(scores, out=scores)
        tau = scores.sum(axis=0)
        tau -= dt(1)  # exact (Sterbenz); the sum's rounding remains, absolute ~k·eps
    np.log1p(tau, out=loss_out)
    loss_out += linear
    tau += dt(1)
    scores /= tau  # the softmax probabilities p
    if hess_out is not None:
        np.subtract(dt(1), scores, out=hess_out)
        hess_out *= scores
    if target.ndim == 1:
        scores[target, rows] -= keep
    else:
        scores -= keep * target
    if smoothing:
        scores -= dt(smoothing) / dt(k)


def _linear_part_without_zeros(
    shifted: FloatArray, target: NDArray[Any], bad: NDArray[np.intp], smoothing: float
) -> FloatArray:
    """Σⱼ qⱼ(m − fⱼ) for the columns ``bad`` of the shifted scores f − m, over qⱼ > 0 only."""
    dt = shifted.dtype.type
    k = shifted.shape[0]
    if target.ndim == 1:
        q = np.zeros((k, bad.size), dtype=shifted.dtype)
        q[target[bad], np.arange(bad.size)] = 1
    else:
        q = np.asarray(target[:, bad], dtype=shifted.dtype)
    q = (dt(1) - dt(smoothing)) * q + dt(smoothing) / dt(k)
    terms = np.multiply(q, -shifted, out=np.zeros_like(q), where=q > 0)
    out: FloatArray = terms.sum(axis=0)
    return out


class MulticlassHingeLoss(MulticlassLoss):
    accepts_probabilities = False

    spec = LossSpec(
        name="multiclass_hinge",
        aliases=("crammer_singer",),
        kind="multiclass",
        title="Multiclass hinge (Crammer-Singer)",
        params=(
            ParamSpec(
                "margin",
                1.0,
                Interval(0.0, None),
                "Required gap between the true score and the others.",
            ),
        ),
        label_convention="class indices in [0, k) with shape prediction.shape[:-1]",
        prediction_domain="real scores, shape (..., k)",
        target_domain="class indices in [0, k)",
        formula=r"\ell(f, y) = \max\left(0,\; m + \max_{j \ne y} f_j - f_y\right)",
        derivative=(
            r"\partial\ell/\partial f = [\ell > 0]\,(e_{j^*} - e_y),\quad "
            r"j^* = \operatorname{argmax}_{j \ne y} f_j"
        ),
        second_derivative=r"0",
        kinks=(
            "Where the hinge is exactly 0 the gradient is 0. When several j != y share the maximum "
            "score, j* is the lowest such index."
        ),
        reference="Crammer & Singer (2001); sklearn LinearSVC(multi_class='crammer_singer')",
        smooth=False,
        target="class",
        kink_points=(KinkSpec(param="margin"),),
        training=TrainingSpec(linear_pieces=True),  # evaluate only: no training tasks
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
        n = prediction.shape[0]
        rows = np.arange(n)
        true_score = prediction[rows, target]
        others = prediction.copy()
        others[rows, target] = -np.inf
        best = np.argmax(others, axis=1)
        np.subtract(others[rows, best], true_score, out=loss_out)
        loss_out += dt(params["margin"])
        np.maximum(loss_out, 0, out=loss_out)
        active = (loss_out > 0).astype(prediction.dtype)
        grad_out.fill(0)
        grad_out[rows, best] = active
        grad_out[rows, target] -= active  # 0 - 0 = +0: no -0.0 where the hinge is 0
        if hess_out is not None:
            hess_out.fill(0)


MULTICLASS_LOSSES: tuple[type[Loss], ...] = (SoftmaxCrossEntropyLoss, MulticlassHingeLoss)
