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
(class-probability targets do). The value is summed in float64 across blocks of terms; a
compiled kernel sums each float32 block in float32 (within 1.5e-5 relative of the exact sum
of its float32 terms; 2.1e-6 where the sum is vectorised in 8 lanes, as with AVX2).

Outputs and buffers: ``outputs`` names what to compute (``"value"``, ``"elementwise"``,
``"gradient"``, ``"hessian"``); only those arrays are written, so a value-only call reads
the inputs once and writes nothing of their size. ``elementwise_out`` / ``gradient_out`` /
``hessian_out`` are caller-owned arrays that receive the results (and are returned), as in
scikit-learn's ``_loss`` module; repeated calls with the same buffers allocate nothing of
the input's size (inputs already in the computation dtype and C order are read in place).

The pass: Σw first when there are weights (one chunked read of w that also validates it),
then one pass over cache-sized chunks on the thread pool: a loss's compiled kernel
(:meth:`Loss.fused`, :mod:`losscore._fused`) computes ℓ, ℓ′, ℓ″ per element, weights and
scales them (the mean's 1/Σw included) and writes the requested outputs; losses without one
run their NumPy kernel per chunk into the outputs or per-thread scratch, then weight and scale
the chunk while it is in cache.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, as_numeric, check_finite, common_float_dtype, first_index
from losscore._outputs import OUTPUTS, Output, output_buffer, resolve_outputs
from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks, scratch
from losscore._passes import compiled_route, raise_input_error, run_fused, run_numpy
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.losses import Loss, get_loss

__all__ = ["OUTPUTS", "Evaluation", "Output", "Reduction", "evaluate"]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)
_SLOT_WEIGHT = 12  # scratch for scaled weights (the NumPy pass uses it later, never at once)


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        loss: canonical loss name.
        params: every loss parameter, defaults filled in.
        reduction: the reduction applied.
        value: the reduced loss (None for ``"none"`` or when ``"value"`` was not asked
            for); may be ±inf only where the true value exceeds the float range (e.g.
            exponential loss at z < −709).
        weight_sum: Σ w (N without weights).
        outputs: the outputs computed (a subset of :data:`OUTPUTS`).
        dtype: the computation dtype (float32 or float64).
        shape: the prediction's shape.
        arrays: the computed arrays by output name (``"elementwise"``, ``"gradient"``,
            ``"hessian"``); arrays passed as ``*_out`` buffers are these very objects.

    :attr:`elementwise` (w·ℓ per element) and :attr:`gradient` (the derivative of ``value``,
    or of each element for ``"none"``, w.r.t. the prediction) raise
    :class:`~losscore.errors.InvalidParameterError` naming ``outputs`` when they were not
    asked for; :attr:`hessian` is None unless asked for.
    """

    loss: str
    params: dict[str, float]
    reduction: str
    value: float | None
    weight_sum: float
    outputs: frozenset[str]
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    arrays: Mapping[str, FloatArray]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def elementwise(self) -> FloatArray:
        return self._array("elementwise")

    @property
    def gradient(self) -> FloatArray:
        return self._array("gradient")

    @property
    def hessian(self) -> FloatArray | None:
        return self.arrays.get("hessian")

    def _array(self, name: str) -> FloatArray:
        try:
            return self.arrays[name]
        except KeyError:
            raise InvalidParameterError(
                "outputs",
                f"{name!r} was not among the outputs asked for ({', '.join(sorted(self.outputs))})",
            ) from None


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
) -> tuple[FloatArray, float, float]:
    """Flat weights in *dtype*, validated, with their Σ (float64) and max, in one chunked
    read (no temporary of the weights' size)."""
    if weight.shape != shape:
        raise InvalidInputError(
            "weight",
            f"shape {list(weight.shape)} does not match the elementwise loss shape {list(shape)}",
        )
    check_finite("weight", weight)
    w = np.ascontiguousarray(weight, dtype=dtype).reshape(-1)

    def stats(lo: int, hi: int) -> tuple[float, float, float]:
        c = w[lo:hi]
        with np.errstate(over="ignore"):  # Σw beyond the range is inf (the mean rescales)
            return float(c.min()), float(c.max()), float(np.sum(c, dtype=np.float64))

    parts = map_chunks(stats, chunk_bounds(w.size, CHUNK_ELEMENTS)) if w.size else []
    if parts and min(p[0] for p in parts) < 0:
        negative = weight < 0
        idx = first_index(negative)
        raise InvalidInputError(
            "weight", f"weights must be >= 0, found {weight[idx].item()!r}", index=idx
        )
    top = max((p[1] for p in parts), default=0.0)
    return w, _fsum([p[2] for p in parts]), top


def evaluate(
    loss: str | Loss,
    prediction: Any,
    target: Any,
    *,
    weight: Any = None,
    reduction: Reduction = "mean",
    hessian: bool = False,
    outputs: Collection[Output] | None = None,
    elementwise_out: NDArray[Any] | None = None,
    gradient_out: NDArray[Any] | None = None,
    hessian_out: NDArray[Any] | None = None,
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
        hessian: also return the diagonal of the second derivative (adds ``"hessian"``
            to *outputs*).
        outputs: what to compute, a collection of ``"value"``, ``"elementwise"``,
            ``"gradient"``, ``"hessian"``; default ``value``, ``elementwise`` and
            ``gradient`` (plus ``hessian`` with ``hessian=True``). The others are None in
            the result and cost nothing: ``["value"]`` reads the inputs once and writes no
            array of their size. ``"value"`` needs reduction ``"mean"`` or ``"sum"``.
        elementwise_out, gradient_out, hessian_out: caller-owned arrays that receive the
            elementwise terms (the elementwise shape), the gradient and the Hessian diagonal
            (the prediction's shape); returned as they are, so that repeated calls allocate
            nothing of the input's size. Each must be a ``numpy.ndarray`` of exactly that
            shape and of the computation dtype (float32 for float32 inputs, else float64),
            C-contiguous, writeable, sharing no memory with prediction, target, weight or
            another buffer, and its output must be among *outputs*.
        **params: the loss's parameters (e.g. ``delta=2.0``); unknown names are errors.

    Raises:
        UnknownNameError, InvalidParameterError, InvalidInputError (all ``ValueError``),
        naming the offending field and, for arrays, the first offending index; a bad
        buffer names its argument (``"gradient_out"``: shape, dtype, contiguity,
        read-only, overlap).
    """
    loss_obj = get_loss(loss)
    resolved = loss_obj.spec.resolve(params)
    if reduction not in REDUCTIONS:
        raise InvalidParameterError(
            "reduction", f"must be one of {', '.join(REDUCTIONS)}, got {reduction!r}"
        )
    chosen = resolve_outputs(outputs, hessian, reduction)
    for buf_name, buf, out_name in (
        ("elementwise_out", elementwise_out, "elementwise"),
        ("gradient_out", gradient_out, "gradient"),
        ("hessian_out", hessian_out, "hessian"),
    ):
        if buf is not None and out_name not in chosen:
            raise InvalidInputError(
                buf_name, f"given, but {out_name!r} is not among the outputs asked for"
            )

    pred, target_raw, weight_raw = _prediction_array(loss_obj, prediction, target, weight)
    route = compiled_route(loss_obj, pred, target_raw, resolved)
    fused = None if route is None else route[0]
    if fused is None:
        check_finite("prediction", pred)
        loss_obj.check_prediction(pred, resolved)
    target_flat = loss_obj.prepare_target(target_raw, pred, resolved) if route is None else route[1]

    multiclass = loss_obj.kind == "multiclass"
    el_shape = loss_obj.elementwise_shape(pred.shape)
    n = math.prod(el_shape)
    k = pred.shape[-1] if multiclass else 1
    dtype = pred.dtype

    wt = _weighting(weight_raw, el_shape, dtype, reduction)
    w, s1, s2, scale = wt.w, wt.s1, wt.s2, wt.scale

    inputs: list[tuple[str, Any]] = [
        ("prediction", prediction),
        ("prediction", pred),
        ("target", target),
        ("target", target_flat),
        ("weight", weight),
        ("weight", w),
    ]

    def output(name: str, buf: Any, what: str, shape: tuple[int, ...]) -> FloatArray | None:
        if what not in chosen:
            return None
        if buf is None:
            return np.empty(shape, dtype=dtype)
        arr = output_buffer(name, buf, what, shape, dtype, inputs)
        inputs.append((name, arr))  # the buffers must not overlap each other either
        return arr

    elementwise = output("elementwise_out", elementwise_out, "elementwise", el_shape)
    gradient = output("gradient_out", gradient_out, "gradient", pred.shape)
    hess = output("hessian_out", hessian_out, "hessian", pred.shape)

    pred_flat = pred.reshape(n, k) if multiclass else pred.reshape(-1)
    flat_shape = (n, k) if multiclass else (n,)
    el_flat = None if elementwise is None else elementwise.reshape(n)
    g_flat = None if gradient is None else gradient.reshape(flat_shape)
    h_flat = None if hess is None else hess.reshape(flat_shape)
    want_value = "value" in chosen and reduction != "none"

    if fused is not None:
        partial_sums = run_fused(
            fused, pred_flat, target_flat, w, s1, s2, scale, el_flat, g_flat, h_flat, k
        )
        if partial_sums is None:  # a bad value the compiled kernel saw: raise its error
            raise_input_error(loss_obj, pred, target_raw, resolved)
    else:
        partial_sums = run_numpy(
            loss_obj,
            resolved,
            pred_flat,
            target_flat,
            w,
            (s1, s2),
            scale,
            (el_flat, g_flat, h_flat),
            want_value,
            k,
        )

    value = None
    if want_value:
        total = _fsum(partial_sums)
        value = _reduced(total, reduction, wt, dtype, loss_obj, pred_flat, target_flat, resolved)

    return Evaluation(
        loss=loss_obj.name,
        params=resolved,
        reduction=reduction,
        value=value,
        weight_sum=_ldexp(wt.weight_sum, wt.exponent),
        outputs=chosen,
        dtype=dtype,
        shape=pred.shape,
        arrays={
            name: array
            for name, array in (
                ("elementwise", elementwise),
                ("gradient", gradient),
                ("hessian", hess),
            )
            if array is not None
        },
    )


@dataclass(frozen=True)
class _Weighting:
    """The weights as the passes use them.

    The weighted mean uses w' = w·2^-e with the largest w' in [1, 2) for its value and
    gradient (exact scaling; Σw'ℓ / Σw' = Σwℓ / Σw): Σw', 1/Σw' and w'·ℓ' then stay in range
    for weights of any magnitude (1e-320 or 1e308). ``elementwise`` keeps w·ℓ.
    """

    w: FloatArray | None  # flat, validated; None without weights
    s1: Any  # w' = w·s1·s2 exactly (powers of two in the dtype)
    s2: Any
    exponent: int  # e
    weight_sum: float  # Σw' (N without weights)
    scale: float  # 1/Σw' for the mean, else 1


def _weighting(
    weight_raw: NDArray[Any] | None, el_shape: tuple[int, ...], dtype: np.dtype[Any], reduction: str
) -> _Weighting:
    n = math.prod(el_shape)
    w: FloatArray | None = None
    if weight_raw is None:
        weight_total, top = float(n), 1.0
    else:
        w, weight_total, top = _prepare_weight(weight_raw, el_shape, dtype)
    exponent = math.frexp(top)[1] - 1 if w is not None and reduction == "mean" and top else 0
    s1, s2 = _power_factors(-exponent, dtype)
    # Σw' afresh when scaled: Σw itself may overflow or lose bits
    weight_sum = _scaled_sum(w, s1, s2) if exponent and w is not None else weight_total
    if reduction == "mean":
        if n == 0:
            raise InvalidInputError(
                "prediction",
                "reduction 'mean' of an empty array is undefined (use 'sum' or 'none')",
            )
        if weight_sum == 0.0:
            raise InvalidInputError("weight", "weights sum to 0, so the weighted mean is undefined")
    scale = 1.0 / weight_sum if reduction == "mean" else 1.0
    return _Weighting(w, s1, s2, exponent, weight_sum, scale)


def _reduced(
    total: float,
    reduction: str,
    wt: _Weighting,
    dtype: np.dtype[Any],
    loss_obj: Loss,
    pred_flat: FloatArray,
    target_flat: NDArray[Any],
    params: Mapping[str, float],
) -> float:
    """The value from Σw'ℓ (Σwℓ for sums), rounded to the dtype."""
    reduced = total * wt.scale if reduction == "mean" else total
    if reduction == "mean" and math.isinf(reduced):
        # Σ w·ℓ beyond the float64 range does not make the mean infinite: the mean is the
        # convex combination Σ pᵢℓᵢ with pᵢ = wᵢ/Σw ≤ 1, so recompute ℓ (w·ℓ may itself
        # have overflowed) and weight each term first (a rare path: one more kernel call)
        w_mean = None if wt.w is None else _scaled(wt.w, wt.s1, wt.s2)
        reduced = _convex_mean(loss_obj, pred_flat, target_flat, params, w_mean, wt.scale)
    with np.errstate(over="ignore"):  # a float32 total beyond its range is inf
        return float(dtype.type(reduced))


def _fsum(parts: list[float]) -> float:
    """Σ parts: exactly rounded when all are finite; inf on overflow."""
    try:
        return math.fsum(parts) if all(map(math.isfinite, parts)) else sum(parts)
    except OverflowError:  # finite chunk sums whose total exceeds the float64 range
        return math.inf


def _power_factors(exponent: int, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """(a, b) in *dtype*, powers of two with a·b = 2**exponent and x·a·b = ``ldexp(x,
    exponent)`` exactly: scaling down is one product with 2**exponent (representable, if
    subnormal, down to the smallest weight scale; it rounds once, as ldexp does); scaling up
    is split in two halves (2**exponent may exceed the range; scaling up never rounds)."""
    if exponent <= 0:
        return dtype.type(math.ldexp(1.0, exponent)), dtype.type(1)
    half = exponent // 2
    return dtype.type(math.ldexp(1.0, half)), dtype.type(math.ldexp(1.0, exponent - half))


def _scaled(w: FloatArray, s1: Any, s2: Any) -> FloatArray:
    """w·s1·s2 (= w·2^-e exactly), a new array."""
    out: FloatArray = np.multiply(w, s1)
    out *= s2
    return out


def _scaled_sum(w: FloatArray, s1: Any, s2: Any) -> float:
    """Σ w·s1·s2 in float64, in chunks (a second read of w; no temporary of its size)."""

    def part(lo: int, hi: int) -> float:
        with np.errstate(under="ignore"):
            c = np.multiply(w[lo:hi], s1, out=scratch(_SLOT_WEIGHT, hi - lo, w.dtype))
            c *= s2
        return float(np.sum(c, dtype=np.float64))

    return _fsum(map_chunks(part, chunk_bounds(w.size, CHUNK_ELEMENTS)))


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


def _ldexp(x: float, exponent: int) -> float:
    """x·2**exponent, +inf instead of OverflowError."""
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.inf
