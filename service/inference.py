"""The Open Inference Protocol (KServe v2) over stored models: metadata, request decoding,
:func:`losscore.train.predict`, response encoding, with the binary tensor extension.

A stored model takes one input, ``X`` (FP64, or FP32, shape [n, n_features]) and returns
``prediction`` (regression values as FP64; class labels as INT64, FP64, BOOL or BYTES after
the model's ``classes``), ``decision_function`` (FP64 [n, n_outputs], as
``/v1/models/{id}/predict``) and, for losses with a probability link, ``probabilities``
(FP64 [n, k], columns in ``classes`` order).

Binary tensor extension: a request whose ``Inference-Header-Content-Length`` header is N has
its JSON in the first N bytes of the body and, after it, the little-endian bytes of each input
whose ``parameters.binary_data_size`` is given, in input order. Outputs asked for with
``binary_data`` (or the request's ``binary_data_output``) come the same way: the response is
the JSON header (its length in ``Inference-Header-Content-Length``) and their bytes, as
``application/octet-stream``. BYTES elements are each a 4-byte little-endian length and the
UTF-8 bytes; BOOL elements one byte each.

Bounds are those of ``/v1/models/{id}/predict``: the JSON is comma-counted before parsing
(``LOSSCORE_MAX_REQUEST_ELEMENTS``), an input's shape is checked against
``LOSSCORE_MAX_ARRAY_ELEMENTS`` before any array is built, the body against
``LOSSCORE_MAX_BODY_BYTES`` while it is read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import losscore
from losscore import check_finite
from losscore.losses import get_loss
from losscore.train import FitResult, predict
from service.arrays import check_shape, decode_array
from service.binary import Reply
from service.errors import ApiError
from service.jsonbody import count_check, parse_json
from service.responses import Chunk, array_chunk, dumps, dumps_chunks
from service.schemas.inference import (
    InferenceRequest,
    ModelMetadata,
    OutputDatatype,
    RequestInput,
    ServerMetadata,
    TensorMetadata,
)
from service.settings import Settings
from service.store import StoredModel

__all__ = [
    "EXTENSIONS",
    "HEADER_LENGTH",
    "INPUT",
    "PLATFORM",
    "VERSION",
    "infer",
    "model_metadata",
    "server_metadata",
    "split_body",
]

HEADER_LENGTH = "Inference-Header-Content-Length"
INPUT = "X"
PLATFORM = "losscore_linear"
VERSION = "1"  # a stored model never changes: its one version
EXTENSIONS = ["binary_tensor_data"]
_DTYPES: dict[str, np.dtype[Any]] = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


# -- metadata -----------------------------------------------------------------------------------


def server_metadata() -> ServerMetadata:
    return ServerMetadata(name="losscore", version=losscore.__version__, extensions=EXTENSIONS)


def _label_datatype(result: FitResult) -> OutputDatatype:
    """The datatype of ``prediction``: FP64 values, or the labels' kind."""
    if result.classes is None:
        return "FP64"
    kind = np.asarray(result.classes).dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    return "BYTES"


def _has_probabilities(result: FitResult) -> bool:
    if result.task != "classification":
        return False
    return get_loss(result.loss, field="model.loss").spec.training.probability is not None


def _outputs(result: FitResult) -> list[TensorMetadata]:
    outputs = [
        TensorMetadata(name="prediction", datatype=_label_datatype(result), shape=[-1]),
        TensorMetadata(name="decision_function", datatype="FP64", shape=[-1, result.n_outputs]),
    ]
    if _has_probabilities(result):
        assert result.classes is not None
        k = len(result.classes)
        outputs.append(TensorMetadata(name="probabilities", datatype="FP64", shape=[-1, k]))
    return outputs


def model_metadata(stored: StoredModel) -> ModelMetadata:
    """The model's name (its id), version, platform, input and outputs."""
    result = stored.result
    return ModelMetadata(
        name=stored.model_id,
        versions=[VERSION],
        platform=PLATFORM,
        inputs=[TensorMetadata(name=INPUT, datatype="FP64", shape=[-1, result.n_features])],
        outputs=_outputs(result),
    )


# -- requests -----------------------------------------------------------------------------------


def split_body(
    raw: bytes, header_length: str | None, settings: Settings
) -> tuple[InferenceRequest, memoryview]:
    """The validated JSON part of a body and the binary part after it (empty without the
    ``Inference-Header-Content-Length`` header)."""
    body = memoryview(raw)
    if header_length is None:
        head, blob = raw, body[len(raw) :]
    else:
        text = header_length.strip()
        if not text.isdigit() or len(text) > 18:
            raise _bad(f"{HEADER_LENGTH}: must be a byte count, got {header_length[:40]!r}")
        n = int(text)
        if n > len(raw):
            raise _bad(f"{HEADER_LENGTH}: is {n} bytes but the body has only {len(raw)}")
        head, blob = raw[:n], body[n:]
    count_check(head, settings.max_request_elements)
    return parse_json(InferenceRequest, head), blob


def _input(req: InferenceRequest) -> RequestInput:
    if len(req.inputs) != 1:
        names = ", ".join(repr(i.name) for i in req.inputs)
        raise _bad(f"inputs: the model takes one input {INPUT!r}, got {len(req.inputs)} ({names})")
    inp = req.inputs[0]
    if inp.name != INPUT:
        raise _bad(f"inputs[0].name: unknown input {inp.name!r}; the model's input is {INPUT!r}")
    return inp


def _rows(inp: RequestInput, blob: memoryview, n_features: int, settings: Settings) -> NDArray[Any]:
    """The input as an (n, n_features) array of its datatype, after every check."""
    shape = list(inp.shape)
    if len(shape) != 2:
        raise _bad(f"{INPUT}.shape: must be [n, {n_features}] (rows, features), got {shape}")
    n = check_shape(INPUT, shape, settings.max_array_elements)
    if shape[1] != n_features:
        raise _bad(
            f"{INPUT}.shape: has {shape[1]} features but the model was fitted on {n_features}"
        )
    dtype = _DTYPES[inp.datatype]
    size = inp.parameters.binary_data_size if inp.parameters is not None else None
    if size is not None:
        if inp.data is not None:
            raise _bad(f"{INPUT}: give data or parameters.binary_data_size, not both")
        if size != n * dtype.itemsize:
            raise _bad(
                f"{INPUT}.parameters.binary_data_size: is {size} bytes but shape {shape} of "
                f"{inp.datatype} needs {n * dtype.itemsize}"
            )
        if len(blob) != size:
            raise _bad(
                f"body: {len(blob)} bytes follow the JSON header ({HEADER_LENGTH}) but "
                f"{INPUT}.parameters.binary_data_size is {size}"
            )
        arr = np.frombuffer(blob, dtype=dtype).reshape(shape)
        check_finite(INPUT, arr)
        return arr.astype(dtype.newbyteorder("="), copy=False)
    if len(blob):
        raise _bad(
            f"body: {len(blob)} bytes follow the JSON header but no input has "
            "parameters.binary_data_size"
        )
    if inp.data is None:
        raise _bad(
            f"{INPUT}.data: is required (or parameters.binary_data_size, with the bytes after "
            f"the JSON header, {HEADER_LENGTH})"
        )
    values = decode_array(f"{INPUT}.data", inp.data, max_elements=settings.max_array_elements)
    if values.size != n:
        raise _bad(f"{INPUT}.data: has {values.size} values but shape {shape} needs {n}")
    if inp.datatype == "FP64":
        return values.reshape(shape)
    with np.errstate(over="ignore"):
        narrow = values.astype(np.float32).reshape(shape)
    try:
        check_finite(f"{INPUT}.data", narrow)
    except losscore.LosscoreError as exc:
        raise _bad(f"{INPUT}.data: {exc.reason} (overflows FP32)") from None
    return narrow


# -- responses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    name: str
    binary: bool


def _wanted(req: InferenceRequest, available: list[str]) -> list[_Wanted]:
    """The outputs to send, in request order (default: all the model has), each with its
    form (binary or JSON)."""
    default = bool(req.parameters and req.parameters.binary_data_output)
    if req.outputs is None:
        return [_Wanted(name, default) for name in available]
    wanted: list[_Wanted] = []
    for i, out in enumerate(req.outputs):
        if out.name not in available:
            raise _bad(
                f"outputs[{i}].name: unknown output {out.name!r}; this model's outputs are "
                + ", ".join(repr(a) for a in available)
            )
        if any(w.name == out.name for w in wanted):
            raise _bad(f"outputs[{i}].name: {out.name!r} is requested twice")
        params = out.parameters
        if params is not None and params.classification is not None:
            raise _bad(
                f"outputs[{i}].parameters.classification: the classification extension is not "
                "supported (probabilities gives every class's probability)"
            )
        binary = params.binary_data if params is not None else None
        wanted.append(_Wanted(out.name, default if binary is None else binary))
    return wanted


def _raw(arr: NDArray[Any], datatype: OutputDatatype) -> list[Chunk]:
    """The binary tensor extension's bytes of *arr* (row-major, little-endian)."""
    if datatype == "BYTES":  # one chunk: a chunk is an ASGI message
        encoded = [str(label).encode("utf-8") for label in arr.reshape(-1).tolist()]
        return [b"".join(struct.pack("<I", len(e)) + e for e in encoded)]
    dtype = {"FP64": "<f8", "INT64": "<i8", "BOOL": "?"}[datatype]
    return [array_chunk(np.ascontiguousarray(arr, dtype=dtype))]


def _json_data(name: str, arr: NDArray[Any], datatype: OutputDatatype) -> Any:
    """*arr* flat for JSON; 400 for a value JSON cannot hold (±inf, NaN)."""
    flat = arr.reshape(-1)
    if datatype == "BYTES":
        return [str(label) for label in flat.tolist()]
    if datatype == "FP64" and not losscore.all_finite(flat):
        row = int(np.flatnonzero(~np.isfinite(flat))[0]) // max(1, flat.size // arr.shape[0])
        raise _bad(
            f"outputs: {name} of row {row} is not finite (a score leaves the float64 range): "
            "rescale the rows, or ask for the output with binary_data"
        )
    return np.ascontiguousarray(flat)


def infer(
    stored: StoredModel, req: InferenceRequest, blob: memoryview, settings: Settings
) -> Reply:
    """Decode the input, predict, and encode the outputs wanted."""
    result = stored.result
    wanted = _wanted(req, [m.name for m in _outputs(result)])
    X = _rows(_input(req), blob, result.n_features, settings)
    p = predict(result, X)
    n = X.shape[0]
    labels = np.asarray(p.prediction)
    if result.task == "regression" and not losscore.all_finite(labels):
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise _bad(
            f"{INPUT}[{row}]: the predicted value leaves the float64 range (rescale the rows)"
        )
    values: dict[str, tuple[NDArray[Any] | None, OutputDatatype]] = {
        "prediction": (labels, _label_datatype(result)),
        "decision_function": (p.decision_function.reshape(n, -1), "FP64"),
        "probabilities": (p.probability, "FP64"),
    }
    outputs: list[dict[str, Any]] = []
    chunks: list[Chunk] = []
    for w in wanted:
        arr, datatype = values[w.name]
        assert arr is not None  # probabilities are listed only for models that have them
        out: dict[str, Any] = {"name": w.name, "shape": list(arr.shape), "datatype": datatype}
        if w.binary:
            raw = _raw(arr, datatype)
            out["parameters"] = {"binary_data_size": sum(len(c) for c in raw)}
            chunks += raw
        else:
            out["data"] = _json_data(w.name, arr, datatype)
        outputs.append(out)
    body: dict[str, Any] = {"model_name": stored.model_id, "model_version": VERSION}
    if req.id is not None:
        body["id"] = req.id
    body["outputs"] = outputs
    if not chunks:
        return Reply(dumps_chunks(body))
    head = dumps(body)
    return Reply([head, *chunks], "application/octet-stream", {HEADER_LENGTH: str(len(head))})
