"""``losscore serve``: the HTTP service in the foreground, as ``python -m service``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from losscore_cli._args import new_parser
from losscore_cli._errors import CliError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = new_parser(
        subparsers,
        "serve",
        summary="run the HTTP service (python -m service)",
        description="""
            Runs the service in the foreground exactly as `python -m service` (`make serve`)
            does: this process becomes uvicorn (signals reach it; SIGTERM shuts down
            gracefully). Every setting comes from the environment (README, "Settings");
            --host, --port and --workers set HOST, PORT and WORKERS. Needs the `service`
            extra: pip install 'losscore[service]'.
        """,
        examples="""
            losscore serve
            losscore serve --host 0.0.0.0 --port 8080 --workers 2
        """,
        run=run,
    )
    parser.add_argument("--host", help="the address to listen on (HOST; default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the port (PORT; default 8000)")
    parser.add_argument("--workers", type=int, help="worker processes (WORKERS; default 1)")


def _check_installed() -> None:
    for module in ("fastapi", "uvicorn"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise CliError(
                f"the service is not installed ({exc.name or module} is missing): "
                "pip install 'losscore[service]'"
            ) from None


def run(args: argparse.Namespace) -> int:
    _check_installed()
    for name, value in (("HOST", args.host), ("PORT", args.port), ("WORKERS", args.workers)):
        if value is not None:
            os.environ[name] = str(value)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "service"])
