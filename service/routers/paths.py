"""``POST /v1/train/path``: a regularisation path (one fit per α of a decreasing grid,
warm-started), answered as JSON and not stored. Bounded like a fit: the training limits of
:mod:`service.routers.train`, ``LOSSCORE_TRAIN_MAX_ALPHAS`` values, the fit gate, the time
limit for the whole path, and cancellation when the client leaves."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.admission import until_disconnect
from service.auth import require
from service.cvfit import check_grid, run_path
from service.deps import RawBody, SettingsDep, run_cpu, run_fit
from service.errors import ApiError, error_responses
from service.jsonbody import count_check, parse_json
from service.openapi import json_body
from service.routers.train import Job, check_limits, check_work, inline_job, prepare_job
from service.schemas.models import PathResponse
from service.schemas.train import PathRequest
from service.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/v1/train", dependencies=[require("train")], tags=["training"])


def _parse(raw: bytes, settings: Settings) -> Job:
    count_check(raw, settings.max_request_elements)
    req = parse_json(PathRequest, raw)
    if req.dataset is not None:
        raise ApiError.invalid("dataset", "a path needs inline X and y")
    if req.penalty.alpha_cv() is not None:
        raise ApiError.invalid(
            "penalty.alpha", "a path has its own grid (alphas, n_alphas): give a number"
        )
    check_grid(req.alphas, req.n_alphas, settings, "")
    job = check_limits(inline_job(req, settings), settings)
    # the options, data and labels, and the size of one fit, before a fit slot is taken
    alpha = req.alphas[0] if req.alphas else req.penalty.params().get("alpha", 1.0)
    prepared = prepare_job(job, alpha=alpha)
    check_work(prepared, settings)
    return job


def _run(job: Job, cancel: threading.Event) -> PathResponse:
    assert isinstance(job.opts, PathRequest)
    return run_path(
        job.opts,
        (job.X, job.y, job.sample_weight),
        max_iter=job.max_iter,
        time_limit=job.time_limit,
        cancel=cancel.is_set,
    )


@router.post(
    "/path",
    operation_id="train_path",
    response_model=PathResponse,
    responses=error_responses(400, 413, 415, 422, 503),
    openapi_extra=json_body(PathRequest),
    summary="Fits along a decreasing grid of alpha (a regularisation path)",
)
async def train_path(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """Each point: coefficients, intercepts, objective, certificate (optimality, converged)
    and iterations at one α; the default grid runs from α₀, the smallest α whose solution is
    all-zero, down to `alpha_min_ratio`·α₀ (docs/TRAINING.md, "Choosing alpha")."""
    job = await run_cpu(request, _parse, raw, settings)
    cancel = threading.Event()
    result = await until_disconnect(request, run_fit(request, _run, job, cancel), cancel)
    return Response(result.model_dump_json(), media_type="application/json")
