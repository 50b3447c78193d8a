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
import logging
import math
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import Response, StreamingResponse

from losscore.errors import LosscoreError
from losscore.tables import records_table, select, with_feature_names
from losscore.train import FitCancelled, PreparedFit, prepare_fit
from losscore.train.cv import CVStep
from service import uploads
from service.admission import until_disconnect
from service.arrays import Tensor, decode_array, out_number
from service.auth import require
from service.cvfit import check_cv, check_grid, cv_fit
from service.datasets import check_dataset, fit_dataset
from service.deps import RawBody, SettingsDep, admit_fit, model_store, run_cpu, run_fit
from service.drain import DRAIN, shutting_down
from service.errors import (
    ApiError,
    ErrorDetail,
    ErrorResponse,
    error_body,
    error_responses,
    from_losscore_error,
)
from service.jsonbody import count_check, is_json_type, parse_json
from service.modelview import model_body
from service.openapi import form_body, json_body, sse_events
from service.schemas.models import CVProgress, Model, TrainProgress
from service.schemas.train import CVOptions, DatasetRef, TrainOptions, TrainRequest, TrainUpload
from service.settings import Settings

__all__ = ["check_limits", "check_work", "decode_inline", "prepare_job", "router"]

router = APIRouter(
    prefix="/v1/train",
    dependencies=[require("train"), Depends(admit_fit)],  # a fit's place before its body
    tags=["training"],
)
TRAIN_RESPONSES = error_responses(400, 413, 415, 422, 503)
TRAIN_JSON = json_body(TrainRequest)
TRAIN_FORM = form_body(
    "TrainUploadForm",
    "The options as JSON text and the data as files: a CSV file `data`, or `.npy` files `X`, `y`.",
    TrainUpload,
    {
        "data": (
            "A CSV file with a header row, or a Parquet file; `target`, `features` and `weight` "
            "in `request` choose its columns.",
            False,
        ),
        "X": ("A .npy file: features (n, d), real numbers (no pickles).", False),
        "y": ("A .npy file: targets (n,), real numbers or (classification) strings.", False),
        "sample_weight": ("An optional .npy file: sample weights (n,).", False),
    },
)


@dataclass(frozen=True)
class Job:
    """A training request: options and data (lists from JSON or arrays), then validated by
    :func:`_prepare` into a :class:`~losscore.train.PreparedFit`."""

    opts: TrainOptions
    X: Any
    y: Any
    sample_weight: Any
    n: int
    d: int
    max_iter: int = 0  # the effective limits, set by _check_limits
    time_limit: float = 0.0
    prepared: PreparedFit | None = None
    dataset: DatasetRef | None = None  # instead of X, y: a dataset read where it lives
    dataset_path: Path | None = None
    cv: CVOptions | None = None  # penalty.alpha: {"cv": ...}: the data stay for the folds
    feature_names: list[str] | None = None  # the table columns X came from (stored)


def _limit_error(field: str, reason: str) -> ApiError:
    detail = ErrorDetail(field=field, reason=reason)
    return ApiError(422, "limit_exceeded", f"{field}: {reason}", [detail])


def check_limits(job: Job, settings: Settings) -> Job:
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


def _prepare(job: Job, settings: Settings) -> Job:
    """Limits, then the library's validation (options, data, labels), before any fit slot
    is taken: a request that cannot run is answered at once. The size of the fit, n·d times
    the classes it solves for, is bounded by LOSSCORE_TRAIN_MAX_ELEMENTS (413). A store that
    cannot be written is a 503 before the fit, not after it."""
    job = check_limits(job, settings)
    model_store(settings).check_writable(max_age_s=2.0)
    req = job.opts
    penalty = req.penalty.params()
    cv = req.penalty.alpha_cv()
    if cv is not None:
        check_grid(cv.alphas, cv.n_alphas, settings, "penalty.alpha.cv.")
    # under cross-validation the α here only serves the options' check
    prepared = prepare_job(job, alpha=penalty.get("alpha", 1.0))
    check_work(prepared, settings)
    if cv is not None:
        check_cv(req, cv, (job.X, job.y, job.sample_weight))
        return replace(job, prepared=prepared, cv=cv)
    return replace(job, prepared=prepared, X=None, y=None, sample_weight=None)


def prepare_job(job: Job, *, alpha: float) -> PreparedFit:
    """The library's validation of a job's options and inline data at penalty strength
    *alpha* (its max_iter and time limit already settled by :func:`check_limits`)."""
    req = job.opts
    return prepare_fit(
        job.X,
        job.y,
        task=req.task,
        loss=req.loss.name,
        loss_params=req.loss.params(),
        penalty=req.penalty.name,
        alpha=alpha,
        l1_ratio=req.penalty.params().get("l1_ratio", 0.5),
        fit_intercept=req.fit_intercept,
        standardize=req.standardize,
        sample_weight=job.sample_weight,
        class_weight=req.class_weight,
        max_iter=job.max_iter,
        tol=req.tol,
        time_limit_s=job.time_limit,
        random_state=req.random_state,
    )


def check_work(prepared: PreparedFit, settings: Settings) -> None:
    """n·d·outputs against LOSSCORE_TRAIN_MAX_ELEMENTS (413)."""
    if prepared.work > settings.train_max_elements:
        raise ApiError(
            413,
            "too_many_elements",
            f"this fit solves for {prepared.outputs} outputs ({prepared.n_classes} classes) "
            f"over {prepared.n} × {prepared.d} features: {prepared.work} values per pass, more "
            f"than the limit of {settings.train_max_elements} (LOSSCORE_TRAIN_MAX_ELEMENTS)",
            [ErrorDetail(field="y", reason="too many classes for the size of X")],
        )


def _fit_and_store(
    job: Job,
    settings: Settings,
    callback: Any = None,
    cancel: Any = None,
    on_pass: Any = None,
    on_cv: Any = None,
) -> Model:
    if job.cv is not None:
        result = cv_fit(
            job.opts,
            job.cv,
            (job.X, job.y, job.sample_weight),
            max_iter=job.max_iter,
            time_limit=job.time_limit,
            on_step=on_cv,
            cancel=cancel,
        )
    elif job.dataset is not None:
        assert job.dataset_path is not None
        result = fit_dataset(
            job.dataset,
            job.dataset_path,
            job.opts,
            max_iter=job.max_iter,
            time_limit=job.time_limit,
            settings=settings,
            callback=callback,
            cancel=cancel,
            on_pass=on_pass,
        )
        if cancel is not None and cancel():
            raise FitCancelled()
    else:
        assert job.prepared is not None
        result = job.prepared.run(callback, cancel=cancel)
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
    if job.feature_names is not None:
        result = with_feature_names(result, job.feature_names)
    return model_body(model_store(settings).add(result))


def _parse_json(raw: bytes, settings: Settings) -> Job:
    count_check(raw, settings.max_request_elements)
    req = parse_json(TrainRequest, raw)
    if req.dataset is not None:
        return _dataset_job(req, req.dataset, settings)
    return _prepare(inline_job(req, settings), settings)


def inline_job(req: TrainRequest, settings: Settings) -> Job:
    """The job of a request whose data come in the body: X and y, or a table of records."""
    if req.table is None:
        X, y, sw = decode_inline(req, settings)
        return Job(req, X, y, sw, X.shape[0], X.shape[1])
    given = [f for f in ("X", "y", "sample_weight") if getattr(req, f) is not None]
    if given:
        raise ApiError.invalid(given[0], "give either `table` or X and y, not both")
    choice = req.table
    sel = select(
        records_table(choice.records, field="table.records"),
        target=choice.target,
        features=choice.features,
        weight=choice.weight,
        classification=req.task == "classification",
        prefix="table.",
    )
    n, d = sel.X.shape
    return Job(req, sel.X, sel.y, sel.sample_weight, n, d, feature_names=sel.feature_names)


def decode_inline(req: TrainRequest, settings: Settings) -> tuple[Any, Any, Any]:
    """X (2-d, at least one row), y and the sample weights of a request's inline data."""
    if req.X is None or req.y is None:
        missing = "X" if req.X is None else "y"
        raise ApiError.invalid(
            missing, "is required (or give `table` or `dataset` instead of X and y)"
        )
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
    return X, y, sw


def _dataset_job(req: TrainRequest, ref: DatasetRef, settings: Settings) -> Job:
    """A fit of a dataset reference: the path checked against the roots (403 before any
    read), the limits, a writable store; the data are read by the fit itself."""
    if req.penalty.alpha_cv() is not None:
        raise ApiError.invalid(
            "penalty.alpha", "cross-validation needs X and y in the request, not a dataset"
        )
    inline = [f for f in ("X", "y", "sample_weight", "table") if getattr(req, f) is not None]
    if inline:
        raise ApiError.invalid(inline[0], "give either `dataset` or inline data, not both")
    path = check_dataset(ref, settings)
    job = Job(req, None, None, None, 0, 0, dataset=ref, dataset_path=path)
    job = check_limits(replace(job, feature_names=ref.features), settings)
    model_store(settings).check_writable(max_age_s=2.0)
    return job


def _parse_upload(opts: TrainUpload, files: dict[str, bytes], settings: Settings) -> Job:
    limit = settings.train_max_elements
    names = None
    try:
        if "data" in files:
            if "X" in files or "y" in files:
                raise ApiError.invalid("data", "give either a file `data` or `X` and `y`, not both")
            sel = uploads.select_table(opts, files, limit)
            X, y, sw, names = sel.X, sel.y, sel.sample_weight, sel.feature_names
        else:
            data = uploads.load_npy_pair(files, limit)
            X, y, sw = data.X, data.y, data.sample_weight
        job = Job(opts, X, y, sw, X.shape[0], X.shape[1], feature_names=names)
        return _prepare(job, settings)
    except LosscoreError as exc:
        raise _in_request_part(from_losscore_error(exc)) from None
    except ApiError as exc:
        raise _in_request_part(exc) from None


_OPTION_FIELDS = set(TrainUpload.model_fields)


def _in_request_part(err: ApiError) -> ApiError:
    """An upload's options are its ``request`` part: an error about an option names
    ``request.<option>``, as the part's schema errors do (the data parts keep their names)."""
    renamed = False
    for detail in err.details:
        if detail.field.split(".")[0] in _OPTION_FIELDS:
            detail.field = f"request.{detail.field}"
            renamed = True
    if renamed and err.status == 422:
        err.message = "; ".join(f"{d.field}: {d.reason}" for d in err.details)
    return err


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


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_upload(request: Request, raw: bytes, settings: Settings) -> Job:
    """The options and data of a multipart CSV / ``.npy`` upload."""
    content_type = _content_type(request)
    if content_type != "multipart/form-data":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use multipart/form-data (JSON goes to the route "
            "without /upload)",
        )
    opts, files = await _read_form(request, raw)
    return await run_cpu(request, _parse_upload, opts, files, settings)


async def _read_job(request: Request, raw: bytes, settings: Settings) -> Job:
    """The options and data of a JSON request (a multipart upload too: deprecated in 0.2.0,
    the /upload routes take them)."""
    content_type = _content_type(request)
    if content_type == "multipart/form-data":
        return await _read_upload(request, raw, settings)
    if not is_json_type(content_type):  # text/plain too: a browser sends it without preflight
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use application/json (multipart uploads go to "
            "the /upload route)",
        )
    return await run_cpu(request, _parse_json, raw, settings)


async def _train(job: Job, request: Request, settings: Settings) -> Response:
    cancel = threading.Event()
    fitting = run_fit(request, _fit_and_store, job, settings, None, cancel.is_set)
    model = await until_disconnect(request, fitting, cancel)
    request.state.model_id = model.model_id
    return Response(model.model_dump_json(), media_type="application/json")


@router.post(
    "",
    operation_id="train",
    response_model=Model,
    responses=TRAIN_RESPONSES,
    openapi_extra=TRAIN_JSON,
    summary="Fit a linear model and store it",
)
async def train(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """Minimises F(w, b) = (1/Σs) Σ s·c·ℓ(y, x·w + b) + alpha·R(w); returns the stored model.

    The body is a JSON `TrainRequest`; files go to `POST /v1/train/upload`."""
    return await _train(await _read_job(request, raw, settings), request, settings)


@router.post(
    "/upload",
    operation_id="train_upload",
    response_model=Model,
    responses=TRAIN_RESPONSES,
    openapi_extra=TRAIN_FORM,
    summary="Fit a linear model on uploaded files and store it",
)
async def train_upload(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """As `POST /v1/train`, with the data as files: a `multipart/form-data` body with a
    `request` field holding the JSON of `TrainUpload` (the options; `target` names the CSV
    column holding y) and a CSV file `data`, or `.npy` files `X` and `y`; optionally a `.npy`
    `sample_weight`."""
    return await _train(await _read_upload(request, raw, settings), request, settings)


def _sse(event: str, data: Any) -> bytes:
    text = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data)
    return f"event: {event}\ndata: {text}\n\n".encode()


STREAM_EVENTS: dict[str, type[BaseModel]] = {
    "progress": TrainProgress,
    "cv": CVProgress,
    "model": Model,
    "error": ErrorResponse,
}


STREAM_RESPONSES = {
    200: {
        "description": (
            "Server-Sent Events: `progress` events (data: `TrainProgress`), or with "
            '`penalty.alpha: {"cv": ...}` one `cv` event per fold and α (data: `CVProgress`), '
            "then one `model` event (data: `Model`, the stored model) or one `error` event "
            "(data: `ErrorResponse`)."
        ),
        "content": {"text/event-stream": sse_events(STREAM_EVENTS)},
    },
    **TRAIN_RESPONSES,
}


@router.post(
    "/stream",
    operation_id="train_stream",
    response_class=Response,
    responses=STREAM_RESPONSES,
    openapi_extra=TRAIN_JSON,
    summary="Fit with progress as Server-Sent Events",
)
async def train_stream(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """``event: progress`` (`TrainProgress`: iteration, objective, optimality, elapsed_s) at
    most every 50 ms, then ``event: model`` with the stored model (`Model`) or ``event: error``
    (`ErrorResponse`). The body is as for ``POST /v1/train``."""
    return await _stream(await _read_job(request, raw, settings), request, settings)


@router.post(
    "/stream/upload",
    operation_id="train_stream_upload",
    response_class=Response,
    responses=STREAM_RESPONSES,
    openapi_extra=TRAIN_FORM,
    summary="Fit uploaded files with progress as Server-Sent Events",
)
async def train_stream_upload(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """As `POST /v1/train/stream`, with the body of `POST /v1/train/upload`."""
    return await _stream(await _read_upload(request, raw, settings), request, settings)


async def _stream(job: Job, request: Request, settings: Settings) -> Response:
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    queue: asyncio.Queue[tuple[str, TrainProgress | CVProgress]] = asyncio.Queue()
    last = [0.0]
    passes: list[int | None] = [None]  # passes over a dataset so far (dataset fits)

    def on_pass(count: int) -> None:
        passes[0] = count

    def callback(iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        now = time.monotonic()
        if iteration == 1 or now - last[0] >= 0.05:
            last[0] = now
            item = TrainProgress(
                iteration=iteration,
                objective=out_number(objective),
                optimality=out_number(optimality),
                elapsed_s=elapsed,
                passes=passes[0],
            )
            loop.call_soon_threadsafe(queue.put_nowait, ("progress", item))

    started = time.monotonic()

    def on_cv(step: CVStep) -> None:
        item = CVProgress(
            fold=step.fold,
            folds=step.folds,
            index=step.index,
            n_alphas=step.n_alphas,
            alpha=step.alpha,
            score=None if step.score is None or not math.isfinite(step.score) else step.score,
            elapsed_s=time.monotonic() - started,
        )
        loop.call_soon_threadsafe(queue.put_nowait, ("cv", item))

    task = asyncio.ensure_future(
        run_fit(request, _fit_and_store, job, settings, callback, cancel.is_set, on_pass, on_cv)
    )
    first = await _first_event(task, queue, cancel)

    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in _events():
                yield chunk
        finally:  # the client went away (or the server is stopping): stop the fit
            if not task.done():
                cancel.set()

    async def _events() -> AsyncIterator[bytes]:
        if first is not None:
            yield _sse(*first)
        drain = asyncio.ensure_future(DRAIN.wait())
        try:
            while True:
                get = asyncio.ensure_future(queue.get())
                await asyncio.wait({task, get, drain}, return_when=asyncio.FIRST_COMPLETED)
                if drain.done():
                    cancel.set()  # shutting down: the fit stops at its next iteration
                if get.done():
                    yield _sse(*get.result())
                    continue
                get.cancel()
                if not task.done():
                    await asyncio.wait({task})
                while not queue.empty():
                    yield _sse(*queue.get_nowait())
                yield _outcome(task)
                return
        finally:
            drain.cancel()

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def _first_event(
    task: asyncio.Future[Model],
    queue: asyncio.Queue[tuple[str, TrainProgress | CVProgress]],
    cancel: threading.Event,
) -> tuple[str, TrainProgress | CVProgress] | None:
    """The first progress event, or None when the fit ended without one: a fit that fails
    before its first iteration answers a plain error response, not a stream (and a shutdown
    that drains first, a 503)."""
    getter = asyncio.ensure_future(queue.get())
    drain = asyncio.ensure_future(DRAIN.wait())
    try:
        waiting: set[asyncio.Future[Any]] = {task, getter, drain}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        if not task.done():  # draining: the fit stops at its next iteration
            cancel.set()
            await asyncio.wait({task})
        exc = task.exception()
        if isinstance(exc, FitCancelled):
            raise shutting_down()
        if exc is not None and queue.empty():
            raise exc
        return None
    except asyncio.CancelledError:  # cancelled hard: the fit stops at its next iteration
        cancel.set()
        raise
    finally:
        getter.cancel()
        drain.cancel()


def _outcome(task: asyncio.Future[Model]) -> bytes:
    """The last event of a stream: the model, or the error that ended the fit."""
    exc = task.exception()
    if exc is None:
        return _sse("model", task.result())
    if isinstance(exc, LosscoreError):
        return _sse("error", error_body(from_losscore_error(exc)))
    if isinstance(exc, ApiError):
        return _sse("error", error_body(exc))
    if isinstance(exc, FitCancelled):  # only a shutdown cancels a stream that is still read
        return _sse("error", error_body(shutting_down()))
    logging.getLogger("service").error("fit failed", exc_info=exc)
    return _sse("error", error_body(ApiError(500, "internal_error", "fit failed")))
