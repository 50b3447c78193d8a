"""The playground page in a real browser: Playwright for Python driving the system's Chromium
(Debian's ``chromium``; Playwright's own browser download is not reachable here) against a
real ``python -m service`` process serving the page built by ``make web``.

Every page opened through the ``page`` fixture fails its test on a console error, an uncaught
exception, or a request to any host but the service (such requests are also aborted).
Without Chromium or a built page the tests skip, saying what is missing; with
``LOSSCORE_REQUIRE_BROWSER=1`` (CI, ``make browser-test``) they fail instead.
Screenshots go to ``artifacts/browser`` (``LOSSCORE_ARTIFACT_DIR``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests._live import ROOT, live_server

WEB_DIR = Path(os.environ.get("LOSSCORE_WEB_DIR", ROOT / "service" / "static"))
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def artifact_dir() -> Path:
    out = Path(os.environ.get("LOSSCORE_ARTIFACT_DIR", ROOT / "artifacts")) / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


def find_chromium() -> str | None:
    """``LOSSCORE_CHROMIUM``, else the first Chromium on PATH."""
    configured = os.environ.get("LOSSCORE_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("LOSSCORE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"required browser test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    require(path is not None, "no Chromium found (apt-get install chromium, or LOSSCORE_CHROMIUM)")
    require(
        (WEB_DIR / "playground" / "index.html").is_file(),
        f"the playground is not built in {WEB_DIR} (make web)",
    )
    require(AXE.is_file(), f"axe-core is not installed ({AXE}; make web runs npm ci)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def base_url(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(
        tmp_path_factory.mktemp("browser-models"), LOSSCORE_WEB_DIR=str(WEB_DIR)
    ) as base:
        yield base


# module scope: Playwright's sync API runs its own event loop in this thread until it exits;
# a session-long one would break later tests that call asyncio.run()
@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        b = pw.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class Watched:
    """A page and what it did: console errors, uncaught exceptions, requests elsewhere."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.base + path)
        if path == "/":
            self.page.wait_for_function("() => window.losscorePlayground?.ready === true")
        return self.page

    def check(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.errors, f"console errors: {self.errors}"


def _own(url: str, base: str) -> bool:
    return url == base or url.startswith((base + "/", "blob:" + base, "data:"))


def watch(browser: Any, base: str, width: int = 1280, height: int = 900, **context: Any) -> Watched:
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True, **context
    )
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    w = Watched(page, base)

    def route(r: Any) -> None:
        url = r.request.url
        w.requests.append(url)
        if _own(url, base):
            r.continue_()
        else:
            w.foreign.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and w.errors.append(m.text))
    page.on("pageerror", lambda e: w.errors.append(f"uncaught: {e}"))
    return w


@pytest.fixture
def watched(browser: Any, base_url: str) -> Iterator[Watched]:
    w = watch(browser, base_url)
    yield w
    try:
        w.check()
    finally:
        w.page.context.close()


@pytest.fixture
def phone(browser: Any, base_url: str) -> Iterator[Watched]:
    """A 375 px wide touch screen."""
    w = watch(browser, base_url, width=375, height=812, is_mobile=True, has_touch=True)
    yield w
    try:
        w.check()
    finally:
        w.page.context.close()


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the current page. The script
    is evaluated through the DevTools protocol, which the page's CSP does not govern."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
