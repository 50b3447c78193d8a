"""Array encodings on the wire: decoding requests into NumPy and encoding responses.

Every array field accepts one of

* a nested JSON list of numbers (any rectangular shape; a bare number is 0-d);
* a tensor object ``{"shape": [...], "dtype": "float32"|"float64", "data": [flat row-major]}``;
* the same with ``"b64"``: base64 of the little-endian bytes instead of ``data``.

Responses use the encoding of the request's first array unless the request's
``"encoding"`` asks for another (``"list"``, ``"data"`` or ``"b64"``). Numbers
that overflow to ±inf are written as the strings ``"Infinity"``/``"-Infinity"``
in the list and data encodings (JSON has no infinities) and as IEEE bytes in b64.
"""

from __future__ import annotations

import binascii
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

import numpy as np
import pybase64
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.json_schema import models_json_schema
from typing_extensions import TypeAliasType

from losscore import check_finite
from losscore.errors import LosscoreError
from service.errors import ApiError
from service.responses import Blob
from service.schemas.components import ref, register

__all__ = [
    "ArrayIn",
    "ArrayOut",
    "Encoding",
    "Number",
    "OutNumber",
    "Tensor",
    "TensorOut",
    "check_shape",
    "decode_array",
    "encode_array",
    "encoding_of",
    "out_number",
]

Encoding = Literal["list", "data", "b64"]
DType = Literal["float32", "float64"]
NON_FINITE = ["Infinity", "-Infinity", "NaN"]
MAX_TYPED_DEPTH = 4  # nested lists are typed up to 4-d in the OpenAPI document
MAX_DIMS = 32  # any array, in any encoding (a tensor's shape has at most 32 entries)

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite JSON number (integers accepted; booleans, strings, NaN and Infinity rejected)."""


# -- the OpenAPI shapes ------------------------------------------------------------------------
# Measured with openapi-python-client 0.29, openapi-generator 7.26 `python` and
# `typescript-fetch` (--generate-alias-as-model): every generator reads and writes a `oneOf`
# of a number, one named array schema per depth and the tensor object; `anyOf`, recursive
# `$ref`s and list leaves that are unions of number and string break at least one of them.
# Hence nested lists in responses carry finite numbers only: an array with an overflow is
# answered as a tensor object even in the list encoding (see :func:`encode_array`).

_NUMBER: dict[str, Any] = {"type": "number"}


def _nested(depth: int) -> dict[str, Any]:
    return {
        "type": "array",
        "items": _NUMBER if depth == 1 else ref(f"Array{depth - 1}D"),
        "description": f"A {depth}-d nested list of finite numbers (rectangular).",
    }


_ARRAYS = [ref(f"Array{d}D") for d in range(1, MAX_TYPED_DEPTH + 1)]
_SCHEMAS: dict[str, dict[str, Any]] = {
    **{f"Array{d}D": _nested(d) for d in range(1, MAX_TYPED_DEPTH + 1)},
    "NonFinite": {
        "type": "string",
        "enum": NON_FINITE,
        "description": "A number outside the finite range, spelled as JSON cannot write it.",
    },
    "OutNumber": {
        "oneOf": [_NUMBER, ref("NonFinite")],
        "description": "A number; overflow is the string Infinity or -Infinity (never null).",
    },
    "ArrayIn": {
        "oneOf": [_NUMBER, *_ARRAYS, ref("Tensor")],
        "description": (
            "A number (0-d), a nested list of numbers (typed up to 4-d; deeper lists are "
            "accepted too), or a tensor object {shape, dtype, data|b64}."
        ),
    },
    "ArrayOut": {
        # NonFinite inlined: typescript-fetch's narrowing fails to compile with a $ref here
        "oneOf": [_NUMBER, {"type": "string", "enum": NON_FINITE}, *_ARRAYS, ref("TensorOut")],
        "description": (
            "A number (0-d), a nested list of finite numbers, or a tensor object. In the list "
            "encoding an array holding a non-finite value, or with more than 4 dimensions, "
            "comes as a tensor object with `data`."
        ),
    },
}

if TYPE_CHECKING:
    NestedList: TypeAlias = list[Any]
else:
    NestedList = TypeAliasType(
        "NestedList",
        list[Annotated[Union[Number, "NestedList"], Field(union_mode="left_to_right")]],
    )


class Tensor(BaseModel):
    """A flat row-major array with its shape and dtype; exactly one of ``data`` and ``b64``."""

    model_config = ConfigDict(extra="forbid")

    shape: list[Annotated[int, Field(strict=True, ge=0)]] = Field(max_length=32)
    dtype: DType = "float64"
    data: list[Number] | None = Field(None, description="Values in row-major order.")
    b64: str | None = Field(None, description="Base64 of the little-endian IEEE-754 bytes.")

    @model_validator(mode="after")
    def _one_payload(self) -> Tensor:
        if (self.data is None) == (self.b64 is None):
            raise ValueError("exactly one of 'data' and 'b64' must be given")
        return self


# Named aliases: pydantic then lists each as a definition (a component) whose schema is the
# hand-written one, and fields refer to it by name.
if TYPE_CHECKING:
    ArrayIn: TypeAlias = float | list[Any] | Tensor
    OutNumber: TypeAlias = float | str
else:
    ArrayIn = TypeAliasType(
        "ArrayIn",
        Annotated[
            Number | NestedList | Tensor,
            Field(union_mode="left_to_right"),
            WithJsonSchema(_SCHEMAS.pop("ArrayIn")),
        ],
    )
    OutNumber = TypeAliasType(
        "OutNumber",
        Annotated[
            float | Literal["Infinity", "-Infinity", "NaN"],
            WithJsonSchema(_SCHEMAS.pop("OutNumber")),
        ],
    )
    """A response number; ±inf (overflow) is spelled as a string, never as null."""

if TYPE_CHECKING:
    NestedOut: TypeAlias = list[Any]
else:
    NestedOut = TypeAliasType("NestedOut", list[Union[float, "NestedOut"]])


class TensorOut(BaseModel):
    """A response array as a tensor object (``data`` or ``b64``, per the encoding)."""

    shape: list[int]
    dtype: DType
    data: list[OutNumber] | None = None
    b64: str | None = None


if TYPE_CHECKING:
    ArrayOut: TypeAlias = float | str | list[Any] | TensorOut
else:
    ArrayOut = TypeAliasType(
        "ArrayOut",
        Annotated[OutNumber | NestedOut | TensorOut, WithJsonSchema(_SCHEMAS.pop("ArrayOut"))],
    )


def _model_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schemas of Tensor and TensorOut as components."""
    _, top = models_json_schema(
        [(Tensor, "validation"), (TensorOut, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    defs: dict[str, dict[str, Any]] = top["$defs"]
    return defs


for _name, _schema in {**_SCHEMAS, **_model_schemas()}.items():
    register(_name, _schema)


# -- decoding -------------------------------------------------------------------------------------


def encoding_of(value: Any) -> Encoding:
    """The encoding a request array used."""
    if isinstance(value, Tensor):
        return "b64" if value.b64 is not None else "data"
    return "list"


def _ragged_message(value: list[Any]) -> tuple[str, list[int] | None]:
    """Find the first place where a nested list is not rectangular, by walking it."""

    def walk(node: list[Any], shape: list[int], at: list[int]) -> tuple[str, list[int]] | None:
        depth = len(at)
        if depth >= len(shape):
            return None
        if len(node) != shape[depth]:
            return (f"ragged nested list: length {len(node)} where {shape[depth]} was expected", at)
        for i, item in enumerate(node):
            if depth + 1 < len(shape):
                if not isinstance(item, list):
                    return ("ragged nested list: a number where a list was expected", [*at, i])
                found = walk(item, shape, [*at, i])
                if found:
                    return found
            elif isinstance(item, list):
                return ("ragged nested list: a list where a number was expected", [*at, i])
        return None

    shape: list[int] = []
    node: Any = value
    while isinstance(node, list):
        shape.append(len(node))
        if not node:
            break
        node = node[0]
    found = walk(value, shape, [])
    if found is None:
        return ("not a rectangular array", None)
    return found[0], found[1] or None


def _check_finite(field: str, arr: NDArray[Any], what: str = "") -> None:
    """422 naming the first NaN/±Inf (losscore's check, so both layers word it alike)."""
    try:
        check_finite(field, arr)
    except LosscoreError as exc:
        raise ApiError.invalid(
            exc.field, exc.reason + what, list(exc.index or ()) or None
        ) from None


def _check_count(field: str, n: int, max_elements: int) -> None:
    if n > max_elements:
        raise ApiError.invalid(
            field, f"has {n} elements, more than the limit of {max_elements} per array"
        )


def check_shape(field: str, shape: list[int], max_elements: int) -> int:
    """The element count of *shape*; 422 when it, or any one dimension, exceeds the limit.

    Checking each dimension too keeps empty arrays such as ``[0, 10**30]`` (which NumPy
    cannot represent) from reaching NumPy.
    """
    if len(shape) > MAX_DIMS:
        raise ApiError.invalid(field, f"has {len(shape)} dimensions, more than {MAX_DIMS}")
    n = math.prod(shape)
    _check_count(field, n, max_elements)
    if any(d > max_elements for d in shape):
        raise ApiError.invalid(
            field,
            f"shape {shape} has a dimension larger than the limit of {max_elements} elements",
        )
    return n


def _depth(value: Any) -> int:
    """Nesting depth of a list along its first elements (its ndim when rectangular)."""
    depth = 0
    while isinstance(value, list):
        depth += 1
        if not value:
            break
        value = value[0]
    return depth


def decode_array(field: str, value: Any, *, max_elements: int) -> NDArray[Any]:
    """Decode one request array (already validated by pydantic) into a NumPy array.

    Raises :class:`ApiError` (422) naming *field*, the index and the reason for ragged
    lists, shape/length mismatches, bad base64, non-finite values and oversize arrays.
    """
    if isinstance(value, Tensor):
        return _decode_tensor(field, value, max_elements)
    if isinstance(value, float | int):
        return np.asarray(float(value), dtype=np.float64)
    depth = _depth(value)
    if depth > MAX_DIMS:
        raise ApiError.invalid(
            field, f"has {depth} dimensions, more than the {MAX_DIMS} an array may have"
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except ValueError:
        reason, index = _ragged_message(value)
        raise ApiError.invalid(field, reason, index) from None
    _check_count(field, arr.size, max_elements)
    return arr


def _decode_tensor(field: str, t: Tensor, max_elements: int) -> NDArray[Any]:
    n = check_shape(field, t.shape, max_elements)
    dtype = np.dtype(t.dtype)
    if t.data is not None:
        if len(t.data) != n:
            raise ApiError.invalid(
                f"{field}.data", f"has {len(t.data)} values but shape {t.shape} needs {n}"
            )
        with np.errstate(over="ignore"):
            arr = np.asarray(t.data, dtype=dtype).reshape(t.shape)
        if dtype == np.float32:
            _check_finite(f"{field}.data", arr.reshape(-1), " (overflows float32)")
        return arr
    assert t.b64 is not None
    try:
        raw = pybase64.b64decode(t.b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError.invalid(f"{field}.b64", f"not valid base64 ({exc})") from None
    if len(raw) != n * dtype.itemsize:
        raise ApiError.invalid(
            f"{field}.b64",
            f"decodes to {len(raw)} bytes but shape {t.shape} of {t.dtype} needs "
            f"{n * dtype.itemsize}",
        )
    arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(t.shape)
    _check_finite(field, arr)
    return arr.astype(dtype, copy=False)


# -- encoding -------------------------------------------------------------------------------------


def out_number(x: float | None) -> float | str | None:
    """A scalar for a response: finite floats as numbers, ±inf and NaN as strings."""
    if x is None or math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _finite(arr: NDArray[Any]) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.size == 0 or bool(np.isfinite(np.sum(arr))) or bool(np.isfinite(arr).all())


def _spelled(arr: NDArray[Any]) -> Any:
    """``arr`` ready for orjson: itself when finite, else nested lists with ±inf as strings."""
    if _finite(arr):
        return np.ascontiguousarray(arr)
    obj = arr.astype(object)
    obj[np.isposinf(arr)] = "Infinity"
    obj[np.isneginf(arr)] = "-Infinity"
    obj[np.isnan(arr)] = "NaN"
    return obj.tolist()


def encode_array(arr: NDArray[Any], encoding: Encoding) -> Any:
    """A JSON-ready (orjson, numpy-aware) representation of *arr* in *encoding*.

    In the list encoding an array holding ±inf or NaN is written in the data encoding
    instead (nested lists of the contract carry finite numbers only, see ``ArrayOut``).
    """
    if encoding == "list":
        if arr.ndim == 0:
            return out_number(float(arr))
        if arr.ndim <= MAX_TYPED_DEPTH and _finite(arr):
            return np.ascontiguousarray(arr)
        encoding = "data"  # deeper than the typed lists, or holding an overflow
    head: dict[str, Any] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
    if encoding == "b64":
        raw = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        head["b64"] = Blob(pybase64.b64encode(raw.data))  # spliced in, never copied
    else:
        head["data"] = _spelled(arr.reshape(-1))
    return head
