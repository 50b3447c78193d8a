"""``POST /v1/train`` and ``POST /v1/train/stream`` (Server-Sent Events).

The data come as JSON (:class:`TrainRequest`) or as a ``multipart/form-data`` upload (a CSV
file or a ``.npy`` pair, see :mod:`service.uploads`). Fits run in worker threads, at most
``LOSSCORE_TRAIN_MAX_JOBS`` at once (their own limiter), so the event loop and ``/healthz``
stay responsive. Limits (:class:`~service.settings.Settings`): n·d ≤
``LOSSCORE_TRAIN_MAX_ELEMENTS`` (413), ``max_iter`` ≤ ``LOSSCORE_TRAIN_MAX_ITER`` (422),
``time_limit_s`` ≤ ``LOSSCORE_TRAIN_MAX_SECONDS`` (422; also the default limit of every fit).
A fit stopped by its time limit returns the best model so far (``converged: false``,
``stop_reason: "time_limit"``), or with ``on_time_limit: "error"`` a 422 ``time_limit``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import JSONResponse, Response, StreamingResponse

from losscore.errors import LosscoreError
from losscore.train import FitResult, fit
from service import uploads
from service.arrays import Tensor, decode_array
from service.deps import RawBody, SettingsDep, run_cpu, run_fit
from service.errors import ApiError, ErrorDetail, error_responses, from_losscore_error
from service.openapi import json_or_form_body
from service.schemas.train import TrainOptions, TrainRequest, TrainUpload
from service.settings import Settings
from service.store import get_store, json_safe

__all__ = ["router"]

router = APIRouter(prefix="/v1/train", tags=["training"])
TRAIN_RESPONSES = error_responses(400, 413, 415, 422)
TRAIN_BODY = json_or_form_body(
    TrainRequest,
    TrainUpload,
    {
        "data": "A CSV file with a header row; `target` in `request` names the y column.",
        "X": "A .npy file: features (n, d), real numbers (no pickles).",
        "y": "A .npy file: targets (n,), real numbers or (classification) strings.",
        "sample_weight": "An optional .npy file: sample weights (n,).",
    },
)


@dataclass(frozen=True)
class _Job:
    """A validated training request: options and data (lists from JSON or arrays)."""

    opts: TrainOptions
    X: Any
    y: Any
    sample_weight: Any
    n: int
    d: int
    max_iter: int = 0  # the effective limits, set by _check_limits
    time_limit: float = 0.0


def _limit_error(field: str, reason: str) -> ApiError:
    detail = ErrorDetail(field=field, reason=reason)
    return ApiError(422, "limit_exceeded", f"{field}: {reason}", [detail])


def _check_limits(job: _Job, settings: Settings) -> _Job:
    """Enforce the training limits; the job with its effective max_iter and time limit.

    A request that does not set ``max_iter`` gets its default capped at the setting.
    """
    uploads.check_elements(job.n, job.d, settings.train_max_elements)
    opts = job.opts
    max_iter = opts.max_iter
    if "max_iter" not in opts.model_fields_set:
        max_iter = min(max_iter, settings.train_max_iter)
    if max_iter > settings.train_max_iter:
        raise _limit_error(
            "max_iter",
            f"{opts.max_iter} is over the limit of {settings.train_max_iter} "
            "(LOSSCORE_TRAIN_MAX_ITER)",
        )
    max_s = settings.train_max_seconds
    if opts.time_limit_s is not None and opts.time_limit_s > max_s:
        raise _limit_error(
            "time_limit_s",
            f"{opts.time_limit_s:g} s is over the limit of {max_s:g} s "
            "(LOSSCORE_TRAIN_MAX_SECONDS)",
        )
    time_limit = opts.time_limit_s if opts.time_limit_s is not None else max_s
    return replace(job, max_iter=max_iter, time_limit=time_limit)


def _fit(job: _Job, callback: Any = None) -> FitResult:
    req = job.opts
    return fit(
        job.X,
        job.y,
        task=req.task,
        loss=req.loss.name,
        loss_params=req.loss.params(),
        penalty=req.penalty.name,
        alpha=req.penalty.alpha,
        l1_ratio=req.penalty.l1_ratio,
        fit_intercept=req.fit_intercept,
        standardize=req.standardize,
        sample_weight=job.sample_weight,
        class_weight=req.class_weight,
        max_iter=job.max_iter,
        tol=req.tol,
        time_limit_s=job.time_limit,
        random_state=req.random_state,
        callback=callback,
    )


def _fit_and_store(job: _Job, settings: Settings, callback: Any = None) -> dict[str, Any]:
    result = _fit(job, callback)
    if result.stop_reason == "time_limit" and job.opts.on_time_limit == "error":
        source = (
            "time_limit_s" if job.opts.time_limit_s is not None else "LOSSCORE_TRAIN_MAX_SECONDS"
        )
        reason = (
            f"the fit reached its time limit of {job.time_limit:g} s ({source}) after "
            f"{result.n_iter} iterations without converging, and on_time_limit is 'error'"
        )
        detail = ErrorDetail(field="time_limit_s", reason=reason)
        raise ApiError(422, "time_limit", f"time_limit_s: {reason}", [detail])
    model_id = get_store(settings.data_dir, settings.database_url).add(result)
    out: dict[str, Any] = {"model_id": model_id, **json_safe(result.to_dict())}
    return out


def _parse_json(raw: bytes, settings: Settings) -> _Job:
    req = TrainRequest.model_validate_json(raw)
    limit = settings.max_request_elements
    X = decode_array("X", req.X, max_elements=limit)
    if X.ndim != 2:
        if X.ndim == 1 and X.shape[0] == 0:
            raise ApiError.invalid("X", "has no rows (n = 0); at least one sample is needed")
        raise ApiError.invalid(
            "X", f"must be 2-d (n samples, d features), got shape {list(X.shape)}"
        )
    if X.shape[0] == 0:
        raise ApiError.invalid("X", "has no rows (n = 0); at least one sample is needed")
    y: Any = decode_array("y", req.y, max_elements=limit) if isinstance(req.y, Tensor) else req.y
    sw = None
    if req.sample_weight is not None:
        sw = decode_array("sample_weight", req.sample_weight, max_elements=limit)
    return _Job(req, X, y, sw, X.shape[0], X.shape[1])


def _parse_upload(opts: TrainUpload, files: dict[str, bytes], settings: Settings) -> _Job:
    limit = settings.train_max_elements
    if "data" in files:
        if "X" in files or "y" in files:
            raise ApiError.invalid("data", "give either a CSV file `data` or `X` and `y`, not both")
        X, y = uploads.parse_csv(
            files["data"],
            opts.target,
            classification=opts.task == "classification",
            max_elements=limit,
        )
        sw = uploads.load_sample_weight(files.get("sample_weight"))
    else:
        data = uploads.load_npy_pair(files, limit)
        X, y, sw = data.X, data.y, data.sample_weight
    return _Job(opts, X, y, sw, X.shape[0], X.shape[1])


async def _read_form(request: Request, raw: bytes) -> tuple[TrainUpload, dict[str, bytes]]:
    request._body = raw  # replay the size-checked body to the multipart parser
    try:
        form = await request.form(max_files=4, max_fields=5, max_part_size=1024 * 1024)
    except (MultiPartException, ValueError) as exc:
        raise ApiError(400, "bad_request", f"malformed multipart body: {exc}") from None
    try:
        part = form.get("request")
        if isinstance(part, UploadFile):
            text: str | None = (await part.read()).decode("utf-8", errors="replace")
        else:
            text = part
        opts = uploads.parse_json_part(TrainUpload, text, "request")
        files = await uploads.read_file_parts(form, uploads.FILE_PARTS)
    finally:
        await form.close()
    if "data" not in files and "X" not in files and "y" not in files:
        raise ApiError.invalid(
            "data", "is required: a CSV file part `data`, or `.npy` file parts `X` and `y`"
        )
    return opts, files


async def _read_job(request: Request, raw: bytes, settings: Settings) -> _Job:
    """The request's options and data: JSON, or a multipart CSV / ``.npy`` upload."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        opts, files = await _read_form(request, raw)
        return await run_cpu(request, _parse_upload, opts, files, settings)
    if content_type not in ("application/json", "", "text/plain") and not content_type.endswith(
        "+json"
    ):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use application/json or multipart/form-data",
        )
    return await run_cpu(request, _parse_json, raw, settings)


@router.post(
    "",
    operation_id="train",
    responses=TRAIN_RESPONSES,
    openapi_extra=TRAIN_BODY,
    summary="Fit a linear model and store it",
)
async def train(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """Minimises F(w, b) = (1/Σs) Σ s·c·ℓ(y, x·w + b) + alpha·R(w); returns the stored model.

    The body is JSON (`TrainRequest`) or `multipart/form-data`: a `request` field with the
    JSON of `TrainUpload` (the options; `target` names the CSV column holding y) and a CSV
    file `data`, or `.npy` files `X` and `y`; optionally a `.npy` `sample_weight`."""
    job = _check_limits(await _read_job(request, raw, settings), settings)
    out = await run_fit(request, _fit_and_store, job, settings)
    return JSONResponse(out)


def _sse(event: str, data: Any) -> bytes:
    return (
        f"event: {event}\ndata: {json.dumps(json_safe(data), separators=(',', ':'))}\n\n".encode()
    )


@router.post(
    "/stream",
    operation_id="train_stream",
    response_class=Response,
    responses={
        200: {
            "description": "Server-Sent Events: `progress` events, then `result` or `error`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **TRAIN_RESPONSES,
    },
    openapi_extra=TRAIN_BODY,
    summary="Fit with progress as Server-Sent Events",
)
async def train_stream(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """``event: progress`` (iteration, objective, optimality, elapsed_s) at most every 50 ms,
    then ``event: result`` with the stored model (or ``event: error``). The body is as for
    ``POST /v1/train`` (JSON or a multipart CSV / ``.npy`` upload)."""
    job = _check_limits(await _read_job(request, raw, settings), settings)
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

    task = asyncio.ensure_future(run_fit(request, _fit_and_store, job, settings, callback))
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
