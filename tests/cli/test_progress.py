"""The live progress line of ``losscore train``: redrawn with carriage returns in a terminal
(a pseudo-terminal here), with rich and without it; absent when the output is piped.

``LOSSCORE_PROGRESS_INTERVAL=0`` draws every iteration (the default draws at most ten frames a
second, which a fit of a few milliseconds would show as one frame)."""

from __future__ import annotations

import re
import sys

from losscore_cli._progress import Throttle, fraction_done
from tests.cli._cli import ANSI, EXAMPLES, WITHOUT_RICH, cli, run, run_pty

TRAIN = [
    "train",
    str(EXAMPLES / "outliers.csv"),
    "--target",
    "y",
    "--loss",
    "huber",
    "--penalty",
    "none",
]
EVERY_FRAME = {"LOSSCORE_PROGRESS_INTERVAL": "0"}


def _frames(text: str) -> list[str]:
    """The progress frames: what follows each carriage return up to the next one."""
    return [part for part in text.split("\r") if "fitting" in part and "iteration" in part]


def _iterations(frames: list[str]) -> list[int]:
    return [int(m.group(1)) for f in frames if (m := re.search(r"iteration (\d+)", f))]


def _summary_lines(text: str) -> dict[str, str]:
    clean = ANSI.sub("", text).replace("\r\n", "\n")
    tail = clean.rsplit("\r", 1)[-1]
    return dict(line.split(None, 1) for line in tail.splitlines() if " " in line.strip())


def test_rich_progress_in_a_terminal() -> None:
    code, text = run_pty(cli(*TRAIN), env=EVERY_FRAME)
    assert code == 0, text
    frames = _frames(text)
    iterations = _iterations(frames)
    assert len(set(iterations)) >= 3, text  # the line was redrawn as the fit went on
    assert iterations == sorted(iterations)
    assert any("objective" in f for f in frames)
    assert "\x1b[" in text  # rich draws with escape sequences
    summary = _summary_lines(text)
    assert summary["converged"].startswith("yes")
    assert int(summary["iterations"]) == iterations[-1]  # the last frame is the last iteration


def test_plain_progress_without_rich() -> None:
    code, text = run_pty([sys.executable, "-c", WITHOUT_RICH, *TRAIN], env=EVERY_FRAME)
    assert code == 0, text
    assert not ANSI.search(text)  # no rich, no escape sequences
    frames = _frames(text)
    iterations = _iterations(frames)
    assert len(set(iterations)) >= 3 and iterations == sorted(iterations)
    assert all("[" in f and "]" in f for f in frames)  # the hand-drawn bar
    summary = _summary_lines(text)
    assert summary["converged"].startswith("yes")
    assert int(summary["iterations"]) == iterations[-1]


def test_no_progress_when_piped() -> None:
    r = run(*TRAIN, env=EVERY_FRAME)
    assert r.code == 0
    for stream in (r.out, r.err):
        assert "\r" not in stream and not ANSI.search(stream)
    assert "fitting" not in r.out + r.err and "converged" in r.out


def test_no_color_keeps_the_progress_line() -> None:
    code, text = run_pty(cli(*TRAIN), env={**EVERY_FRAME, "NO_COLOR": "1"})
    assert code == 0
    assert len(set(_iterations(_frames(text)))) >= 3
    assert not re.search(r"\x1b\[(?:3\d|9\d)m", text)  # no foreground colours


def test_throttle_and_bar() -> None:
    now = [0.0]
    throttle = Throttle(0.1, clock=lambda: now[0])
    ticks = []
    for step in range(100):  # 1 s in steps of 10 ms
        now[0] = step * 0.01
        ticks.append(throttle.ready())
    assert ticks[0] and sum(ticks) == 10
    assert fraction_done(1.0, 1e-4, 1e-8) == 0.5
    assert fraction_done(1.0, 1e-9, 1e-8) == 1.0
    assert fraction_done(float("nan"), 1.0, 1e-8) == 0.0
