"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import PlainTextResponse, Response

import losscore
from service.admission import Gate
from service.deps import SettingsDep, open_store
from service.settings import Settings

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    version: str
    losses: int


class NotReady(BaseModel):
    """Why the service cannot take traffic now."""

    status: Literal["not_ready"]
    reason: str


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """Answers as long as the event loop runs (CPU work is on worker threads)."""
    return Health(status="ok")


def _store_writable(settings: Settings) -> str | None:
    """None when the model store takes a write, else why not."""
    try:
        open_store(settings).check_writable()
    except (OSError, SQLAlchemyError) as exc:
        return f"the model store cannot be written ({type(exc).__name__})"
    return None


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Ready,
    responses={503: {"model": NotReady, "description": "Not ready: the reason says why."}},
    summary="Readiness",
)
async def readyz(settings: SettingsDep) -> Response:
    """Ready when the loss registry is loaded and the model store takes a write (a read-only
    or unreachable store makes the service not ready: training would fail)."""
    problem = await anyio.to_thread.run_sync(_store_writable, settings)
    if problem is not None:
        body = NotReady(status="not_ready", reason=problem)
        return Response(body.model_dump_json(), status_code=503, media_type="application/json")
    ready = Ready(status="ready", version=losscore.__version__, losses=len(losscore.loss_names()))
    return Response(ready.model_dump_json(), media_type="application/json")


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Request counts, latency and body-size histograms by route template and status; the
    admission gates' occupancy and refusals."""
    state = request.app.state
    text: str = state.metrics.render() + _gate_lines(state.cpu_gate, state.fit_gate)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


_GATE_METRICS = {
    "losscore_admission_admitted": ("gauge", "Jobs running or queued behind an admission gate."),
    "losscore_admission_capacity": ("gauge", "Jobs a gate admits (running + queued) before 503."),
    "losscore_admission_refused_total": ("counter", "Requests refused with 503 by a gate."),
}


def _gate_lines(*gates: Gate) -> str:
    """One group per metric (HELP, TYPE, a sample per gate), as the text format requires."""
    samples = [gate.samples() for gate in gates]
    lines = []
    for name, (kind, help_text) in _GATE_METRICS.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [
            f'{name}{{gate="{g.name}"}} {s[name]}' for g, s in zip(gates, samples, strict=True)
        ]
    return "\n".join(lines) + "\n"
