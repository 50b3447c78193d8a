"""The binary evaluate route's decoding: raw little-endian bytes or ``.npy`` files.

* ``application/octet-stream``: the JSON part (:class:`BinaryEvaluateHeader`) is in
  the ``X-Losscore-Request`` header; the body is prediction, target and (if
  ``weight_shape`` is given) weight, as little-endian bytes of ``dtype``, back to back.
* ``multipart/form-data``: a ``request`` field with the JSON part and ``prediction``,
  ``target`` and optional ``weight`` files in ``.npy`` format, loaded with
  ``allow_pickle=False``.

The response is JSON (arrays in ``encoding``, b64 by default), or with
``Accept: application/octet-stream`` the raw little-endian bytes of elementwise,
gradient (and hessian) back to back, described by the JSON ``X-Losscore-Result`` header.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.arrays import check_shape, out_number
from service.compute import Inputs, check_total, evaluation_dict, run_loss
from service.errors import ApiError
from service.responses import Chunk, array_chunk, dumps, dumps_chunks
from service.schemas.evaluate import BinaryEvaluateHeader
from service.settings import Settings
from service.uploads import load_npy, parse_json_part

__all__ = ["HEADER", "RESULT_HEADER", "Reply", "evaluate_npy", "evaluate_octets", "parse_header"]

HEADER = "X-Losscore-Request"
RESULT_HEADER = "X-Losscore-Result"


def parse_header(text: str | None, field: str) -> BinaryEvaluateHeader:
    """Validate the JSON part; errors name *field* (the header or the form field)."""
    return parse_json_part(BinaryEvaluateHeader, text, field)


@dataclass(frozen=True)
class Reply:
    """Response chunks with their media type and extra headers."""

    chunks: Sequence[Chunk]
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _run(header: BinaryEvaluateHeader, inputs: Inputs, raw_output: bool) -> Reply:
    ev = run_loss(header.loss, inputs, header.reduction, header.hessian, header.outputs)
    if not raw_output:
        return Reply(dumps_chunks(evaluation_dict(ev, inputs.encoding)))
    parts = [(n, ev.arrays[n]) for n in ("elementwise", "gradient", "hessian") if n in ev.arrays]
    little = [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for _, a in parts]
    meta = {
        "loss": {"name": ev.loss, **ev.params},
        "reduction": ev.reduction,
        "value": out_number(ev.value),
        "shape": list(ev.shape),
        "dtype": str(ev.dtype),
        "parts": [{"name": n, "shape": list(a.shape)} for n, a in parts],
    }
    return Reply(
        [array_chunk(a) for a in little],  # views of the result arrays: no copies
        "application/octet-stream",
        {RESULT_HEADER: dumps(meta).decode("ascii")},
    )


def evaluate_octets(
    header: BinaryEvaluateHeader, raw: bytes, settings: Settings, raw_output: bool = False
) -> Reply:
    """Split the raw body into the arrays and evaluate."""
    dtype = np.dtype(header.dtype).newbyteorder("<")
    if len(raw) % dtype.itemsize:
        raise ApiError.invalid(
            "body", f"{len(raw)} bytes is not a whole number of {header.dtype} values"
        )
    total = len(raw) // dtype.itemsize
    w_n = None if header.weight_shape is None else math.prod(header.weight_shape)
    p_shape = header.prediction_shape
    if p_shape is None:
        if header.target_shape is not None:
            raise ApiError.invalid(
                f"{HEADER}.prediction_shape", "is required when target_shape is given"
            )
        rest = total - (w_n or 0)
        if rest < 0 or rest % 2:
            raise ApiError.invalid(
                "body", f"{total} values cannot be split into prediction and target of one length"
            )
        p_shape = [rest // 2]
    t_shape = header.target_shape if header.target_shape is not None else p_shape
    limit = settings.max_array_elements
    sizes = [
        check_shape(name, shape, limit) if shape is not None else 0
        for name, shape in (
            ("prediction", p_shape),
            ("target", t_shape),
            ("weight", header.weight_shape),
        )
    ]
    if sum(sizes) != total:
        raise ApiError.invalid(
            "body",
            f"the body holds {total} {header.dtype} values but the shapes need {sum(sizes)}",
        )
    flat = np.frombuffer(raw, dtype=dtype)
    a, b = sizes[0], sizes[0] + sizes[1]
    arrays = [flat[:a].reshape(p_shape), flat[a:b].reshape(t_shape)]
    weight = None if w_n is None else flat[b:].reshape(header.weight_shape or [])
    check_total(settings, *arrays, weight)
    native = np.dtype(header.dtype)
    prediction, target = (x.astype(native, copy=False) for x in arrays)
    w = None if weight is None else weight.astype(native, copy=False)
    return _run(header, Inputs(prediction, target, w, header.encoding), raw_output)


def _load_limited(field: str, data: bytes, max_elements: int) -> NDArray[Any]:
    """One real-valued ``.npy`` file (no pickles) of at most *max_elements* values."""
    return load_npy(field, data, max_elements=max_elements)


def evaluate_npy(
    header: BinaryEvaluateHeader,
    files: dict[str, bytes],
    settings: Settings,
    raw_output: bool = False,
) -> Reply:
    """Load the ``.npy`` parts and evaluate."""
    limit = settings.max_array_elements
    for required in ("prediction", "target"):
        if required not in files:
            raise ApiError.invalid(required, "is required (a .npy file part)")
    prediction = _load_limited("prediction", files["prediction"], limit)
    target = _load_limited("target", files["target"], limit)
    weight = _load_limited("weight", files["weight"], limit) if "weight" in files else None
    check_total(settings, prediction, target, weight)
    return _run(header, Inputs(prediction, target, weight, header.encoding), raw_output)
