"""Request → losscore → response, as plain synchronous functions (run in worker threads).

No FastAPI here: each function takes the raw body (or decoded inputs), calls
:mod:`losscore` and builds a response dict whose arrays are NumPy or base64 blobs,
serialised by :mod:`service.responses` into chunks without a Python-level loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import losscore
from service.arrays import Encoding, decode_array, encode_array, encoding_of, out_number
from service.errors import ApiError
from service.jsonbody import count_check, parse_json
from service.responses import dumps, dumps_chunks
from service.schemas.evaluate import CompareRequest, EvaluateRequest, OutputName
from service.schemas.params import NamedParams
from service.settings import Settings

__all__ = [
    "Inputs",
    "compare",
    "decode_inputs",
    "dumps",
    "evaluate",
    "evaluation_dict",
]


@dataclass(frozen=True)
class Inputs:
    """Decoded input arrays of an evaluate/compare request and the response encoding."""

    prediction: NDArray[Any]
    target: NDArray[Any]
    weight: NDArray[Any] | None
    encoding: Encoding


def check_total(settings: Settings, *arrays: NDArray[Any] | None) -> None:
    """422 when the arrays together exceed ``max_request_elements``."""
    total = sum(a.size for a in arrays if a is not None)
    if total > settings.max_request_elements:
        raise ApiError.invalid(
            "body",
            f"the arrays hold {total} elements together, more than the limit of "
            f"{settings.max_request_elements} per request",
        )


def decode_inputs(req: EvaluateRequest | CompareRequest, settings: Settings) -> Inputs:
    """Decode prediction, target and weight, enforcing the element limits."""
    limit = settings.max_array_elements
    prediction = decode_array("prediction", req.prediction, max_elements=limit)
    target = decode_array("target", req.target, max_elements=limit)
    weight = None if req.weight is None else decode_array("weight", req.weight, max_elements=limit)
    check_total(settings, prediction, target, weight)
    if prediction.dtype == np.float32:  # nested lists carry no dtype: follow the prediction's
        target = _as_float32(target, req.target, "target")
        weight = None if weight is None else _as_float32(weight, req.weight, "weight")
    encoding = req.encoding or encoding_of(req.prediction)
    return Inputs(prediction, target, weight, encoding)


def _as_float32(arr: NDArray[Any], value: Any, field: str) -> NDArray[Any]:
    if encoding_of(value) != "list":
        return arr
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    if not all_finite(out):
        raise ApiError.invalid(field, "a value overflows float32 (the prediction's dtype)")
    return out


def all_finite(*arrays: NDArray[Any] | None) -> bool:
    """No NaN or ±Infinity in any of the arrays (None counts as finite)."""
    return all(a is None or losscore.all_finite(a) for a in arrays)


def evaluation_dict(ev: losscore.Evaluation, encoding: Encoding) -> dict[str, Any]:
    """The response of one evaluation."""
    value = ev.value
    arrays = {name: ev.arrays.get(name) for name in ("elementwise", "gradient", "hessian")}
    overflow = not (all_finite(*arrays.values())) or (value is not None and not np.isfinite(value))
    return {
        "loss": {"name": ev.loss, **ev.params},
        "reduction": ev.reduction,
        "value": out_number(value),
        **{name: None if a is None else encode_array(a, encoding) for name, a in arrays.items()},
        "shape": list(ev.shape),
        "dtype": str(ev.dtype),
        "overflow": overflow,
    }


def run_loss(
    loss: NamedParams,
    inputs: Inputs,
    reduction: Any,
    hessian: bool,
    outputs: list[OutputName] | None,
    *,
    field: str = "loss",
) -> losscore.Evaluation:
    """``losscore.evaluate`` with the request's loss, computing only the *outputs* the
    response returns; parameter errors name *field*."""
    params: dict[str, Any] = loss.params()
    try:
        return losscore.evaluate(
            loss.name,
            inputs.prediction,
            inputs.target,
            weight=inputs.weight,
            reduction=reduction,
            hessian=hessian,
            outputs=outputs,
            **params,
        )
    except losscore.LosscoreError as exc:
        if field != "loss" and exc.field.startswith("loss"):
            exc.field = field + exc.field[4:]
        raise


def evaluate(raw: bytes, settings: Settings) -> list[bytes]:
    """``POST /v1/evaluate`` from the raw body to the response bytes."""
    count_check(raw, settings.max_request_elements)
    req = parse_json(EvaluateRequest, raw)
    inputs = decode_inputs(req, settings)
    ev = run_loss(req.loss, inputs, req.reduction, req.hessian, req.outputs)
    return dumps_chunks(evaluation_dict(ev, inputs.encoding))


def compare(raw: bytes, settings: Settings) -> list[bytes]:
    """``POST /v1/compare``: one evaluation per loss, in order."""
    count_check(raw, settings.max_request_elements)
    req = parse_json(CompareRequest, raw)
    if len(req.losses) > settings.max_compare_losses:
        raise ApiError.invalid(
            "losses", f"at most {settings.max_compare_losses} losses per request"
        )
    inputs = decode_inputs(req, settings)
    results = [
        evaluation_dict(
            run_loss(loss, inputs, req.reduction, req.hessian, req.outputs, field=f"losses[{i}]"),
            inputs.encoding,
        )
        for i, loss in enumerate(req.losses)
    ]
    return dumps_chunks({"results": results})
