"""A throwaway PostgreSQL server for the tests: a cluster made by ``initdb`` in a temporary
directory, started with ``pg_ctl`` on a free local port (TCP on 127.0.0.1 and a socket in the
same directory) as an unprivileged user, removed afterwards.

The binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<v>/bin``),
``pg_config --bindir`` or the PATH. ``initdb`` refuses to run as root: as root the cluster
belongs to the ``postgres`` user the package creates, and every command runs through
``runuser``. ``make test`` installs the package when it can; without it the PostgreSQL tests
are skipped with one line saying how to install it, unless ``LOSSCORE_REQUIRE_POSTGRES=1``
(CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["INSTALL_HINT", "PostgresServer", "find_bindir", "require_bindir", "running_server"]

INSTALL_HINT = (
    "PostgreSQL server binaries not found (initdb, pg_ctl): the PostgreSQL store tests are "
    "skipped; install them with `apt-get install postgresql` (Debian) or run `make test`"
)


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: ``LOSSCORE_POSTGRES_BINDIR`` if set ("none":
    there is none), else the newest Debian version, ``pg_config --bindir`` or the PATH."""
    chosen = os.environ.get("LOSSCORE_POSTGRES_BINDIR")
    if chosen:
        return None if chosen == "none" else Path(chosen)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_bindir() -> Path:
    """The server binaries, or the test is skipped with :data:`INSTALL_HINT` (failed instead
    under ``LOSSCORE_REQUIRE_POSTGRES=1``)."""
    import pytest

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("LOSSCORE_REQUIRE_POSTGRES") == "1":
            pytest.fail(INSTALL_HINT + " (LOSSCORE_REQUIRE_POSTGRES=1: required here)")
        pytest.skip(INSTALL_HINT)
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One cluster: :meth:`start`, :meth:`stop` (the same port and data again on the next
    start: a database restart), :meth:`remove`; :meth:`create_database` for a fresh database
    per test."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="losscore-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # initdb refuses root: the cluster belongs to the package's user
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off"  # a test cluster: durability is not tested here
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server (skipped or failed as :func:`require_bindir` says), removed on exit."""
    server = PostgresServer(require_bindir())
    server.start()
    try:
        yield server
    finally:
        server.remove()
