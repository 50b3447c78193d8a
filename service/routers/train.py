"""``POST /v1/train`` and ``POST /v1/train/stream`` (Server-Sent Events).

Fits run in worker threads under the app's CPU limiter (``LOSSCORE_MAX_CPU_JOBS`` at once),
so the event loop and ``/healthz`` stay responsive. Limits: n·d ≤ ``LOSSCORE_MAX_ARRAY_ELEMENTS``,
``max_iter`` ≤ ``LOSSCORE_TRAIN_MAX_ITER`` (100000), ``time_limit_s`` ≤
``LOSSCORE_TRAIN_MAX_SECONDS`` (60, also the default limit of every fit).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from losscore.errors import LosscoreError
from losscore.train import FitResult, fit
from service.deps import RawBody, SettingsDep, run_cpu
from service.errors import ERROR_RESPONSES, ApiError, from_losscore_error
from service.openapi import json_body
from service.schemas.train import TrainRequest
from service.settings import Settings
from service.store import get_store, json_safe

__all__ = ["router"]

router = APIRouter(prefix="/v1/train", tags=["training"])


def _limit(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _check_limits(req: TrainRequest, settings: Settings) -> float:
    n = len(req.X)
    d = len(req.X[0]) if n else 0
    if n * d > settings.max_array_elements:
        raise ApiError(
            413,
            "too_many_elements",
            f"X has n·d = {n * d} elements, over the limit of {settings.max_array_elements} "
            "(LOSSCORE_MAX_ARRAY_ELEMENTS)",
        )
    max_iter = int(_limit("LOSSCORE_TRAIN_MAX_ITER", 100_000))
    if req.max_iter > max_iter:
        raise ApiError(
            422,
            "limit_exceeded",
            f"max_iter = {req.max_iter} is over the limit of {max_iter} (LOSSCORE_TRAIN_MAX_ITER)",
        )
    max_s = _limit("LOSSCORE_TRAIN_MAX_SECONDS", 60.0)
    if req.time_limit_s is not None and req.time_limit_s > max_s:
        raise ApiError(
            422,
            "limit_exceeded",
            f"time_limit_s = {req.time_limit_s:g} is over the limit of {max_s:g} s (LOSSCORE_TRAIN_MAX_SECONDS)",
        )
    return req.time_limit_s if req.time_limit_s is not None else max_s


def _fit(req: TrainRequest, time_limit: float, callback: Any = None) -> FitResult:
    return fit(
        req.X,
        req.y,
        task=req.task,
        loss=req.loss.name,
        loss_params=req.loss.params(),
        penalty=req.penalty.name,
        alpha=req.penalty.alpha,
        l1_ratio=req.penalty.l1_ratio,
        fit_intercept=req.fit_intercept,
        standardize=req.standardize,
        sample_weight=req.sample_weight,
        class_weight=req.class_weight,
        max_iter=req.max_iter,
        tol=req.tol,
        time_limit_s=time_limit,
        random_state=req.random_state,
        callback=callback,
    )


def _fit_and_store(
    req: TrainRequest, settings: Settings, time_limit: float, callback: Any = None
) -> dict[str, Any]:
    result = _fit(req, time_limit, callback)
    if result.stop_reason == "time_limit" and req.on_time_limit == "error":
        raise ApiError(
            422, "time_limit", f"the fit did not converge within time_limit_s = {time_limit:g} s"
        )
    model_id = get_store(settings.data_dir).add(result)
    out: dict[str, Any] = {"model_id": model_id, **json_safe(result.to_dict())}
    return out


def _parse(raw: bytes) -> TrainRequest:
    return TrainRequest.model_validate_json(raw)


@router.post(
    "",
    operation_id="train",
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(TrainRequest),
    summary="Fit a linear model and store it",
)
async def train(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """Minimises F(w, b) = (1/Σs) Σ s·c·ℓ(y, x·w + b) + alpha·R(w); returns the stored model."""
    req = await run_cpu(request, _parse, raw)
    limit = _check_limits(req, settings)
    out = await run_cpu(request, _fit_and_store, req, settings, limit)
    return JSONResponse(out)


def _sse(event: str, data: Any) -> bytes:
    return (
        f"event: {event}\ndata: {json.dumps(json_safe(data), separators=(',', ':'))}\n\n".encode()
    )


@router.post(
    "/stream",
    operation_id="train_stream",
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(TrainRequest),
    summary="Fit with progress as Server-Sent Events",
)
async def train_stream(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """``event: progress`` (iteration, objective, optimality, elapsed_s) at most every 50 ms,
    then ``event: result`` with the stored model (or ``event: error``)."""
    req = await run_cpu(request, _parse, raw)
    limit = _check_limits(req, settings)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    last = [0.0]

    def callback(iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        now = time.monotonic()
        if iteration == 1 or now - last[0] >= 0.05:
            last[0] = now
            item = {
                "iteration": iteration,
                "objective": objective,
                "optimality": optimality,
                "elapsed_s": elapsed,
            }
            loop.call_soon_threadsafe(queue.put_nowait, ("progress", item))

    task = asyncio.ensure_future(run_cpu(request, _fit_and_store, req, settings, limit, callback))
    # wait for the first sign of life so that bad data still answers a plain 422
    getter = asyncio.ensure_future(queue.get())
    await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done() and task.exception() is not None and queue.empty() and not getter.done():
        getter.cancel()
        exc = task.exception()
        assert exc is not None
        raise exc
    first = getter.result() if getter.done() else None
    if not getter.done():
        getter.cancel()

    async def events() -> AsyncIterator[bytes]:
        if first is not None:
            yield _sse(*first)
        while True:
            get = asyncio.ensure_future(queue.get())
            await asyncio.wait({task, get}, return_when=asyncio.FIRST_COMPLETED)
            if get.done():
                yield _sse(*get.result())
                continue
            get.cancel()
            while not queue.empty():
                yield _sse(*queue.get_nowait())
            exc = task.exception()
            if exc is None:
                yield _sse("result", task.result())
            elif isinstance(exc, LosscoreError):
                err = from_losscore_error(exc)
                yield _sse(
                    "error", {"status": err.status, "code": err.code, "message": err.message}
                )
            elif isinstance(exc, ApiError):
                yield _sse(
                    "error", {"status": exc.status, "code": exc.code, "message": exc.message}
                )
            else:
                yield _sse("error", {"status": 500, "code": "internal", "message": "fit failed"})
            return

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
