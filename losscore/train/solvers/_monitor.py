"""Iteration bookkeeping shared by all solvers (private): history, time limit, callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from losscore._arrays import FloatArray

__all__ = ["FitCancelled", "Monitor", "ProgressCallback", "SolverOutput", "StopReason"]


class FitCancelled(Exception):  # noqa: N818 - it is an outcome, not an error
    """The caller cancelled the fit (its ``cancel`` callable turned true); no model."""


ProgressCallback = Callable[[int, float, float, float], None]
"""callback(iteration, objective, optimality, elapsed_seconds), called once per iteration."""

StopReason = str  # "tolerance" | "max_iter" | "time_limit" | "no_progress" | "exact"


@dataclass
class SolverOutput:
    """What a solver hands back: θ, iterations, stopping information and its method name."""

    theta: FloatArray
    n_iter: int
    converged: bool
    stop_reason: StopReason
    optimality: float
    solver: str


@dataclass
class Monitor:
    """Counts iterations across solver stages, records the objective history and the clock.

    ``record`` returns True when the wall-clock limit has passed or the caller cancelled
    the fit (``cancel()`` true), so a solver can stop and return its best point so far; the
    fit then raises :class:`FitCancelled` for a cancellation.
    """

    time_limit_s: float | None
    callback: ProgressCallback | None = None
    history: list[float] = field(default_factory=list)
    iterations: int = 0
    start: float = field(default_factory=time.perf_counter)
    timed_out: bool = False
    cancel: Callable[[], bool] | None = None
    cancelled: bool = False

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def time_left(self) -> float | None:
        """Seconds until the time limit (None: no limit)."""
        return None if self.time_limit_s is None else self.time_limit_s - self.elapsed()

    def out_of_time(self) -> bool:
        if self.timed_out:
            return True  # sticky: a stopped fit stays stopped (cancel() is not asked again)
        if self.time_limit_s is not None and self.elapsed() >= self.time_limit_s:
            self.timed_out = True
        if self.cancel is not None and self.cancel():
            self.cancelled = self.timed_out = True  # solvers stop as at a time limit
        return self.timed_out

    def record(self, objective: float, optimality: float = float("nan")) -> bool:
        self.iterations += 1
        self.history.append(float(objective))
        if self.callback is not None:
            self.callback(self.iterations, float(objective), float(optimality), self.elapsed())
        return self.out_of_time()


def inf_norm(x: FloatArray) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0
