"""Admission control: bounded worker pools with bounded queues, and cancellation.

A :class:`Gate` runs at most ``running`` jobs at once in worker threads and lets at most
``waiting`` more wait their turn; a request beyond that gets a 503 ``overloaded`` with
``Retry-After`` at once, before it costs anything (queues never grow without bound): a
request with a large body takes its :class:`Ticket` before the body is read
(:mod:`service.deps`), a fit before its data are parsed. Two
gates exist per app: CPU-bound request work (``LOSSCORE_MAX_CPU_JOBS``,
``LOSSCORE_MAX_CPU_QUEUE``) and fits (``LOSSCORE_TRAIN_MAX_JOBS``,
``LOSSCORE_TRAIN_MAX_QUEUE``), so long fits never take the slots of short requests.

:func:`until_disconnect` cancels a job when its client goes away, when a graceful shutdown
drains (:mod:`service.drain`) or when the request task is cancelled: a fit checks its cancel
flag at every iteration, stops, and stores nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request

from losscore.train import FitCancelled
from service.drain import DRAIN, shutting_down
from service.errors import ApiError

__all__ = ["Gate", "Ticket", "until_disconnect"]

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

    def samples(self) -> dict[str, int]:
        """Jobs admitted (running or queued), capacity and refusals, by metric name."""
        return {
            "losscore_admission_admitted": self.admitted,
            "losscore_admission_capacity": self.capacity,
            "losscore_admission_refused_total": self.refused,
        }

    def admit(self) -> Ticket:
        """A place among the admitted (running or waiting), or 503 now. Taken before a
        request's body is read, so that a refusal costs no upload and the bodies in memory
        are bounded by the gates, not by the open connections."""
        if self.admitted >= self.capacity:
            raise self._overloaded()
        self.admitted += 1
        return Ticket(self)

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` in a worker thread once a slot is free, or 503 now."""
        with self.admit():
            return await self.run_admitted(func, *args, **kwargs)

    async def run_admitted(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` in a worker thread once a slot is free, for a request
        that holds a :class:`Ticket` of this gate."""
        return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs), limiter=self.limiter)


class Ticket:
    """One admitted request's place in a :class:`Gate`; released once (a context manager)."""

    def __init__(self, gate: Gate) -> None:
        self.gate: Gate | None = gate

    def release(self) -> None:
        if self.gate is not None:
            self.gate.admitted -= 1
            self.gate = None

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


async def until_disconnect(request: Request, job: Awaitable[T], cancel: threading.Event) -> T:
    """Await *job*, setting *cancel* (the job stops at its next check) when the client
    disconnects first (then :class:`ClientDisconnect`: a 499), when the server's shutdown
    drains (then a 503 ``shutting_down``), or when this task is cancelled (re-raised)."""
    task = asyncio.ensure_future(job)
    watch = asyncio.ensure_future(_disconnected(request))
    drain = asyncio.ensure_future(DRAIN.wait())
    try:
        await asyncio.wait({task, watch, drain}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        cancel.set()
        task.cancel()
        raise
    finally:
        watch.cancel()
        drain.cancel()
    if task.done():
        return task.result()
    cancel.set()
    try:
        return await task  # finished (and stored) just as it was cancelled: answer it
    except FitCancelled:
        if DRAIN.started:
            raise shutting_down() from None
        raise ClientDisconnect() from None


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
