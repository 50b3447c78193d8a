"""Reading files: arrays for ``evaluate`` / ``compare`` and tables for ``train`` / ``predict``.

Arrays: ``.npy`` (no pickles), ``.txt`` (whitespace-separated numbers, ``np.loadtxt``) or
``.csv`` (numbers; with a header row, ``column`` chooses one column by name; a file of one
column needs none; a headerless file of several columns is a matrix, one row per sample).

Tables: ``.csv`` (a header row), ``.json`` (a list of records: objects with the same keys) or
``.parquet`` (through pyarrow, part of the ``service`` and ``dask`` extras), read into a
:class:`losscore.tables.Table` whose errors name the file, the column and the line or record.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore.tables import Table, read_csv, records_table
from losscore_cli._errors import CliError

__all__ = ["TABLE_SUFFIXES", "read_array", "read_bytes", "read_table", "table_csv"]

ARRAY_SUFFIXES = (".npy", ".csv", ".txt")
TABLE_SUFFIXES = (".csv", ".json", ".parquet")


def read_bytes(path: str, field: str) -> bytes:
    """The file's bytes; a missing or unreadable file is an error naming the option."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", field=field) from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read it ({exc.strerror})", field=field) from None


def _suffix(path: str, allowed: tuple[str, ...], field: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise CliError(
            f"{path}: unknown file type {suffix or '(none)'!r}; use {', '.join(allowed)}",
            field=field,
        )
    return suffix


def read_array(path: str, *, field: str, column: str | None = None) -> NDArray[Any]:
    """The numbers of an array file (see the module docstring)."""
    suffix = _suffix(path, ARRAY_SUFFIXES, field)
    data = read_bytes(path, field)
    if suffix == ".npy":
        return _npy(data, path, field)
    text = _text(data, path, field)
    if suffix == ".txt":
        try:
            return np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=1)
        except ValueError as exc:
            raise CliError(f"{path}: not a file of numbers ({exc})", field=field) from None
    return _csv_array(text, path, field, column)


def _npy(data: bytes, path: str, field: str) -> NDArray[Any]:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CliError(f"{path}: not a readable .npy file ({exc})", field=field) from None
    if not isinstance(arr, np.ndarray):
        raise CliError(f"{path}: an .npz archive, not one .npy array", field=field)
    return arr


def _text(data: bytes, path: str, field: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text (byte {exc.start})", field=field) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_array(text: str, path: str, field: str, column: str | None) -> NDArray[Any]:
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    if not rows:
        raise CliError(f"{path}: empty file", field=field)
    header: list[str] | None = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if column is not None:
        if header is None:
            raise CliError(f"{path}: has no header row, so no column {column!r}", field=field)
        if column not in header:
            raise CliError(
                f"{path}: no column {column!r} (columns: {', '.join(header)})", field=field
            )
        j = header.index(column)
        rows = [[r[j] if j < len(r) else ""] for r in rows]
    elif header is not None and len(header) > 1:
        raise CliError(
            f"{path}: has {len(header)} columns ({', '.join(header)}); choose one with the "
            "matching --…-column option or --column",
            field=field,
        )
    return _numbers(rows, path, field, 1 if header is None else 2)


def _numbers(rows: list[list[str]], path: str, field: str, first_line: int) -> NDArray[Any]:
    if not rows:
        raise CliError(f"{path}: no data rows", field=field)
    width = len(rows[0])
    out = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        if len(row) != width:
            raise CliError(
                f"{path}: line {first_line + i} has {len(row)} cells, not {width}", field=field
            )
        for j, cell in enumerate(row):
            try:
                out[i, j] = float(cell)
            except ValueError:
                raise CliError(
                    f"{path}: line {first_line + i}: {cell!r} is not a number", field=field
                ) from None
    return out[:, 0] if width == 1 else out


def read_table(path: str, *, field: str = "DATA") -> Table:
    """A table from CSV, JSON records or Parquet (errors name the file)."""
    suffix = _suffix(path, TABLE_SUFFIXES, field)
    if suffix == ".parquet":
        return _parquet(path, field)
    data = read_bytes(path, field)
    if suffix == ".csv":
        return read_csv(data, field=path)
    return records_table(_records(data, path, field), field=path)


def _records(data: bytes, path: str, field: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: not valid JSON ({exc})", field=field) from None
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise CliError(
            f"{path}: must be a JSON list of records (objects with the same keys)", field=field
        )
    return value


def _parquet(path: str, field: str) -> Table:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise CliError(
            f"{path}: reading Parquet needs pyarrow (pip install 'losscore[dask]')", field=field
        ) from None
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", field=field) from None
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise CliError(f"{path}: not a readable Parquet file ({exc})", field=field) from None
    names = [str(n) for n in table.column_names]
    columns = [table.column(i).to_pylist() for i in range(len(names))]
    rows = [list(r) for r in zip(*columns, strict=True)]
    if not rows:
        raise CliError(f"{path}: has no rows (n = 0)", field=field)
    return Table(names, rows, [f"row {r + 1}" for r in range(len(rows))], path)


def table_csv(table: Table) -> bytes:
    """The table as CSV text (a header row; numbers written exactly, as Python's repr)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.names)
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
