"""``/``, ``/docs``, ``/redoc`` and ``/static``: served from the app's own files with a strict
CSP, outside the OpenAPI document; without a build, a 404 saying how to build."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client, assert_error


def _client(tmp_path: Path, web_dir: Path) -> Client:
    return Client(create_app(Settings(data_dir=tmp_path, database_url=None, web_dir=web_dir)))


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Client]:
    web = tmp_path / "web"
    (web / "playground").mkdir(parents=True)
    (web / "playground" / "index.html").write_text("<!doctype html><title>page</title>")
    (web / "playground" / "app.js").write_text("console.log(1)")
    c = _client(tmp_path, web)
    yield c
    c.close()


def test_the_page_and_docs_come_from_the_app_with_a_strict_csp(built: Client) -> None:
    for path in ("/", "/docs", "/redoc"):
        r = built.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
        # every script, style and spec URL is relative: nothing from another host
        urls = re.findall(r'(?:src|href|spec-url|data-spec)="([^"]*)"', r.text)
        assert all(not u.startswith(("http:", "https:", "//")) for u in urls), urls
    assert built.get("/").text == "<!doctype html><title>page</title>"
    assert built.get("/static/playground/app.js").text == "console.log(1)"
    assert built.get("/static/../settings.py").status_code == 404


def test_not_in_the_api_contract(built: Client) -> None:
    paths = built.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/redoc"} & set(paths)
    assert not any(p.startswith("/static") for p in paths)


def test_without_a_build_the_routes_say_how_to_build(tmp_path: Path) -> None:
    c = _client(tmp_path, tmp_path / "missing")
    try:
        for path in ("/", "/docs", "/redoc"):
            err = assert_error(c.get(path), 404, code="not_built")
            assert "make web" in err["message"]
        assert c.get("/static/playground/index.html").status_code == 404
        assert c.get("/v1/losses").status_code == 200  # the API does not need the page
    finally:
        c.close()
