"""Coercion and validation of input arrays (private).

Dtype rule used everywhere: float32 stays float32, float64 stays float64,
integers and booleans become float64, a mix of float widths becomes float64,
float16 computes in float32. Complex, object and string arrays are rejected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._parallel import chunk_bounds, map_chunks
from losscore.errors import InvalidInputError

FloatArray = NDArray[np.floating[Any]]

_THREADED_SUM_MIN = 1 << 20  # check_finite sums arrays this large in blocks on the pool
_SUM_BLOCK = 1 << 18

__all__ = [
    "FloatArray",
    "as_numeric",
    "check_finite",
    "check_same_shape",
    "common_float_dtype",
    "first_index",
]


def as_numeric(field: str, value: Any) -> NDArray[Any]:
    """``np.asarray`` that only admits real numbers (bool, int, float)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists end up here
        raise InvalidInputError(field, f"not a rectangular numeric array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            field, f"must hold real numbers, got dtype {arr.dtype} (kind {arr.dtype.kind!r})"
        )
    return arr


def _float_width(arr: NDArray[Any]) -> type[np.floating[Any]]:
    if arr.dtype.kind == "f" and arr.dtype.itemsize <= 4:
        return np.float32
    return np.float64


def common_float_dtype(*arrays: NDArray[Any] | None) -> np.dtype[np.floating[Any]]:
    """The computation dtype for the given arrays (None entries are skipped)."""
    widths = [_float_width(a) for a in arrays if a is not None]
    if widths and all(w is np.float32 for w in widths):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def first_index(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    """Multi-dimensional index of the first True entry of *mask* (C order)."""
    flat = int(np.argmax(mask.reshape(-1)))
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


def all_finite(arr: NDArray[Any]) -> bool:
    """No NaN or ±Inf in *arr* (True for integer arrays and empty ones).

    Fast path: a finite sum proves every element finite (NaN and Inf propagate
    through addition), and costs no temporary array. Large contiguous arrays are
    summed in blocks on the thread pool. A sum that is not finite (a NaN or Inf, or
    finite values whose sum overflows) is settled element by element.
    """
    if arr.dtype.kind != "f" or arr.size == 0:
        return True
    if arr.size >= _THREADED_SUM_MIN and arr.flags.c_contiguous:
        flat = arr.reshape(-1)

        def block_finite(lo: int, hi: int) -> bool:
            with np.errstate(over="ignore", invalid="ignore"):
                return bool(np.isfinite(np.sum(flat[lo:hi])))

        if all(map_chunks(block_finite, chunk_bounds(flat.size, _SUM_BLOCK))):
            return True
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.sum(arr)):
                return True
    return bool(np.isfinite(arr).all())


def check_finite(field: str, arr: NDArray[Any]) -> None:
    """Raise naming the first NaN or ±Inf in *arr* (see :func:`all_finite`)."""
    if all_finite(arr):
        return
    idx = first_index(~np.isfinite(arr))
    v = float(arr[idx])
    what = "NaN" if np.isnan(v) else ("+Infinity" if v > 0 else "-Infinity")
    raise InvalidInputError(field, f"must be finite, found {what}", index=idx)


def check_same_shape(field: str, arr: NDArray[Any], expected: tuple[int, ...], other: str) -> None:
    if arr.shape != expected:
        raise InvalidInputError(
            field,
            f"shape {list(arr.shape)} does not match {other} shape {list(expected)} "
            "(no broadcasting is done)",
        )
