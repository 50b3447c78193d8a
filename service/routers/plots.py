"""``GET /v1/plots/losses.svg``: chosen losses and their derivatives as an SVG chart."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

import losscore
from service.auth import require
from service.deps import SettingsDep, run_cpu
from service.errors import ApiError, ErrorDetail, error_responses
from service.plotting import losses_svg
from service.schemas.curves import PlotQuery, param_values
from service.settings import Settings

__all__ = ["router"]

# binary for image/svg+xml and a text alternative: the shape every generated client returns
# (openapi-python-client drops image/svg+xml alone)
SVG_OK: dict[str, Any] = {
    "description": "The chart as SVG text (`text/plain` when the request accepts only it).",
    "content": {
        "image/svg+xml": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}},
    },
}


def svg_response(request: Request, svg: bytes) -> Response:
    """The SVG as image/svg+xml, or as text/plain to a client that accepts only text."""
    accept = request.headers.get("accept", "")
    text_only = "text/plain" in accept and not any(m in accept for m in ("svg", "image/", "*/*"))
    return Response(svg, media_type="text/plain; charset=utf-8" if text_only else "image/svg+xml")


router = APIRouter(prefix="/v1/plots", dependencies=[require("evaluate")], tags=["plots"])

MAX_PLOT_LOSSES = 8


def _plot(query: PlotQuery, settings: Settings) -> bytes:
    names = [n.strip() for n in query.names.split(",") if n.strip()]
    if not names:
        raise ApiError.invalid("names", "give at least one loss name")
    if len(names) > MAX_PLOT_LOSSES:
        raise ApiError.invalid("names", f"at most {MAX_PLOT_LOSSES} losses per chart")
    if query.num > settings.max_curve_points:
        raise ApiError.invalid(
            "num", f"must be at most {settings.max_curve_points} (LOSSCORE_MAX_CURVE_POINTS)"
        )
    params = param_values(query, {"names", "start", "stop", "num"})
    losses = []
    for i, name in enumerate(names):
        try:
            losses.append(losscore.get_loss(name, field="names"))
        except losscore.UnknownNameError as exc:
            exc.index = (i,)
            raise
    used: set[str] = set()
    curves = []
    for loss in losses:
        own = {k: v for k, v in params.items() if any(p.name == k for p in loss.spec.params)}
        used.update(own)
        try:
            curves.append(
                losscore.loss_curve(loss, start=query.start, stop=query.stop, num=query.num, **own)
            )
        except losscore.LosscoreError as exc:
            exc.field = exc.field.removeprefix("loss.")  # parameters are query parameters here
            raise
    for unused in sorted(set(params) - used):
        raise ApiError.invalid(unused, f"none of the chosen losses has a parameter {unused!r}")
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # pixel positions near 1e308
            return losses_svg(curves)
    except (ValueError, OverflowError) as exc:  # e.g. ticks or data range beyond the float range
        reason = f"the chart cannot be drawn over [{query.start:g}, {query.stop:g}] ({exc})"
        details = [ErrorDetail(field=f, reason=reason) for f in ("start", "stop")]
        raise ApiError(422, "invalid_input", f"start, stop: {reason}", details) from None


@router.get(
    "/losses.svg",
    operation_id="plot_losses",
    response_class=Response,
    responses={
        200: SVG_OK,
        **error_responses(422, 503),
    },
    summary="Chart of losses and their derivatives",
)
async def plot_losses(
    request: Request, query: Annotated[PlotQuery, Query()], settings: SettingsDep
) -> Response:
    """An SVG with two panels (loss, derivative), axes, ticks and a legend. Loss parameters
    are query parameters and apply to every chosen loss that has them."""
    return svg_response(request, await run_cpu(request, _plot, query, settings))
