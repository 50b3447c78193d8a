"""Admission control: bounded worker pools with bounded queues, and cancellation.

A :class:`Gate` runs at most ``running`` jobs at once in worker threads and lets at most
``waiting`` more wait their turn; a request beyond that gets a 503 ``overloaded`` with
``Retry-After`` at once, before it costs anything (queues never grow without bound). Two
gates exist per app: CPU-bound request work (``LOSSCORE_MAX_CPU_JOBS``,
``LOSSCORE_MAX_CPU_QUEUE``) and fits (``LOSSCORE_TRAIN_MAX_JOBS``,
``LOSSCORE_TRAIN_MAX_QUEUE``), so long fits never take the slots of short requests.

:func:`until_disconnect` cancels a job when its client goes away (or the request task is
cancelled, as at the end of a graceful shutdown): a fit checks its cancel flag at every
iteration, stops, and stores nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request

from service.errors import ApiError

__all__ = ["Gate", "until_disconnect"]

P = ParamSpec("P")
T = TypeVar("T")


class Gate:
    """At most ``running`` jobs in worker threads and ``waiting`` queued; beyond, 503."""

    def __init__(self, name: str, running: int, waiting: int, retry_after_s: int) -> None:
        self.name = name
        self.limiter = anyio.CapacityLimiter(running)
        self.capacity = running + waiting
        self.retry_after_s = retry_after_s
        self.admitted = 0  # running + waiting, on the event loop's thread only
        self.refused = 0

    def _overloaded(self) -> ApiError:
        self.refused += 1
        return ApiError(
            503,
            "overloaded",
            f"the service is at capacity ({self.name}: {self.capacity} running or queued); "
            f"retry in {self.retry_after_s} s",
            headers={"Retry-After": str(self.retry_after_s)},
        )

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` in a worker thread once a slot is free, or 503 now."""
        if self.admitted >= self.capacity:
            raise self._overloaded()
        self.admitted += 1
        try:
            return await anyio.to_thread.run_sync(
                lambda: func(*args, **kwargs), limiter=self.limiter
            )
        finally:
            self.admitted -= 1


async def until_disconnect(request: Request, job: Awaitable[T], cancel: threading.Event) -> T:
    """Await *job*; set *cancel* when the client disconnects first (the job should stop at its
    next check) or when this task is cancelled (graceful shutdown's end), then re-raise."""
    task = asyncio.ensure_future(job)

    async def disconnected() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    watch = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        cancel.set()
        task.cancel()
        raise
    finally:
        watch.cancel()
    if not task.done():
        cancel.set()  # the client is gone: the job stops at its next check; nothing to answer
        return await task
    return task.result()
