"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import PlainTextResponse, Response

import losscore

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    version: str
    losses: int


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """Answers as long as the event loop runs (CPU work is on worker threads)."""
    return Health(status="ok")


@router.get("/readyz", operation_id="readyz", response_model=Ready, summary="Readiness")
async def readyz() -> Ready:
    """Ready once the loss registry is loaded."""
    return Ready(status="ready", version=losscore.__version__, losses=len(losscore.loss_names()))


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Request counts, latency and body-size histograms by route template and status."""
    text: str = request.app.state.metrics.render()
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
