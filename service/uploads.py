"""Training data uploaded as files (``multipart/form-data`` to ``/v1/train``).

The form has a ``request`` field with the JSON text of a
:class:`~service.schemas.train.TrainUpload` (the fit options) and either

* ``data``: a CSV file with a header row; ``request.target`` names the column holding y,
  every other column is a feature. Parsing is strict: every feature cell must be a finite
  number, every row must have as many cells as the header, the target column must exist.
  Target cells are numbers (regression) or any labels (classification: integers if every
  cell is one, else numbers if every cell is one, else the text of the cell); or
* ``X`` and ``y``: ``.npy`` files (``np.load(allow_pickle=False)``); y may hold strings
  for classification.

An optional ``sample_weight`` ``.npy`` file applies to both. Every error is a 422 naming
the form field and, for CSV, the column and line; n·d over ``LOSSCORE_TRAIN_MAX_ELEMENTS``
is a 413.
"""

from __future__ import annotations

import csv
import io
import math
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from service.arrays import MAX_DIMS
from service.errors import ApiError, from_validation_error
from service.jsonbody import parse_json

__all__ = [
    "FILE_PARTS",
    "TrainData",
    "check_elements",
    "load_npy",
    "load_npy_pair",
    "load_sample_weight",
    "parse_csv",
    "parse_json_part",
    "read_file_parts",
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


# -- CSV ------------------------------------------------------------------------------------------


def _first_bad_number(cells: list[str]) -> int:
    """Index of the first cell that is not a finite number (-1 if none)."""
    for i, cell in enumerate(cells):
        try:
            value = float(cell)
        except ValueError:
            return i
        if not math.isfinite(value):
            return i
    return -1


def _numbers(cells: list[str]) -> NDArray[np.float64] | None:
    """The cells as finite float64, or None if some cell is not one."""
    try:
        arr = np.array(cells, dtype=np.float64)
    except ValueError:
        return None
    return arr if bool(np.isfinite(arr).all()) else None


def _labels(cells: list[str]) -> NDArray[Any]:
    """Class labels: integers if every cell is one, else numbers, else the (stripped) text."""
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    nums = _numbers(cells)
    return nums if nums is not None else np.array([c.strip() for c in cells])


def parse_csv(
    data: bytes, target: str | None, *, classification: bool, max_elements: int, field: str = "data"
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """X (n, d) and y from CSV text with a header row; *target* names y's column."""
    if target is None:
        raise ApiError.invalid(
            "request.target", "is required with a CSV upload: the name of the column holding y"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError.invalid(field, f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ApiError.invalid(
            field, "is empty: a header row and at least one data row are needed (n = 0)"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise ApiError.invalid(field, f"the header names column {name!r} twice")
            seen.add(name)
        if target not in seen:
            raise ApiError.invalid(
                "request.target",
                f"column {target!r} is not in the CSV header (columns: {', '.join(header)})",
            )
        t = header.index(target)
        feature_names = [h for i, h in enumerate(header) if i != t]
        d = len(feature_names)
        if d == 0:
            raise ApiError.invalid(
                field, f"has no feature columns (d = 0): only the target column {target!r}"
            )
        width = len(header)
        features: list[list[str]] = []
        targets: list[str] = []
        lines: list[int] = []
        for row in reader:
            if not row:  # a blank line
                continue
            if len(row) != width:
                raise ApiError.invalid(
                    field,
                    f"line {reader.line_num} (data row {len(features) + 1}) has {len(row)} "
                    f"cells; the header has {width}",
                    index=[len(features)],
                )
            if (len(features) + 1) * d > max_elements:
                check_elements(len(features) + 1, d, max_elements)
            targets.append(row[t])
            del row[t]
            features.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ApiError.invalid(field, f"is not valid CSV (line {reader.line_num}: {exc})") from None
    if not features:
        raise ApiError.invalid(field, "has a header but no data rows (n = 0)")
    X = _numbers([c for row in features for c in row])
    if X is None:
        for r, row in enumerate(features):
            j = _first_bad_number(row)
            if j >= 0:
                raise ApiError.invalid(
                    field,
                    f"column {feature_names[j]!r}, line {lines[r]}: {row[j]!r} is not a finite "
                    "number (every feature cell must be one)",
                    index=[r, j],
                )
        raise AssertionError("unreachable: some cell failed to parse")  # pragma: no cover
    if classification:
        y = _labels(targets)
        if y.dtype.kind == "U":
            for r, cell in enumerate(targets):
                if not cell.strip():
                    raise ApiError.invalid(
                        field, f"column {target!r}, line {lines[r]}: the label is empty", index=[r]
                    )
    else:
        nums = _numbers(targets)
        if nums is None:
            r = _first_bad_number(targets)
            raise ApiError.invalid(
                field,
                f"column {target!r}, line {lines[r]}: {targets[r]!r} is not a finite number "
                "(regression targets must be numbers)",
                index=[r],
            )
        y = nums
    return X.reshape(len(features), d), y


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
