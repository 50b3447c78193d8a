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
from typing import Any, Literal, NoReturn, cast, get_args

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, as_numeric, check_finite, common_float_dtype, first_index
from losscore._fused import (
    ELEMENTWISE,
    GRADIENT,
    HESSIAN,
    LABEL_MINUS_ONE,
    LABEL_ZERO,
    WEIGHTED,
    FusedKernel,
)
from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks, scratch
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.losses import Loss, get_loss

__all__ = ["OUTPUTS", "Evaluation", "Output", "Reduction", "evaluate"]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)
Output = Literal["value", "elementwise", "gradient", "hessian"]
OUTPUTS: tuple[str, ...] = get_args(Output)

FUSED_CHUNK_ELEMENTS = 1 << 16  # a compiled kernel keeps no temporaries: larger chunks
# scratch slots of the NumPy path for outputs not asked for (kernels use slots 0 and 1)
_SLOT_ELEMENTWISE, _SLOT_GRADIENT, _SLOT_WEIGHT, _SLOT_TERMS = 10, 11, 12, 13


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


def _resolve_outputs(
    outputs: Collection[str] | None, hessian: bool, reduction: str
) -> frozenset[str]:
    """The outputs to compute: ``outputs`` (default: value, elementwise, gradient), plus
    ``"hessian"`` when ``hessian`` is true."""
    if outputs is None:
        chosen = {"value", "elementwise", "gradient"}
    else:
        if isinstance(outputs, str):
            raise InvalidParameterError(
                "outputs", f"must be a list of output names, not the string {outputs!r}"
            )
        chosen = set()
        for name in outputs:
            if name not in OUTPUTS:
                raise InvalidParameterError(
                    "outputs", f"unknown output {name!r}; valid outputs are: {', '.join(OUTPUTS)}"
                )
            chosen.add(name)
        if not chosen and not hessian:
            raise InvalidParameterError("outputs", "must name at least one output")
        if "value" in chosen and reduction == "none":
            raise InvalidParameterError(
                "outputs", "'value' needs reduction 'mean' or 'sum' (reduction 'none' has none)"
            )
    if hessian:
        chosen.add("hessian")
    return frozenset(chosen)


def _overlaps(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Whether *a* and *b* share memory (exactly: the bounds test first, then NumPy's exact
    test, which is cheap for the contiguous buffers accepted here)."""
    return bool(np.may_share_memory(a, b)) and bool(np.shares_memory(a, b))


def _output_buffer(
    name: str,
    buf: Any,
    what: str,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    inputs: list[tuple[str, Any]],
) -> FloatArray:
    """*buf* checked as the caller-owned array for *what*: an ndarray of *shape* and
    *dtype*, C-contiguous, writeable, sharing no memory with an input."""
    if not isinstance(buf, np.ndarray):
        raise InvalidInputError(name, f"must be a numpy.ndarray, got {type(buf).__name__}")
    if buf.shape != shape:
        raise InvalidInputError(
            name, f"shape {list(buf.shape)} does not match the {what} shape {list(shape)}"
        )
    if buf.dtype != dtype:
        raise InvalidInputError(
            name,
            f"dtype {buf.dtype} does not match the computation dtype {dtype} "
            "(float32 inputs compute in float32, all others in float64)",
        )
    if not buf.flags.c_contiguous:
        raise InvalidInputError(name, "must be C-contiguous")
    if not buf.flags.writeable:
        raise InvalidInputError(name, "must be writeable")
    for other, arr in inputs:
        if isinstance(arr, np.ndarray) and _overlaps(buf, arr):
            raise InvalidInputError(
                name, f"shares memory with {other}: outputs must not overlap the inputs"
            )
    return buf


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
    chosen = _resolve_outputs(outputs, hessian, reduction)
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
    route = _compiled_route(loss_obj, pred, target_raw, resolved)
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

    w: FloatArray | None = None
    if weight_raw is None:
        weight_total, top = float(n), 1.0
    else:
        w, weight_total, top = _prepare_weight(weight_raw, el_shape, dtype)
    # The weighted mean uses w' = w·2^-e with the largest w' in [1, 2) for its value and
    # gradient (exact scaling; Σw'ℓ / Σw' = Σwℓ / Σw): Σw', 1/Σw' and w'·ℓ' then stay in
    # range for weights of any magnitude (1e-320 or 1e308). `elementwise` keeps w·ℓ.
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
        arr = _output_buffer(name, buf, what, shape, dtype, inputs)
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
        partial_sums = _run_fused(
            fused, pred_flat, target_flat, w, s1, s2, scale, el_flat, g_flat, h_flat, k
        )
        if partial_sums is None:  # a bad value the compiled kernel saw: raise its error
            _raise_input_error(loss_obj, pred, target_raw, resolved)
    else:
        partial_sums = _run_numpy(
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

    value: float | None = None
    if want_value:
        with np.errstate(over="ignore", invalid="ignore"):
            total = _fsum(partial_sums)
        reduced = total * scale if reduction == "mean" else total
        if reduction == "mean" and math.isinf(reduced):
            # Σ w·ℓ beyond the float64 range does not make the mean infinite: the mean is the
            # convex combination Σ pᵢℓᵢ with pᵢ = wᵢ/Σw ≤ 1, so recompute ℓ (w·ℓ may itself
            # have overflowed) and weight each term first (a rare path: one more kernel call)
            w_mean = None if w is None else _scaled(w, s1, s2)
            reduced = _convex_mean(loss_obj, pred_flat, target_flat, resolved, w_mean, scale)
        with np.errstate(over="ignore"):  # a float32 total beyond its range is inf
            value = float(dtype.type(reduced))

    return Evaluation(
        loss=loss_obj.name,
        params=resolved,
        reduction=reduction,
        value=value,
        weight_sum=_ldexp(weight_sum, exponent),
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


def _compiled_route(
    loss_obj: Loss, pred: FloatArray, target_raw: NDArray[Any], params: Mapping[str, float]
) -> tuple[FusedKernel | None, NDArray[Any]] | None:
    """(the loss's compiled kernel for these inputs, the target flat for it); (None, the
    checked target) for the NumPy path when the target was checked on the way; None when
    nothing was done. With a kernel, the prediction's values and, when
    :meth:`Loss.fused_target` says so, the target's are not checked yet: the kernel checks
    them in its one pass (see :func:`_run_fused`)."""
    if type(loss_obj).fused is Loss.fused or pred.size == 0:
        return None
    target_flat = loss_obj.fused_target(target_raw, pred, params)
    unchecked = target_flat is not None
    if target_flat is None:
        target_flat = loss_obj.prepare_target(target_raw, pred, params)
    rows = math.prod(loss_obj.elementwise_shape(pred.shape))
    pred_flat = pred.reshape(rows, -1) if loss_obj.kind == "multiclass" else pred.reshape(-1)
    fused = loss_obj.fused(pred_flat, target_flat, params)
    if fused is None and unchecked:
        return None
    return fused, target_flat


def _raise_input_error(
    loss_obj: Loss, pred: FloatArray, target_raw: NDArray[Any], params: Mapping[str, float]
) -> NoReturn:
    """The checks of the NumPy path, for the error (with the index) of a value that a
    compiled kernel reported."""
    check_finite("prediction", pred)
    loss_obj.check_prediction(pred, params)
    loss_obj.prepare_target(target_raw, pred, params)
    raise InvalidInputError(  # pragma: no cover - a kernel's checks are the NumPy path's
        "target", "has a value the loss does not accept"
    )


def _run_fused(
    fused: FusedKernel,
    pred_flat: FloatArray,
    target_flat: NDArray[Any],
    w: FloatArray | None,
    s1: np.floating[Any],
    s2: np.floating[Any],
    scale: float,
    el: FloatArray | None,
    g: FloatArray | None,
    h: FloatArray | None,
    k: int,
) -> list[float] | None:
    """The loss's compiled kernel on every chunk (see :mod:`losscore._fused`): Σ w'ℓ per
    chunk, or None when a chunk's probe reports a non-finite input or a bad label (the
    outputs written so far are then meaningless)."""
    dtype = pred_flat.dtype
    mode = (
        (ELEMENTWISE if el is not None else 0)
        | (GRADIENT if g is not None else 0)
        | (HESSIAN if h is not None else 0)
        | (WEIGHTED if w is not None else 0)
    )
    empty1 = np.empty(0, dtype=dtype)
    empty_g = np.empty((0, k) if pred_flat.ndim == 2 else 0, dtype=dtype)
    c = dtype.type(scale)
    run, consts = fused.run, fused.consts

    def chunk(lo: int, hi: int) -> tuple[float, float, int]:
        return cast(
            "tuple[float, float, int]",
            run(
                pred_flat[lo:hi],
                target_flat[lo:hi],
                consts,
                empty1 if w is None else w[lo:hi],
                s1,
                s2,
                c,
                empty1 if el is None else el[lo:hi],
                empty_g if g is None else g[lo:hi],
                empty_g if h is None else h[lo:hi],
                mode,
            ),
        )

    rows = max(1, FUSED_CHUNK_ELEMENTS // k)
    results = map_chunks(chunk, chunk_bounds(pred_flat.shape[0], rows))
    labels = 0
    for _, probe, seen in results:
        if probe != 0:
            return None
        labels |= seen
    if labels == LABEL_ZERO | LABEL_MINUS_ONE:  # 0/1 and ±1 labels mixed
        return None
    return [float(total) for total, _, _ in results]


def _run_numpy(
    loss_obj: Loss,
    params: Mapping[str, float],
    pred_flat: FloatArray,
    target_flat: NDArray[Any],
    w: FloatArray | None,
    factors: tuple[np.floating[Any], np.floating[Any]],
    scale: float,
    outs: tuple[FloatArray | None, FloatArray | None, FloatArray | None],
    want_value: bool,
    k: int,
) -> list[float]:
    """The loss's NumPy kernel on cache-sized chunks, writing the requested outputs and
    per-thread scratch for the others; weights and scale applied per chunk. Σ w'ℓ per chunk
    (0 when the value is not wanted)."""
    dtype = pred_flat.dtype
    multiclass = pred_flat.ndim == 2
    elementwise, gradient, hess = outs
    s1, s2 = factors
    scaled_weights = not (s1 == 1 and s2 == 1)
    c = dtype.type(scale)

    def run(lo: int, hi: int) -> float:
        rows = hi - lo
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            el = (
                scratch(_SLOT_ELEMENTWISE, rows, dtype)
                if elementwise is None
                else elementwise[lo:hi]
            )
            if gradient is None:
                g = scratch(_SLOT_GRADIENT, rows * k, dtype)
                g = g.reshape(rows, k) if multiclass else g
            else:
                g = gradient[lo:hi]
            h = None if hess is None else hess[lo:hi]
            loss_obj.kernel(pred_flat[lo:hi], target_flat[lo:hi], params, el, g, h)
            partial = 0.0
            if w is not None:
                wc = w[lo:hi]
                wm = wc
                if scaled_weights:
                    wm = np.multiply(wc, s1, out=scratch(_SLOT_WEIGHT, rows, dtype))
                    wm *= s2
                zero_mean_weight = not wm.all()
                if want_value and (scaled_weights or elementwise is None):
                    # Σw'ℓ from ℓ itself (`el` keeps w·ℓ, or is scratch)
                    terms = np.multiply(el, wm, out=scratch(_SLOT_TERMS, rows, dtype))
                    if zero_mean_weight:
                        terms[wm == 0] = 0
                    partial = float(np.sum(terms, dtype=np.float64))
                    want_sum = False
                else:
                    want_sum = want_value
                if elementwise is not None or want_sum:
                    el *= wc
                    if zero_mean_weight or not wc.all():
                        # A zero weight removes the element: 0·∞ (e.g. exponential loss at
                        # z < -709) must give 0, not NaN.
                        el[wc == 0] = 0
                    if want_sum:
                        partial = float(np.sum(el, dtype=np.float64))
                wg = wm[:, None] if multiclass else wm
                zero = wm == 0 if zero_mean_weight else None
                if gradient is not None:
                    g *= wg
                    if zero is not None:
                        g[zero] = 0
                if h is not None:
                    h *= wg
                    if zero is not None:
                        h[zero] = 0
            elif want_value:
                partial = float(np.sum(el, dtype=np.float64))
            if scale != 1.0:
                if gradient is not None:
                    g *= c
                if h is not None:
                    h *= c
            return partial

    rows_per_chunk = max(1, CHUNK_ELEMENTS // k)
    return map_chunks(run, chunk_bounds(pred_flat.shape[0], rows_per_chunk))


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
