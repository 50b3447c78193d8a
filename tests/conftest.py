"""Shared pytest configuration: deterministic hypothesis runs without deadlines, and a
throwaway PostgreSQL server for the store tests (tests/postgres.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import INSTALL_HINT, PostgresServer, find_bindir

settings.register_profile("losscore", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("losscore")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session (skipped without the server binaries, a failure
    instead under LOSSCORE_REQUIRE_POSTGRES=1)."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("LOSSCORE_REQUIRE_POSTGRES") == "1":
            pytest.fail(INSTALL_HINT + " (LOSSCORE_REQUIRE_POSTGRES=1: required here)")
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()
