"""A real uvicorn process (``python -m service``) on a free port, for tests over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    return _spawn(data_dir, port, env_extra, None)


def _spawn(
    data_dir: Path, port: int, env_extra: dict[str, str], log_path: Path | None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "LOSSCORE_DATA_DIR": str(data_dir),
        **env_extra,
    }
    if "LOSSCORE_DATABASE_URL" not in env_extra:  # the test's own store, not the caller's
        env.pop("LOSSCORE_DATABASE_URL", None)
    output = subprocess.PIPE if log_path is None else log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    if log_path is not None:
        output.close()  # type: ignore[union-attr]  # the child holds its own descriptor
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else log_path.read_text()  # type: ignore[union-attr]
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


@dataclass
class Served:
    """A running server: its base URL, its process, and the file its output goes to."""

    base: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode


@contextmanager
def served(data_dir: Path, **env_extra: str) -> Iterator[Served]:
    """Like :func:`live_server`, with the process and its log (``<data_dir>/server.log``)."""
    port = free_port()
    log_path = data_dir / "server.log"
    proc = _spawn(data_dir, port, env_extra, log_path)
    server = Served(f"http://127.0.0.1:{port}", proc, log_path, port)
    try:
        yield server
    finally:
        server.stop()
