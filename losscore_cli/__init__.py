"""``losscore``: the command-line tool over the library and the service.

    losscore losses | evaluate | compare | plot | train | predict | models ls|show|rm | serve

Every command reads the loss catalog (no loss is named in this package), runs in-process by
default and on the service with ``--server URL`` (or ``$LOSSCORE_SERVER``), prints a table in a
terminal (rich, when installed), plain text when piped, and one JSON document with ``--json``.
Exit status: 0 on success, 2 for usage errors (argparse), 1 for errors reported by the library
or the server (one line naming the field, never a traceback), 130 when interrupted.
docs/CLI.md describes every command and the JSON shapes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import losscore
from losscore.errors import LosscoreError
from losscore_cli._errors import CliError, RemoteError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``losscore`` parser with every subcommand."""
    from losscore_cli._commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog="losscore",
        description=(
            "Loss functions with exact gradients, and linear models trained on them: "
            "in-process, or on the losscore service with --server URL."
        ),
        epilog=(
            "Run `losscore COMMAND --help` for a command's options and examples.\n"
            "Exit status: 0 ok, 1 an error reported by the library or the server, 2 a usage "
            "error.\nEnvironment: LOSSCORE_SERVER (default --server), LOSSCORE_API_KEY, "
            "NO_COLOR, LOSSCORE_PROGRESS_INTERVAL."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"losscore {losscore.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def _report(lines: Sequence[str]) -> None:
    sys.stderr.write(f"error: {lines[0]}\n")
    for line in lines[1:]:
        sys.stderr.write(line + "\n")


# options whose value may start with "-" without being a number argparse recognises ("-3,3")
_DASHED_VALUES = ("--range",)


def _join_dashed_values(argv: Sequence[str]) -> list[str]:
    """``--range -3,3`` as ``--range=-3,3`` (argparse would read -3,3 as an option)."""
    out: list[str] = []
    items = iter(argv)
    for item in items:
        if item in _DASHED_VALUES:
            value = next(items, None)
            out.append(item if value is None else f"{item}={value}")
        else:
            out.append(item)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status (0 ok, 1 error, 2 usage, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(_join_dashed_values(sys.argv[1:] if argv is None else argv))
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.run(args)
    except RemoteError as exc:
        _report(exc.lines())
        return 1
    except (CliError, LosscoreError) as exc:
        _report([exc.describe()])
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:  # `losscore … | head`: the reader left; nothing more to say
        sys.stderr.close()
        return 0
    return status
