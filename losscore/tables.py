"""Named columns: training data as a table (CSV text, or JSON records), the columns a fit
reads from it, and rows to predict in a model's feature order.

    table = read_csv(open("examples/iris.csv", "rb").read())
    data = select(table, target="species", features=["sepal_length", "petal_width"],
                  classification=True)
    result = losscore.train.fit(data.X, data.y, task="classification", loss="hinge")
    result = with_feature_names(result, data.feature_names)
    rows = rows_of_records([{"sepal_length": 5.1, "petal_width": 0.2}], result.feature_names)

Conventions:

* a table has a header of distinct names; ``features`` and ``target`` (and ``weight``) name
  columns or give their 0-based indices; ``features`` defaults to every column that is not the
  target or the weight;
* feature and weight cells must be finite numbers; targets are numbers (regression) or labels
  (classification: integers if every cell is one, else numbers if every cell is one, else the
  text of the cell, never empty);
* records to predict must have exactly the model's feature names: a missing or an extra key is
  an error naming it (a silently ignored column would be a silently wrong prediction).

Every error is an :class:`~losscore.errors.InvalidInputError` naming the field (with a
``prefix`` for the option fields, e.g. ``request.``) and, where there is one, the column and
the line or record.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore.errors import InvalidInputError
from losscore.train._result import FitResult

__all__ = [
    "Selection",
    "Table",
    "read_csv",
    "records_table",
    "rows_of_records",
    "select",
    "with_feature_names",
]

Column = str | int


@dataclass(frozen=True)
class Table:
    """A header of distinct names and rows of cells (text from CSV, JSON values from records);
    ``where[r]`` names row r for errors (``line 7``, ``record 3``); ``field``: the field that
    holds the table (``data``, ``records``)."""

    names: list[str]
    rows: list[list[Any]]
    where: list[str]
    field: str


@dataclass(frozen=True)
class Selection:
    """The arrays of a fit: X (n, d) float64, y, sample weights or None, the feature names."""

    X: NDArray[np.float64]
    y: NDArray[Any]
    sample_weight: NDArray[np.float64] | None
    feature_names: list[str]


def read_csv(
    data: bytes,
    *,
    field: str = "data",
    check_rows: Callable[[int, int], None] | None = None,
) -> Table:
    """The table of CSV bytes (UTF-8, optional BOM) with a header row; blank lines are
    skipped. ``check_rows(n, width)`` runs before each row is kept (a caller's size limit)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(field, f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidInputError(
            field, "is empty: a header row and at least one data row are needed (n = 0)"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[Any]] = []
    where: list[str] = []
    try:
        names = _header([h.strip() for h in next(reader)], field)
        for row in reader:
            if not row:  # a blank line
                continue
            if len(row) != len(names):
                raise InvalidInputError(
                    field,
                    f"line {reader.line_num} (data row {len(rows) + 1}) has {len(row)} cells; "
                    f"the header has {len(names)}",
                    index=[len(rows)],
                )
            if check_rows is not None:
                check_rows(len(rows) + 1, len(names))
            rows.append(row)
            where.append(f"line {reader.line_num}")
    except csv.Error as exc:
        raise InvalidInputError(
            field, f"is not valid CSV (line {reader.line_num}: {exc})"
        ) from None
    if not rows:
        raise InvalidInputError(field, "has a header but no data rows (n = 0)")
    return Table(names, rows, where, field)


def records_table(records: Sequence[Mapping[str, Any]], *, field: str = "records") -> Table:
    """The table of JSON records (objects with the same keys; values numbers or labels)."""
    if not records:
        raise InvalidInputError(field, "is empty: at least one record is needed (n = 0)")
    names = list(records[0])
    known = set(names)
    rows = []
    for r, record in enumerate(records):
        if set(record) != known:
            _missing_or_extra(record, names, field, f"record {r}", index=[r])
        rows.append([record[name] for name in names])
    return Table(names, rows, [f"record {r}" for r in range(len(records))], field)


def select(
    table: Table,
    *,
    target: Column,
    features: Sequence[Column] | None = None,
    weight: Column | None = None,
    classification: bool,
    prefix: str = "",
) -> Selection:
    """The columns of a fit (see the module docstring); option fields are named
    ``{prefix}target``, ``{prefix}features``, ``{prefix}weight``."""
    t = _index(table, target, f"{prefix}target")
    w = None if weight is None else _index(table, weight, f"{prefix}weight")
    if w == t:
        raise InvalidInputError(f"{prefix}weight", "is the target column")
    taken = {t} if w is None else {t, w}
    if features is None:
        cols = [j for j in range(len(table.names)) if j not in taken]
    else:
        cols = [_index(table, f, f"{prefix}features", index=[i]) for i, f in enumerate(features)]
        _no_repeats(table, cols, taken, f"{prefix}features")
    if not cols:
        raise InvalidInputError(
            table.field, f"has no feature columns (d = 0): only {table.names[t]!r}"
        )
    X = np.column_stack([_numbers(table, j, "feature") for j in cols])
    y = _labels(table, t) if classification else _numbers(table, t, "regression target")
    sw = None if w is None else _numbers(table, w, "weight")
    return Selection(X, y, sw, [table.names[j] for j in cols])


def rows_of_records(
    records: Sequence[Mapping[str, Any]], feature_names: Sequence[str], *, field: str = "records"
) -> NDArray[np.float64]:
    """Rows (n, d) in the order of *feature_names* from records with exactly those keys."""
    if not records:
        raise InvalidInputError(field, "is empty: at least one record is needed (n = 0)")
    names = list(feature_names)
    known = set(names)
    X = np.empty((len(records), len(names)))
    for r, record in enumerate(records):
        if set(record) != known:
            _missing_or_extra(record, names, field, f"record {r}", index=[r])
        for j, name in enumerate(names):
            value = record[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(
                    field, f"record {r}, column {name!r}: {value!r} is not a number", index=[r, j]
                )
            if not math.isfinite(value):
                raise InvalidInputError(
                    field, f"record {r}, column {name!r}: {value!r} is not finite", index=[r, j]
                )
            X[r, j] = value
    return X


def with_feature_names(result: FitResult, names: Sequence[str]) -> FitResult:
    """*result* naming its d features (the columns it was fitted on, in order)."""
    if len(names) != result.n_features:
        raise InvalidInputError(
            "feature_names", f"has {len(names)} names for {result.n_features} features"
        )
    return replace(result, feature_names=tuple(names))


# -- helpers --------------------------------------------------------------------------------------


def _header(names: list[str], field: str) -> list[str]:
    seen: set[str] = set()
    for j, name in enumerate(names):
        if not name:
            raise InvalidInputError(
                field, f"header cell {j + 1} is empty: every column needs a name"
            )
        if name in seen:
            raise InvalidInputError(field, f"the header names column {name!r} twice")
        seen.add(name)
    return names


def _index(table: Table, column: Column, field: str, index: list[int] | None = None) -> int:
    """The position of a column given by name or 0-based index."""
    if isinstance(column, bool):
        raise InvalidInputError(field, f"{column!r} is not a column name or index", index=index)
    if isinstance(column, int):
        if not 0 <= column < len(table.names):
            raise InvalidInputError(
                field,
                f"column index {column} is out of range: the table has {len(table.names)} "
                f"columns (0 to {len(table.names) - 1})",
                index=index,
            )
        return column
    if column not in table.names:
        raise InvalidInputError(
            field,
            f"column {column!r} is not in the table (columns: {', '.join(table.names)})",
            index=index,
        )
    return table.names.index(column)


def _no_repeats(table: Table, cols: list[int], taken: set[int], field: str) -> None:
    seen: set[int] = set()
    for i, j in enumerate(cols):
        if j in taken:
            raise InvalidInputError(
                field, f"column {table.names[j]!r} is the target or the weight", index=[i]
            )
        if j in seen:
            raise InvalidInputError(field, f"names column {table.names[j]!r} twice", index=[i])
        seen.add(j)


def _missing_or_extra(
    record: Mapping[str, Any], names: list[str], field: str, where: str, index: list[int]
) -> None:
    missing = [n for n in names if n not in record]
    if missing:
        raise InvalidInputError(field, f"{where} lacks column {missing[0]!r}", index=index)
    extra = [k for k in record if k not in set(names)]
    raise InvalidInputError(
        field,
        f"{where} has column {extra[0]!r}, which is not one of the model's features "
        f"({', '.join(names)})",
        index=index,
    )


def _number(cell: Any) -> float | None:
    """A finite float from a CSV cell or a JSON number, else None."""
    if isinstance(cell, bool):
        return None
    try:
        value = float(cell)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _numbers(table: Table, j: int, what: str) -> NDArray[np.float64]:
    out = np.empty(len(table.rows))
    for r, row in enumerate(table.rows):
        value = _number(row[j])
        if value is None:
            raise InvalidInputError(
                table.field,
                f"column {table.names[j]!r}, {table.where[r]}: {row[j]!r} is not a finite "
                f"number (every {what} must be one)",
                index=[r, j],
            )
        out[r] = value
    return out


def _labels(table: Table, j: int) -> NDArray[Any]:
    """Class labels: integers if every cell is one, else numbers, else the (stripped) text."""
    cells = [row[j] for row in table.rows]
    for r, cell in enumerate(cells):
        if cell is None or isinstance(cell, bool) or not str(cell).strip():
            raise InvalidInputError(
                table.field,
                f"column {table.names[j]!r}, {table.where[r]}: the label is empty or not a "
                "number or text",
                index=[r, j],
            )
    try:
        return np.array([_integer(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError, TypeError):
        pass
    numbers = [_number(c) for c in cells]
    if all(v is not None for v in numbers):
        return np.array(numbers, dtype=np.float64)
    return np.array([str(c).strip() for c in cells])


def _integer(cell: Any) -> int:
    if isinstance(cell, float):
        if not cell.is_integer():
            raise ValueError(cell)
        return int(cell)
    return int(cell)
