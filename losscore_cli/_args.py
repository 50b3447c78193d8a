"""The argument parser: the top-level ``losscore`` command, shared options and the parsing of
option values (lists, ``--param`` assignments, column names or indices).

Usage errors are argparse's: a message and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENV_API_KEY",
    "ENV_SERVER",
    "Command",
    "ParamAssignment",
    "add_json",
    "add_param",
    "add_server",
    "column_ref",
    "column_refs",
    "float_pair",
    "name_list",
    "new_parser",
    "param_assignment",
    "resolve_column",
]

ENV_SERVER = "LOSSCORE_SERVER"
ENV_API_KEY = "LOSSCORE_API_KEY"

Command = Callable[[argparse.Namespace], int]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the descriptions' and examples' line breaks; shows defaults that are set."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and default not in (None, False, argparse.SUPPRESS)
            and not isinstance(default, list)
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def new_parser(
    subparsers: Any, name: str, *, summary: str, description: str, examples: str, run: Command
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary (in ``losscore --help``), a description and
    examples (in ``losscore NAME --help``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=textwrap.dedent(description).strip(),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "),
        formatter_class=_Formatter,
    )
    parser.set_defaults(run=run)
    return parser


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON document on standard output instead of text."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document (for scripts) instead of text"
    )


def add_server(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``--server URL`` (default ``$LOSSCORE_SERVER``) and ``--api-key`` (default
    ``$LOSSCORE_API_KEY``); unless *required*, also ``--local`` to ignore the environment."""
    where = "the service at URL" if required else "the service at URL instead of in-process"
    parser.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get(ENV_SERVER) or None,
        help=f"run on {where} (default: ${ENV_SERVER})",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get(ENV_API_KEY) or None,
        help=f"API key sent as X-API-Key (default: ${ENV_API_KEY})",
    )
    if not required:
        parser.add_argument(
            "--local",
            action="store_true",
            help=f"compute in-process even when ${ENV_SERVER} is set",
        )


def name_list(text: str) -> list[str]:
    """``a,b,c`` → ``["a", "b", "c"]`` (spaces around names ignored; no empty names)."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty name (write a,b,c)")
    return names


def column_ref(text: str) -> str | int:
    """A column given by name, or by 0-based index when the text is an integer. A table
    whose header has a column of that very name is read by name (:func:`resolve_column`)."""
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("a column name or index cannot be empty")
    try:
        return int(text)
    except ValueError:
        return text


def column_refs(text: str) -> list[str | int]:
    """``a,b`` or ``0,3`` → columns by name or index."""
    return [column_ref(part) for part in name_list(text)]


def resolve_column(ref: str | int, names: Sequence[str]) -> str | int:
    """*ref* as the table will read it: an integer that is also a column's name is that name."""
    return str(ref) if isinstance(ref, int) and str(ref) in names else ref


def float_pair(text: str) -> tuple[float, float]:
    """``-3,3`` → ``(-3.0, 3.0)``."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not two numbers LOW,HIGH") from None
    return low, high


@dataclass(frozen=True)
class ParamAssignment:
    """``--param [LOSS.]NAME=VALUE``: a loss parameter, for one loss (``loss``) or for every
    listed loss that has it (``loss`` None)."""

    loss: str | None
    name: str
    value: float

    def __str__(self) -> str:
        return f"{self.loss + '.' if self.loss else ''}{self.name}={self.value:g}"


def param_assignment(text: str) -> ParamAssignment:
    """Parse ``beta=0.5`` or ``smooth_l1.beta=0.5``."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. beta=0.5)")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value.strip()!r} is not a number") from None
    loss, dot, name = key.rpartition(".")
    if dot and not (loss and name):
        raise argparse.ArgumentTypeError(f"{text!r} is not [LOSS.]NAME=VALUE")
    return ParamAssignment(loss or None, name, number)


def add_param(parser: argparse.ArgumentParser, *, qualified: bool) -> None:
    """``--param`` (repeatable)."""
    what = (
        "a loss parameter, LOSS.NAME=VALUE for one loss or NAME=VALUE for every listed loss "
        "that has it"
        if qualified
        else "a loss parameter NAME=VALUE"
    )
    parser.add_argument(
        "--param",
        "-p",
        metavar="[LOSS.]NAME=VALUE" if qualified else "NAME=VALUE",
        type=param_assignment,
        action="append",
        default=[],
        help=f"{what} (repeatable; `losscore losses NAME` lists them)",
    )
