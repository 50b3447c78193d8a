"""Pieces several subcommands share: where to compute, writing tables of numbers to files."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from losscore_cli._errors import CliError
from losscore_cli._remote import Client

__all__ = ["client", "require_client", "write_columns"]


def client(args: argparse.Namespace) -> Client | None:
    """The service to use (``--server`` or ``$LOSSCORE_SERVER``), or None to compute here."""
    if getattr(args, "local", False) or not args.server:
        return None
    return Client(args.server, args.api_key)


def require_client(args: argparse.Namespace, what: str) -> Client:
    """The service, which *what* needs."""
    if not args.server:
        raise CliError(f"{what} needs a server: give --server URL or set $LOSSCORE_SERVER")
    return Client(args.server, args.api_key)


def write_columns(
    path: str, names: Sequence[str], columns: Sequence[np.ndarray[Any, Any]], field: str
) -> None:
    """Columns of equal length to ``.csv`` (a header row), ``.npy`` (an (n, c) float matrix,
    numeric columns only) or ``.npz`` (one named array per column)."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(names)
                for row in zip(*(c.tolist() for c in columns), strict=True):
                    writer.writerow([repr(v) if isinstance(v, float) else v for v in row])
        elif suffix == ".npy":
            if any(c.dtype.kind not in "biuf" for c in columns):
                raise CliError(f"{path}: labels are not numbers; write .csv or .npz", field=field)
            np.save(path, np.column_stack([c.astype(np.float64) for c in columns]))
        elif suffix == ".npz":
            arrays: dict[str, Any] = dict(zip(names, columns, strict=True))
            np.savez(path, **arrays)
        else:
            raise CliError(
                f"{path}: unknown file type {suffix!r}; use .csv, .npy or .npz", field=field
            )
    except OSError as exc:
        raise CliError(f"{path}: cannot write it ({exc.strerror})", field=field) from None
