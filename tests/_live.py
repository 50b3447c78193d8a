"""A real uvicorn process (``python -m service``) on a free port, for tests over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(data_dir: Path, port: int, **env_extra: str) -> subprocess.Popen[bytes]:
    """``python -m service`` on *port* with its model store in *data_dir*, once ``/readyz``
    answers (the process's output is piped; the caller stops it)."""
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "LOSSCORE_DATA_DIR": str(data_dir),
        **env_extra,
    }
    env.pop("LOSSCORE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"server exited with {proc.returncode}: {out}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("server did not become ready within 30 s")
        time.sleep(0.1)


@contextmanager
def live_server(data_dir: Path, **env_extra: str) -> Iterator[str]:
    """Start the service with its model store in *data_dir*; yield its base URL once
    ``/readyz`` answers; terminate it (then kill it) on exit."""
    port = free_port()
    proc = start_server(data_dir, port, **env_extra)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
