"""The PostgreSQL tests skip with one line saying how to install the server where it is
missing, and fail instead where they are required (CI: LOSSCORE_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = "tests/service/test_store_backends.py::test_round_trip_list_and_delete"


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT,
        env={**os.environ, "LOSSCORE_POSTGRES_BINDIR": "none", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_missing_server_skips_with_the_install_hint() -> None:
    done = _run(LOSSCORE_REQUIRE_POSTGRES="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "apt-get install postgresql" in done.stdout


def test_missing_server_fails_where_required() -> None:
    done = _run(LOSSCORE_REQUIRE_POSTGRES="1")
    assert done.returncode != 0
    assert "LOSSCORE_REQUIRE_POSTGRES=1" in done.stdout
