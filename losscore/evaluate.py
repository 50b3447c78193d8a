"""``evaluate``: one call for a loss's value, per-element terms, gradient and Hessian diagonal.

Conventions (the same for every loss):

* ``elementwise[i] = w[i] * loss[i]`` (w = 1 without weights), with the
  elementwise shape (the prediction's shape; ``prediction.shape[:-1]`` for
  multiclass losses).
* ``reduction="sum"``:  value = Σ w·ℓ,       gradient = w·∂ℓ/∂f
* ``reduction="mean"``: value = Σ w·ℓ / Σ w, gradient = w·∂ℓ/∂f / Σ w
  (Σ w = N without weights) — a true weighted mean for every loss.
* ``reduction="none"``: value = None, gradient = w·∂ℓ/∂f (per element).
* ``hessian`` is the diagonal of the second derivative of the same quantity.

Dtypes: float32 stays float32; float64, integers and mixed widths compute in
float64. Class-index and binary-label targets do not take part in the dtype choice
(class-probability targets do).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, as_numeric, check_finite, common_float_dtype, first_index
from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.losses import Loss, get_loss

__all__ = ["Evaluation", "Reduction", "evaluate"]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        loss: canonical loss name.
        params: every loss parameter, defaults filled in.
        reduction: the reduction applied.
        value: the reduced loss (None for ``"none"``); may be ±inf only where the
            true value exceeds the float range (e.g. exponential loss at z < −709).
        elementwise: w·ℓ per element.
        gradient: derivative of ``value`` (or of each element for ``"none"``) w.r.t. prediction.
        hessian: diagonal second derivative, or None unless requested.
        weight_sum: Σ w (N without weights).
    """

    loss: str
    params: dict[str, float]
    reduction: str
    value: float | None
    elementwise: FloatArray
    gradient: FloatArray
    hessian: FloatArray | None
    weight_sum: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.gradient.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self.gradient.shape


def _prediction_array(
    loss: Loss, prediction: Any, target: Any, weight: Any
) -> tuple[FloatArray, NDArray[Any], NDArray[Any] | None]:
    pred_raw = as_numeric("prediction", prediction)
    target_raw = as_numeric("target", target)
    weight_raw = None if weight is None else as_numeric("weight", weight)
    # Labels and class indices do not take part in the dtype choice; class probabilities
    # (a class target of the prediction's shape) do, like any real-valued target.
    kind = loss.spec.target
    label_target = kind == "binary_label" or (
        kind == "class" and target_raw.shape != pred_raw.shape
    )
    dtype = common_float_dtype(pred_raw, None if label_target else target_raw, weight_raw)
    if pred_raw.dtype.kind != "f":
        dtype = np.dtype(np.float64)
    # np.asarray, not np.ascontiguousarray: the latter turns 0-d scalars into shape (1,).
    pred = np.asarray(pred_raw, dtype=dtype, order="C")
    return pred, target_raw, weight_raw


def _prepare_weight(
    weight: NDArray[Any], shape: tuple[int, ...], dtype: np.dtype[Any]
) -> FloatArray:
    if weight.shape != shape:
        raise InvalidInputError(
            "weight",
            f"shape {list(weight.shape)} does not match the elementwise loss shape {list(shape)}",
        )
    check_finite("weight", weight)
    negative = weight < 0
    if negative.any():
        idx = first_index(negative)
        raise InvalidInputError(
            "weight", f"weights must be >= 0, found {weight[idx].item()!r}", index=idx
        )
    return np.ascontiguousarray(weight, dtype=dtype).reshape(-1)


def evaluate(
    loss: str | Loss,
    prediction: Any,
    target: Any,
    *,
    weight: Any = None,
    reduction: Reduction = "mean",
    hessian: bool = False,
    **params: Any,
) -> Evaluation:
    """Evaluate *loss* at (*prediction*, *target*): value, per-element terms, gradient, Hessian.

    Args:
        loss: a registered name or alias (``"huber"``, ``"mse"``, …) or a :class:`Loss`.
        prediction: array-like of any shape (``(..., k)`` for multiclass losses).
        target: same shape as *prediction* (no broadcasting), or class indices of shape
            ``prediction.shape[:-1]`` for multiclass losses.
        weight: optional non-negative weights with the elementwise shape.
        reduction: ``"mean"`` (weighted: Σ w·ℓ / Σ w), ``"sum"`` or ``"none"``.
        hessian: also return the diagonal of the second derivative.
        **params: the loss's parameters (e.g. ``delta=2.0``); unknown names are errors.

    Raises:
        UnknownNameError, InvalidParameterError, InvalidInputError (all ``ValueError``),
        naming the offending field and, for arrays, the first offending index.
    """
    loss_obj = get_loss(loss)
    resolved = loss_obj.spec.resolve(params)
    if reduction not in REDUCTIONS:
        raise InvalidParameterError(
            "reduction", f"must be one of {', '.join(REDUCTIONS)}, got {reduction!r}"
        )

    pred, target_raw, weight_raw = _prediction_array(loss_obj, prediction, target, weight)
    check_finite("prediction", pred)
    loss_obj.check_prediction(pred, resolved)
    target_flat = loss_obj.prepare_target(target_raw, pred, resolved)

    multiclass = loss_obj.kind == "multiclass"
    el_shape = loss_obj.elementwise_shape(pred.shape)
    n = math.prod(el_shape)
    k = pred.shape[-1] if multiclass else 1
    dtype = pred.dtype

    w = None if weight_raw is None else _prepare_weight(weight_raw, el_shape, dtype)
    # The weighted mean uses w' = w·2^-e with the largest w' in [1, 2) for its value and
    # gradient (exact scaling; Σw'ℓ / Σw' = Σwℓ / Σw): Σw', 1/Σw' and w'·ℓ' then stay in
    # range for weights of any magnitude (1e-320 or 1e308). `elementwise` keeps w·ℓ.
    w_mean, exponent = _mean_weights(w) if reduction == "mean" and n else (w, 0)
    weight_sum = float(n) if w_mean is None else float(np.sum(w_mean, dtype=np.float64))
    has_zero_weight = w_mean is not None and not bool(np.all(w_mean))
    if reduction == "mean":
        if n == 0:
            raise InvalidInputError(
                "prediction",
                "reduction 'mean' of an empty array is undefined (use 'sum' or 'none')",
            )
        if weight_sum == 0.0:
            raise InvalidInputError("weight", "weights sum to 0, so the weighted mean is undefined")
    scale = 1.0 / weight_sum if reduction == "mean" else 1.0

    pred_flat = pred.reshape(n, k) if multiclass else pred.reshape(-1)
    elementwise = np.empty(n, dtype=dtype)
    gradient = np.empty_like(pred_flat)
    hess = np.empty_like(pred_flat) if hessian else None
    rows_per_chunk = max(1, CHUNK_ELEMENTS // k)
    c = dtype.type(scale)

    def run(lo: int, hi: int) -> float:
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            g = gradient[lo:hi]
            h = None if hess is None else hess[lo:hi]
            el = elementwise[lo:hi]
            loss_obj.kernel(pred_flat[lo:hi], target_flat[lo:hi], resolved, el, g, h)
            partial = None
            if w is not None and w_mean is not None:
                wc, wm = w[lo:hi], w_mean[lo:hi]
                if exponent:  # the mean's value is Σw'ℓ, not Σwℓ (see above)
                    scaled = el * wm
                    if has_zero_weight:
                        scaled[wm == 0] = 0
                    partial = float(np.sum(scaled, dtype=np.float64))
                el *= wc
                wg = wm[:, None] if multiclass else wm
                g *= wg
                if h is not None:
                    h *= wg
                if has_zero_weight:
                    # A zero weight removes the element: 0·∞ (e.g. exponential loss at
                    # z < -709) must give 0, not NaN.
                    el[wc == 0] = 0
                    zero = wm == 0
                    g[zero] = 0
                    if h is not None:
                        h[zero] = 0
            if scale != 1.0:
                g *= c
                if h is not None:
                    h *= c
            return float(np.sum(el, dtype=np.float64)) if partial is None else partial

    partial_sums = map_chunks(run, chunk_bounds(n, rows_per_chunk))
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            total = (
                math.fsum(partial_sums)
                if all(map(math.isfinite, partial_sums))
                else sum(partial_sums)
            )
        except OverflowError:  # finite chunk sums whose total exceeds the float64 range
            total = math.inf
    value: float | None
    if reduction == "none":
        value = None
    else:
        reduced = total * scale if reduction == "mean" else total
        if reduction == "mean" and math.isinf(reduced):
            # Σ w·ℓ beyond the float64 range does not make the mean infinite: the mean is the
            # convex combination Σ pᵢℓᵢ with pᵢ = wᵢ/Σw ≤ 1, so recompute ℓ (w·ℓ may itself
            # have overflowed) and weight each term first (a rare path: one more kernel call)
            reduced = _convex_mean(loss_obj, pred_flat, target_flat, resolved, w_mean, scale)
        with np.errstate(over="ignore"):  # a float32 total beyond its range is inf
            value = float(dtype.type(reduced))

    return Evaluation(
        loss=loss_obj.name,
        params=resolved,
        reduction=reduction,
        value=value,
        elementwise=elementwise.reshape(el_shape),
        gradient=gradient.reshape(pred.shape),
        hessian=None if hess is None else hess.reshape(pred.shape),
        weight_sum=_ldexp(weight_sum, exponent),
    )


def _convex_mean(
    loss_obj: Loss,
    pred_flat: FloatArray,
    target_flat: NDArray[Any],
    params: Mapping[str, float],
    w_mean: FloatArray | None,
    scale: float,
) -> float:
    """Σ pᵢℓᵢ with pᵢ = w'ᵢ·scale (w' the scaled weights, scale = 1/Σw'), in float64; zero
    weights drop their term (0·∞ is not NaN here either). Infinite only if some ℓᵢ with
    pᵢ > 0 is (or the terms sum beyond the range by rounding at the very top)."""
    n = pred_flat.shape[0]  # rows: (n,) scores, or (n, k) for multiclass losses
    ell = np.empty(n, dtype=pred_flat.dtype)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        loss_obj.kernel(pred_flat, target_flat, params, ell, np.empty_like(pred_flat), None)
        p = np.full(n, scale) if w_mean is None else w_mean.astype(np.float64) * scale
        terms = p * ell.astype(np.float64)
        terms[p == 0] = 0.0
        return float(np.sum(terms))


def _mean_weights(w: FloatArray | None) -> tuple[FloatArray | None, int]:
    """``(w·2^-e, e)`` with the largest scaled weight in [1, 2); ``(w, 0)`` when no scaling."""
    if w is None:
        return None, 0
    top = float(np.max(w))
    if top == 0.0:
        return w, 0
    exponent = math.frexp(top)[1] - 1
    if exponent == 0:
        return w, 0
    with np.errstate(under="ignore"):
        return np.ldexp(w, -exponent), exponent


def _ldexp(x: float, exponent: int) -> float:
    """x·2**exponent, +inf instead of OverflowError."""
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.inf
