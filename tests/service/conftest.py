"""Fixtures: the app in-process behind httpx's ASGITransport, driven from sync tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.settings import Settings

T = TypeVar("T")


class Client:
    """A synchronous facade over ``httpx.AsyncClient(transport=ASGITransport(app))``.

    Requests run on an event loop in a blocking portal (a background thread), so the
    app's own worker threads and limiter behave as under uvicorn.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._stack = ExitStack()
        self.portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self.transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=self.transport, base_url="http://testserver")

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self.portal.call(func, *args)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            return await self.client.request(method, url, **kwargs)

        return self.portal.call(go)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self._stack.close()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # models trained by the tests go to a temporary store, not ./data
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("data"), database_url=None))


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[Client]:
    c = Client(app)
    yield c
    c.close()


@pytest.fixture(scope="session")
def small_client() -> Iterator[Client]:
    """An app with tiny limits, for the limit tests."""
    settings = Settings(
        max_body_bytes=4096,
        max_array_elements=50,
        max_request_elements=120,
        max_curve_points=100,
        max_compare_losses=2,
        inline_max_bytes=0,  # every request through the worker threads
    )
    c = Client(create_app(settings))
    yield c
    c.close()


def assert_error(
    response: httpx.Response, status: int, field: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The response is the common error shape with *status*, naming *field*."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    err: dict[str, Any] = response.json()["error"]
    assert err["status"] == status
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code
    if field is not None:
        assert field in err["message"], err
        assert any(d["field"] == field for d in err["details"]), err
    return err


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh model store database: a SQLite file, or a database on the session's real
    PostgreSQL server (tests/postgres.py)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'models.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
