"""The live progress line of a fit: iteration, objective and optimality against the tolerance.

Drawn on standard error when it is a terminal (never into standard output, so ``--json``
output stays clean), with rich when it is installed, else as a plain line rewritten with
``\\r``; nothing at all when standard error is not a terminal. Frames are drawn at most once
per ``LOSSCORE_PROGRESS_INTERVAL`` seconds (default 0.1: ten a second), plus the first and the
last. Local fits feed it from the solver's progress callback, remote ones from the ``progress``
events of the training stream: the same line either way.

The bar shows how far the optimality measure has come from its first value towards the
tolerance on a log scale (the solvers compare it with the tolerance scaled to the problem, so
the bar is a guide, not a promise).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Protocol

from losscore_cli._output import fmt

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["ENV_INTERVAL", "ProgressSink", "Throttle", "fraction_done", "progress_line", "start"]

ENV_INTERVAL = "LOSSCORE_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 0.1
BAR_WIDTH = 24


class ProgressSink(Protocol):
    """What a fit reports to: the solver callback's signature, then ``close``."""

    def update(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        """One solver iteration."""

    def close(self) -> None:
        """The fit ended: draw the last frame and end the line."""


class Throttle:
    """True at most once per *interval* seconds (and on the first call)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.last: float | None = None

    def ready(self) -> bool:
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        return True


def _interval() -> float:
    text = os.environ.get(ENV_INTERVAL, "")
    try:
        value = float(text) if text else DEFAULT_INTERVAL_S
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if math.isfinite(value) and value >= 0 else DEFAULT_INTERVAL_S


def fraction_done(first: float, current: float, tol: float) -> float:
    """log(first/current) / log(first/tol), clamped to [0, 1] (0 when it cannot be told)."""
    values = (first, current, tol)
    if not all(math.isfinite(v) and v > 0 for v in values) or first <= tol:
        return 1.0 if math.isfinite(current) and 0 <= current <= tol else 0.0
    return min(1.0, max(0.0, math.log(first / current) / math.log(first / tol)))


def progress_line(iteration: int, objective: float, optimality: float, tol: float) -> str:
    """The text of one frame (without the bar); solvers without a per-iteration optimality
    measure (NaN) show the objective alone."""
    text = f"iteration {iteration}  objective {fmt(objective)}"
    if not math.isnan(optimality):
        text += f"  optimality {fmt(optimality)} (tol {fmt(tol)})"
    return text


class _State:
    """The latest iteration and the first finite optimality (the bar's start)."""

    def __init__(self, tol: float) -> None:
        self.tol = tol
        self.first = math.nan
        self.iteration = 0
        self.objective = math.nan
        self.optimality = math.nan
        self.elapsed = 0.0

    def record(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        if math.isnan(self.first) and math.isfinite(optimality) and optimality > 0:
            self.first = optimality
        self.iteration, self.objective, self.optimality = iteration, objective, optimality
        self.elapsed = elapsed

    def fraction(self) -> float:
        return fraction_done(self.first, self.optimality, self.tol)

    def text(self) -> str:
        return progress_line(self.iteration, self.objective, self.optimality, self.tol)


class _Silent:
    def update(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        return None

    def close(self) -> None:
        return None


class _PlainLine:
    """A line rewritten in place with ``\\r`` (no escape sequences)."""

    def __init__(self, stream: IO[str], tol: float, interval: float) -> None:
        self.stream = stream
        self.state = _State(tol)
        self.throttle = Throttle(interval)
        self.width = 0
        self.drawn = 0

    def update(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        self.state.record(iteration, objective, optimality, elapsed)
        if self.throttle.ready():
            self._draw()

    def _draw(self) -> None:
        filled = round(self.state.fraction() * BAR_WIDTH)
        bar = "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"
        text = f"fitting {bar} {self.state.text()}  {self.state.elapsed:.1f}s"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
        self.drawn = self.state.iteration

    def close(self) -> None:
        if self.state.iteration and self.drawn != self.state.iteration:
            self._draw()
        if self.width:
            self.stream.write("\n")
            self.stream.flush()


class _RichLine:
    """rich's progress display, refreshed by the throttle (not by a thread of its own)."""

    def __init__(self, stream: IO[str], tol: float, interval: float) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=stream, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))
        self.state = _State(tol)
        self.throttle = Throttle(interval)
        self.progress: Progress = Progress(
            TextColumn("fitting"),
            BarColumn(bar_width=BAR_WIDTH),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task("", total=1.0)
        self.drawn = 0
        self.started = False

    def update(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        self.state.record(iteration, objective, optimality, elapsed)
        if self.throttle.ready():
            self._draw()

    def _draw(self) -> None:
        self.progress.update(
            self.task, completed=self.state.fraction(), description=self.state.text()
        )
        if not self.started:
            self.progress.start()  # draws the first frame
            self.started = True
        else:
            self.progress.refresh()
        self.drawn = self.state.iteration

    def close(self) -> None:
        if self.state.iteration and self.drawn != self.state.iteration:
            self._draw()
        if self.started:
            self.progress.stop()


def start(tol: float, stream: IO[str] | None = None) -> ProgressSink:
    """A progress display on *stream* (standard error): rich or plain in a terminal, silent
    otherwise. *tol* is the fit's tolerance (shown next to the optimality)."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        return _Silent()
    interval = _interval()
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return _PlainLine(out, tol, interval)
    return _RichLine(out, tol, interval)
