"""``evaluate``'s two passes over the data (private): a loss's compiled kernel, or its NumPy
kernel with the weighting and scaling done per cache-sized chunk.

The compiled pass reads the inputs once: the prediction's finiteness and, when the loss's
:meth:`~losscore.losses.Loss.fused_target` says so, the target's values are checked inside
the kernel (its probe), and the NumPy checks run only to name a bad value it reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, check_finite
from losscore._fused import LABEL_MINUS_ONE, LABEL_ZERO, FusedKernel
from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks, scratch
from losscore.errors import InvalidInputError
from losscore.losses import Loss

__all__ = ["compiled_route", "raise_input_error", "run_fused", "run_numpy"]

FUSED_CHUNK_ELEMENTS = 1 << 18  # a compiled kernel keeps no temporaries: fewer, larger chunks
# (each chunk costs a dispatch under the GIL; 38 chunks for 10^7 elements balance 2 threads)
# scratch slots of the NumPy path for outputs not asked for (kernels use slots 0 and 1)
_SLOT_ELEMENTWISE, _SLOT_GRADIENT, _SLOT_WEIGHT, _SLOT_TERMS = 10, 11, 12, 13


def compiled_route(
    loss_obj: Loss, pred: FloatArray, target_raw: NDArray[Any], params: Mapping[str, float]
) -> tuple[FusedKernel | None, NDArray[Any]] | None:
    """(the loss's compiled kernel for these inputs, the target flat for it); (None, the
    checked target) for the NumPy path when the target was checked on the way; None when
    nothing was done. With a kernel, the prediction's values and, when
    :meth:`Loss.fused_target` says so, the target's are not checked yet: the kernel checks
    them in its one pass (see :func:`run_fused`)."""
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


def raise_input_error(
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


def run_fused(
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
    chunk, or None when a chunk's probe reports a non-finite input or a bad label, or 0/1
    and ±1 labels are mixed (the outputs written so far are then meaningless).

    The inputs reach the kernel as read-only views: numba types a read-only array apart
    from a writable one, and arrays decoded from a request body (``np.frombuffer``) are
    read-only, so without the views each combination would compile twice."""
    dtype = pred_flat.dtype
    c = dtype.type(scale)
    run, consts = fused.run, fused.consts
    pred_flat, target_flat = _read_only(pred_flat), _read_only(target_flat)
    w = None if w is None else _read_only(w)

    def part(a: NDArray[Any] | None, lo: int, hi: int) -> NDArray[Any] | None:
        return None if a is None else a[lo:hi]

    def chunk(lo: int, hi: int) -> tuple[float, float, int]:
        return cast(
            "tuple[float, float, int]",
            run(
                pred_flat[lo:hi],
                target_flat[lo:hi],
                consts,
                part(w, lo, hi),
                s1,
                s2,
                c,
                part(el, lo, hi),
                part(g, lo, hi),
                part(h, lo, hi),
                dtype.type(0),  # blocks summed in the dtype (see losscore._fused)
            ),
        )

    bounds = chunk_bounds(pred_flat.shape[0], max(1, FUSED_CHUNK_ELEMENTS // k))
    results = map_chunks(chunk, bounds)
    if not _inputs_valid(results):
        return None
    return [float(total) for total, _, _ in results]


_Array = TypeVar("_Array", bound=NDArray[Any])


def _read_only(a: _Array) -> _Array:
    """A read-only view of *a* (*a* itself when it is read-only already)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _inputs_valid(results: list[tuple[float, float, int]]) -> bool:
    """False when a chunk's probe reports a non-finite input or a bad label, or when 0/1 and
    ±1 labels are mixed across chunks."""
    labels = 0
    for _, probe, seen in results:
        if probe != 0:
            return False
        labels |= seen
    return labels != LABEL_ZERO | LABEL_MINUS_ONE


def run_numpy(
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
