"""Where results go: a rich table in a terminal, plain aligned text when piped, JSON with
``--json``.

Rich (the ``cli`` extra) is used only when standard output is a terminal and ``--json`` is
not given; without rich the output is plain. ``NO_COLOR`` turns colour off (rich reads it;
the plain output has none). Notes and errors go to standard error, results to standard
output, so ``losscore … --json | jq`` always reads clean JSON.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Output", "fmt", "jsonable", "note", "rich_console"]


def fmt(value: Any) -> str:
    """A number as a short text (6 significant digits; inf and nan spelled out); other
    values as ``str``."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else ("yes" if value else "no")
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        return f"{x:.6g}" if math.isfinite(x) else str(x)
    return str(value)


def jsonable(value: Any) -> Any:
    """*value* with NumPy types as Python ones and non-finite floats as the strings
    ``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` (what the service writes; valid JSON)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def rich_console(stream: IO[str]) -> Console | None:
    """A rich console on *stream* when it is a terminal and rich is installed, else None."""
    if not stream.isatty():
        return None
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=stream, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))


class Output:
    """The results of one command, written as JSON, rich text or plain text."""

    def __init__(self, *, json_mode: bool, stdout: IO[str] | None = None) -> None:
        self.json_mode = json_mode
        self.stdout = stdout if stdout is not None else sys.stdout
        self.console = None if json_mode else rich_console(self.stdout)

    def json(self, data: Any) -> None:
        """*data* as one JSON document (non-finite floats as strings)."""
        self.stdout.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")

    def line(self, text: str = "") -> None:
        """One line of text (not in JSON mode)."""
        if self.json_mode:
            return
        if self.console is not None:
            self.console.print(text, markup=False, soft_wrap=True)
        else:
            self.stdout.write(text + "\n")

    def heading(self, text: str) -> None:
        """A heading line (bold in a terminal)."""
        if self.json_mode:
            return
        if self.console is not None:
            from rich.text import Text

            self.console.print(Text(text, style="bold"))
        else:
            self.stdout.write(text + "\n")

    def fields(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """``name  value`` lines, names aligned."""
        if self.json_mode or not pairs:
            return
        width = max(len(k) for k, _ in pairs)
        for key, value in pairs:
            self.line(f"{key.ljust(width)}  {fmt(value)}")

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str | None = None,
        numeric: Sequence[bool] | None = None,
    ) -> None:
        """A table: rich in a terminal, aligned plain text otherwise (numbers right-aligned)."""
        if self.json_mode:
            return
        cells = [[fmt(v) for v in row] for row in rows]
        right = list(numeric) if numeric is not None else _numeric_columns(rows, len(columns))
        if self.console is not None:
            self._rich_table(columns, cells, title, right)
            return
        if title:
            self.stdout.write(title + "\n")
        widths = [max([len(c), *(len(r[j]) for r in cells)]) for j, c in enumerate(columns)]
        for row in [list(columns), *cells]:
            parts = [
                v.rjust(w) if right[j] else v.ljust(w)
                for j, (v, w) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("  ".join(parts).rstrip() + "\n")

    def _rich_table(
        self, columns: Sequence[str], cells: list[list[str]], title: str | None, right: list[bool]
    ) -> None:
        from rich.table import Table

        assert self.console is not None
        table = Table(title=title, title_justify="left", header_style="bold")
        for name, is_number in zip(columns, right, strict=True):
            table.add_column(name, justify="right" if is_number else "left")
        for row in cells:
            table.add_row(*row)
        self.console.print(table)


def note(text: str) -> None:
    """A note for the person at the terminal (standard error)."""
    sys.stderr.write(f"note: {text}\n")


def _numeric_columns(rows: Sequence[Sequence[Any]], width: int) -> list[bool]:
    """Columns whose every cell is a number (right-aligned)."""
    out = []
    for j in range(width):
        values = [row[j] for row in rows]
        out.append(
            bool(values)
            and all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values
            )
        )
    return out
