"""Dependencies shared by the routers: settings, the request body, the CPU limiter.

CPU-bound work (parsing large bodies, NumPy, plotting) runs in worker threads via
:func:`run_cpu`, at most ``LOSSCORE_MAX_CPU_JOBS`` at once, so the event loop stays
free and ``/healthz`` answers within milliseconds while heavy requests run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from service.admission import Gate, Ticket
from service.errors import ApiError, store_unavailable
from service.jsonbody import is_json_type
from service.modelview import summary_fields
from service.settings import Settings
from service.store import ModelStore, get_store

__all__ = [
    "JsonBody",
    "RawBody",
    "SettingsDep",
    "StoreDep",
    "admit_fit",
    "gates",
    "get_settings",
    "model_store",
    "open_store",
    "read_body",
    "run_cpu",
    "run_fit",
    "run_sized",
]

P = ParamSpec("P")
T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def open_store(settings: Settings) -> ModelStore:
    """The model store these settings name (opened once per process; errors propagate)."""
    pool = (settings.database_pool_size, settings.database_max_overflow)
    return get_store(settings.data_dir, settings.database_url, summary_fields, pool)


def model_store(settings: Settings) -> ModelStore:
    """The model store of these settings (``LOSSCORE_DATA_DIR``, ``LOSSCORE_DATABASE_URL``);
    503 ``store_unavailable`` when it cannot be opened."""
    try:
        return open_store(settings)
    except (OSError, SQLAlchemyError) as exc:
        raise store_unavailable(exc) from None


def _store(request: Request) -> ModelStore:
    return model_store(get_settings(request))


StoreDep = Annotated[ModelStore, Depends(_store)]


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"request body exceeds the limit of {limit} bytes (LOSSCORE_MAX_BODY_BYTES)",
    )


async def _read(request: Request) -> bytes:
    """The raw request body, refusing (413) more than ``max_body_bytes``.

    The declared ``Content-Length`` is checked first; the stream is counted too,
    so chunked uploads cannot exceed the limit either.
    """
    limit = get_settings(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _admit_large(request: Request) -> Ticket | None:
    """A CPU-gate ticket for a body over ``LOSSCORE_INLINE_MAX_BYTES`` (or of unknown size),
    taken before the body is read: beyond capacity the 503 comes before the upload, and the
    bodies held in memory are bounded by the gate. Smaller bodies are computed inline; a fit
    holds a fit-gate ticket instead (its parse takes a CPU slot only while it parses)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= get_settings(request).inline_max_bytes:
        return None
    if getattr(request.state, "fit_ticket", None) is not None:
        return None
    gate: Gate = request.app.state.cpu_gate
    ticket = gate.admit()
    request.state.cpu_ticket = ticket
    return ticket


@asynccontextmanager
async def _admitted(request: Request) -> AsyncIterator[None]:
    ticket = _admit_large(request)
    try:
        yield
    finally:
        if ticket is not None:
            ticket.release()


async def read_body(request: Request) -> AsyncIterator[bytes]:
    """The size-checked raw body (:func:`_read`), admitted first (:func:`_admit_large`);
    the ticket is held until the response is sent."""
    async with _admitted(request):
        yield await _read(request)


RawBody = Annotated[bytes, Depends(read_body)]


async def read_json_body(request: Request) -> AsyncIterator[bytes]:
    """:func:`read_body` for routes that take JSON only: another content type is a 415
    before the body is read (none given counts as JSON)."""
    content_type = request.headers.get("content-type", "")
    if not is_json_type(content_type):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type.split(';')[0].strip()!r}: this route takes "
            "application/json",
        )
    async with _admitted(request):
        yield await _read(request)


JsonBody = Annotated[bytes, Depends(read_json_body)]


async def admit_fit(request: Request) -> AsyncIterator[None]:
    """A fit-gate ticket for a training request, taken before its body is read or parsed
    (503 at once when running and waiting fits are at capacity), held until its response
    (a stream's last event) is sent."""
    gate: Gate = request.app.state.fit_gate
    with gate.admit() as ticket:
        request.state.fit_ticket = ticket
        yield


def gates(settings: Settings) -> tuple[Gate, Gate]:
    """The CPU gate and the fit gate of an app (see :mod:`service.admission`)."""
    cpu = Gate("cpu", settings.max_cpu_jobs, settings.max_cpu_queue, retry_after_s=1)
    fits = Gate("fits", settings.train_max_jobs, settings.train_max_queue, retry_after_s=5)
    return cpu, fits


async def run_cpu(request: Request, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func(*args, **kwargs)`` in a worker thread through the app's CPU gate (503 when
    it is full)."""
    gate: Gate = request.app.state.cpu_gate
    if getattr(request.state, "cpu_ticket", None) is not None:
        return await gate.run_admitted(func, *args, **kwargs)
    return await gate.run(func, *args, **kwargs)


async def run_fit(request: Request, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a fit in a worker thread through the app's fit gate (``LOSSCORE_TRAIN_MAX_JOBS``
    running, ``LOSSCORE_TRAIN_MAX_QUEUE`` waiting, 503 beyond): long fits never take the
    slots of short requests."""
    gate: Gate = request.app.state.fit_gate
    if getattr(request.state, "fit_ticket", None) is not None:
        return await gate.run_admitted(func, *args, **kwargs)
    return await gate.run(func, *args, **kwargs)


async def run_sized(
    request: Request, size: int, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Like :func:`run_cpu`, but inline when the work is small.

    A request body of at most ``LOSSCORE_INLINE_MAX_BYTES`` is about 10³ numbers, well
    under a millisecond of work: the thread hand-off would cost more than it saves.
    """
    if size <= get_settings(request).inline_max_bytes:
        return func(*args, **kwargs)
    return await run_cpu(request, func, *args, **kwargs)
