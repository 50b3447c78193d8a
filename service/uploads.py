"""Training data uploaded as files (``multipart/form-data`` to ``/v1/train``).

The form has a ``request`` field with the JSON text of a
:class:`~service.schemas.train.TrainUpload` (the fit options) and either

* ``data``: a CSV file with a header row, or a Parquet file; ``request.target``,
  ``request.features`` and ``request.weight`` choose its columns (names or 0-based indices;
  the features default to every other column), read and checked by :mod:`losscore.tables`:
  every feature and weight cell a finite number, every CSV row as wide as the header; targets
  numbers (regression) or labels (classification); or
* ``X`` and ``y``: ``.npy`` files (``np.load(allow_pickle=False)``); y may hold strings
  for classification.

An optional ``sample_weight`` ``.npy`` file applies to both. Every error is a 422 naming
the form field and, for CSV, the column and line; n·d over ``LOSSCORE_TRAIN_MAX_ELEMENTS``
is a 413.
"""

from __future__ import annotations

import io
import math
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from losscore.tables import Selection, Table, read_csv, select
from service.arrays import MAX_DIMS
from service.errors import ApiError, from_validation_error
from service.jsonbody import parse_json

if TYPE_CHECKING:
    from service.schemas.train import TrainUpload

__all__ = [
    "FILE_PARTS",
    "TrainData",
    "check_elements",
    "load_npy",
    "load_npy_pair",
    "load_sample_weight",
    "parse_json_part",
    "read_file_parts",
    "select_table",
]

FILE_PARTS = ("data", "X", "y", "sample_weight")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TrainData:
    """Uploaded features, targets and optional sample weights."""

    X: NDArray[np.float64]
    y: NDArray[Any]
    sample_weight: NDArray[Any] | None = None


async def read_file_parts(
    form: FormData, names: Sequence[str], what: str = "a file part"
) -> dict[str, bytes]:
    """The bytes of the multipart file parts among *names* that are present; a plain form
    field under one of these names is a 422 naming it ("must be {what}"), and so is a part
    under any other name than these and ``request`` (a misspelt ``weights`` must not be
    silently ignored)."""
    known = {*names, "request"}
    for key in form:
        if key not in known:
            expected = ", ".join(f"`{n}`" for n in ("request", *names))
            raise ApiError.invalid(key, f"is not a known part; the parts are {expected}")
    files: dict[str, bytes] = {}
    for name in names:
        value = form.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            raise ApiError.invalid(name, f"must be {what}")
        files[name] = await value.read()
    return files


def parse_json_part(model: type[M], text: str | None, field: str) -> M:
    """Validate the JSON part of a multipart or binary request (a form field or a header).

    Error details are prefixed with *field*.
    """
    if text is None:
        raise ApiError.invalid(field, "is required: the JSON part of the request")
    try:
        return parse_json(model, text, field)
    except ValidationError as exc:
        err = from_validation_error(exc)
        for d in err.details:
            d.field = f"{field}.{d.field}" if d.field != "body" else field
        err.message = "; ".join(f"{d.field}: {d.reason}" for d in err.details) or err.message
        raise err from None


def check_elements(n: int, d: int, limit: int) -> None:
    """413 when the feature matrix has more than *limit* values."""
    if n * d > limit:
        raise ApiError(
            413,
            "too_many_elements",
            f"X has n·d = {n}·{d} = {n * d} values, over the training limit of {limit} "
            "(LOSSCORE_TRAIN_MAX_ELEMENTS)",
        )


# -- tables (CSV, Parquet) -------------------------------------------------------------------------

PARQUET_MAGIC = b"PAR1"


def select_table(opts: TrainUpload, files: dict[str, bytes], max_elements: int) -> Selection:
    """The columns of the ``data`` part (CSV text, or Parquet by its magic bytes) that the
    options choose (:func:`losscore.tables.select`), and the optional ``sample_weight`` part
    (not with a weight column)."""
    if opts.target is None:
        raise ApiError.invalid(
            "target", "is required with a `data` file: the column holding y (name or index)"
        )
    data = files["data"]

    def check_rows(n: int, width: int) -> None:
        check_elements(n, max(width - 1, 1), max_elements)

    if data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        table = _parquet_table(data, check_rows)
    else:
        table = read_csv(data, field="data", check_rows=check_rows)
    sel = select(
        table,
        target=opts.target,
        features=opts.features,
        weight=opts.weight,
        classification=opts.task == "classification",
    )
    sw = load_sample_weight(files.get("sample_weight"), max_elements)
    if sw is not None:
        if sel.sample_weight is not None:
            raise ApiError.invalid("sample_weight", "give either this part or `weight`, not both")
        return replace(sel, sample_weight=sw)
    return sel


def _parquet_table(data: bytes, check_rows: Callable[[int, int], None]) -> Table:
    """A Parquet file's columns as a table (numbers and labels as Parquet typed them)."""
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:  # the service extra installs pyarrow
        raise ApiError.invalid(
            "data", "Parquet needs pyarrow on the server (pip install pyarrow)"
        ) from None
    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        check_rows(meta.num_rows, meta.num_columns)
        frame = pq.read_table(io.BytesIO(data))
    except ApiError:
        raise
    except Exception as exc:  # pyarrow's errors: ArrowInvalid, OSError, ...
        raise ApiError.invalid("data", f"is not a readable Parquet file ({exc})") from None
    names = [str(n) for n in frame.column_names]
    columns = [frame.column(i).to_pylist() for i in range(frame.num_columns)]
    rows = [list(r) for r in zip(*columns, strict=True)]
    return Table(names, rows, [f"row {r}" for r in range(len(rows))], "data")


# -- .npy -----------------------------------------------------------------------------------------


# what numpy's header reader raises on a malformed header: its literal parser tokenizes
# (TokenError on an unclosed brace or string), evaluates (SyntaxError, ValueError, and
# RecursionError on deep nesting) and builds a dtype (TypeError, OverflowError)
_HEADER_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    TypeError,
    SyntaxError,
    OverflowError,
    RecursionError,
    tokenize.TokenError,
)
_MAX_DIM = 2**62  # numpy's shapes are int64: a larger dimension overflows on allocation


def _npy_header(field: str, data: bytes) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """(shape, dtype, offset of the data) from a ``.npy`` header, read before anything is
    allocated: a header is only a claim about the file."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except _HEADER_ERRORS as exc:
        raise ApiError.invalid(field, f"not a readable .npy file ({exc})") from None
    if len(shape) > MAX_DIMS:
        raise ApiError.invalid(field, f"has {len(shape)} dimensions, more than {MAX_DIMS}")
    if any(int(d) > _MAX_DIM for d in shape):  # even where another dimension is 0
        raise ApiError.invalid(field, f"declares a dimension beyond {_MAX_DIM}: {list(shape)}")
    return tuple(int(d) for d in shape), np.dtype(dtype), stream.tell()


def load_npy(
    field: str, data: bytes, kinds: str = "biuf", max_elements: int | None = None
) -> NDArray[Any]:
    """``np.load`` of one ``.npy`` file with ``allow_pickle=False``; errors name *field*.

    *kinds* are the accepted dtype kinds (``"biuf"``: real numbers; add ``"U"`` for strings).
    The header is checked first: at most *max_elements* values, and exactly as many bytes
    as the shape and dtype need (a lying header is a 422, never a huge allocation).
    """
    shape, dtype, offset = _npy_header(field, data)
    count = math.prod(shape)
    if max_elements is not None and count > max_elements:
        raise ApiError.invalid(
            field, f"declares {count} elements, more than the limit of {max_elements}"
        )
    if dtype.kind not in kinds or dtype.hasobject:
        allowed = "real numbers or strings" if "U" in kinds else "real numbers"
        raise ApiError.invalid(field, f"must hold {allowed}, got dtype {dtype}")
    if len(data) - offset != count * dtype.itemsize:
        raise ApiError.invalid(
            field,
            f"declares shape {list(shape)} of {dtype} ({count * dtype.itemsize} bytes) but holds "
            f"{len(data) - offset} bytes of data",
        )
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except _HEADER_ERRORS as exc:
        raise ApiError.invalid(field, f"not a readable .npy file ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise ApiError.invalid(field, "must be a single .npy array, not an .npz archive")
    return arr


def load_npy_pair(files: dict[str, bytes], max_elements: int) -> TrainData:
    """X (2-d, real) and y (1-d, real or strings) from ``.npy`` parts, optional sample_weight."""
    for name in ("X", "y"):
        if name not in files:
            raise ApiError.invalid(name, "is required with a .npy upload (a file part)")
    shape, _, _ = _npy_header("X", files["X"])
    if len(shape) != 2:
        raise ApiError.invalid("X", f"must be a 2-d array (n, d), got shape {list(shape)}")
    check_elements(shape[0], shape[1], max_elements)  # 413, before anything is allocated
    X = load_npy("X", files["X"], "biuf", max_elements)
    y = load_npy("y", files["y"], "biufU", max_elements)
    w = load_sample_weight(files.get("sample_weight"), max_elements)
    return TrainData(X.astype(np.float64, copy=False), y, w)


def load_sample_weight(data: bytes | None, max_elements: int) -> NDArray[Any] | None:
    """The optional ``sample_weight`` ``.npy`` part (real numbers)."""
    return None if data is None else load_npy("sample_weight", data, "biuf", max_elements)
