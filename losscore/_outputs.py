"""``evaluate``'s outputs and caller-owned buffers (private): which outputs to compute, and
the checks a buffer passes before anything is written to it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.errors import InvalidInputError, InvalidParameterError

__all__ = ["OUTPUTS", "Output", "output_buffer", "resolve_outputs"]

Output = Literal["value", "elementwise", "gradient", "hessian"]
OUTPUTS: tuple[str, ...] = get_args(Output)


def resolve_outputs(
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


def output_buffer(
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
