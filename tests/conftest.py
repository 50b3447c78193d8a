"""Shared pytest configuration: deterministic hypothesis runs without deadlines, and a
throwaway PostgreSQL server for the store tests (tests/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import PostgresServer, running_server

settings.register_profile("losscore", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("losscore")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session (skipped without the server binaries, a failure
    instead under LOSSCORE_REQUIRE_POSTGRES=1)."""
    with running_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()
