"""How fast the playground page is in a real browser (issue 13): Chromium (Debian's, through
Playwright) on the page served by ``python -m service``.

* first render: from the start of the page's script to the three charts drawn with the
  default curves (3 losses × 1,000 points each, fetched through the generated client);
* load to ready: ``performance.now()`` when the page says it is ready (catalog, curves, the
  iris sample and the model list), from navigation start;
* slider update: from a slider's ``input`` event to the three charts redrawn with the new
  1,000-point curve (one GET /v1/losses/{name}/curve and three SVG renders); ``--moves``
  movements, each waited for before the next.

Usage::

    make web && .venv/bin/python bench/playground.py [--moves 40] [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests._live import live_server
from tests.browser.conftest import WEB_DIR, find_chromium


def _slider_moves(page: Any, moves: int) -> list[float]:
    slider = page.locator("#param-smooth_l1-beta")
    slider.focus()
    for i in range(moves):
        before = page.evaluate("() => window.losscorePlayground.timings.slider.length")
        page.keyboard.press("ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"() => window.losscorePlayground.timings.slider.length > {before}")
    out: list[float] = page.evaluate("() => window.losscorePlayground.timings.slider")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None or not (WEB_DIR / "playground" / "index.html").is_file():
        sys.exit("needs Chromium (apt-get install chromium) and a built page (make web)")
    first, ready, slider = [], [], []
    with (
        TemporaryDirectory() as data,
        live_server(Path(data), LOSSCORE_WEB_DIR=str(WEB_DIR)) as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(args.runs):
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(base + "/")
            page.wait_for_function("() => window.losscorePlayground?.ready === true")
            first.append(page.evaluate("() => window.losscorePlayground.timings.firstRender"))
            ready.append(page.evaluate("() => performance.now()"))
            slider += _slider_moves(page, args.moves)
            page.context.close()
        browser.close()
    slider.sort()
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()}; "
        f"Chromium {chromium}; {args.runs} page loads, {len(slider)} slider updates"
    )
    print(
        f"first render (3 curves x 1,000 points): median {statistics.median(first):.0f} ms, "
        f"max {max(first):.0f} ms"
    )
    print(
        f"load to ready (after the curves: sample, model list): median "
        f"{statistics.median(ready):.0f} ms"
    )
    p95 = slider[int(0.95 * (len(slider) - 1))]
    print(
        f"slider update (1,000-point curve, 3 charts): median {statistics.median(slider):.1f} ms, "
        f"p95 {p95:.1f} ms, max {slider[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
