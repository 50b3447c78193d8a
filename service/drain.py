"""Graceful shutdown of long jobs.

On SIGTERM uvicorn stops accepting connections and waits ``LOSSCORE_SHUTDOWN_GRACE_S`` for
requests in flight; whatever is still running then is cancelled hard (uvicorn answers 500
and logs a traceback). So that every request ends with a proper answer within the grace
period instead, the server protocol calls :func:`begin_drain_after` when the shutdown starts;
at ``grace − DRAIN_MARGIN_S`` (at least half the grace) the process-wide :data:`DRAIN` is
set: fits in flight are cancelled (they stop at their next check) and answer 503
``shutting_down`` with ``Retry-After`` (a stream ends with that error event), in time for the
connections to close before the grace runs out.

The margin covers a fit's cancel latency plus the answer: HiGHS reads the cancel flag between
its time slices (``losscore.train.solvers._highs.SLICE_S``, 1 s), the other solvers between
iterations. With a margin of 1 s a cancelled linear program answered 1.6–1.8 s after SIGTERM
under a 2 s grace and the server stopped at 1.77–1.98 s, so the connection sometimes outlived
the grace (uvicorn then logs an error); 2 s leaves a second for the answer. A grace under 4 s
drains at its half, with less than that.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.errors import ApiError

__all__ = ["DRAIN", "DRAIN_MARGIN_S", "Drain", "begin_drain_after", "shutting_down"]

DRAIN_MARGIN_S = 2.0  # ≥ the longest cancel latency (a HiGHS slice, 1 s) + time to answer


class Drain:
    """Set once, when the server's shutdown reaches its drain point; awaited by long jobs
    (on whichever event loop they run: an app under test may see several)."""

    def __init__(self) -> None:
        self.started = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._scheduled = False

    def begin(self) -> None:
        self.started = True
        for waiter in list(self._waiters):
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    async def wait(self) -> None:
        if self.started:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)

    def schedule(self, loop: asyncio.AbstractEventLoop, grace_s: float) -> None:
        """Begin the drain ``max(grace − margin, grace / 2)`` seconds from now (once)."""
        if not self._scheduled:
            self._scheduled = True
            loop.call_later(max(grace_s - DRAIN_MARGIN_S, grace_s / 2), self.begin)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


DRAIN = Drain()


def begin_drain_after(loop: asyncio.AbstractEventLoop, grace_s: float) -> None:
    """Called by the server protocol when the shutdown starts (see the module docstring)."""
    DRAIN.schedule(loop, grace_s)


def shutting_down() -> ApiError:
    # imported here: the server protocol imports this module in the parent process, which
    # should not import FastAPI, SQLAlchemy and losscore (service.errors) for nothing
    from service.errors import ApiError

    return ApiError(
        503,
        "shutting_down",
        "the service is shutting down; the request was cancelled: retry on another instance",
        headers={"Retry-After": "1"},
    )
