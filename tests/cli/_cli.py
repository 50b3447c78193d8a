"""Running ``losscore`` as a subprocess: piped (``run``) or in a pseudo-terminal (``run_pty``)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# an interpreter that runs the tool as if rich were not installed (import rich fails)
WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None; from losscore_cli import main; sys.exit(main())"
)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOSSCORE_SERVER", "LOSSCORE_API_KEY")}
    env.pop("NO_COLOR", None)
    return {**env, **(extra or {})}


@dataclass
class Result:
    """What a run printed and its exit status."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    """``python -m losscore_cli ARGS`` with stdout and stderr piped, from the repository root."""
    proc = subprocess.run(
        [sys.executable, "-m", "losscore_cli", *args],
        cwd=ROOT,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_pty(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, str]:
    """*argv* with stdin, stdout and stderr on a pseudo-terminal: its exit status and
    everything it wrote (the terminal's bytes, decoded)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=_env({"COLUMNS": "200", "TERM": "xterm-256color", **(env or {})}),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def cli(*args: str) -> list[str]:
    """The argv of ``python -m losscore_cli ARGS``."""
    return [sys.executable, "-m", "losscore_cli", *args]
