"""``/v1/losses``: the catalog, one loss, and a loss's curve."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

import losscore
from service.arrays import encode_array
from service.auth import require
from service.deps import SettingsDep, run_cpu
from service.errors import ApiError, error_responses
from service.responses import dumps
from service.schemas.catalog import LossInfo, LossList
from service.schemas.curves import CurveQuery, CurveResponse, param_values
from service.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/v1/losses", dependencies=[require("evaluate")], tags=["losses"])

NameParam = Annotated[str, Path(description="A loss name or alias.", max_length=100)]


@cache
def _catalog_bytes() -> bytes:
    return dumps({"losses": [s.as_dict() for s in losscore.list_losses()]})


def _lookup(name: str) -> losscore.Loss:
    try:
        return losscore.get_loss(name, field="name")
    except losscore.UnknownNameError as exc:
        raise ApiError(
            404, "unknown_name", f"no loss named {name!r}; valid names are: {', '.join(exc.valid)}"
        ) from None


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get(
    "", operation_id="list_losses", response_model=LossList, summary="Every loss, described as data"
)
async def list_losses() -> Response:
    """Names, aliases, kind, parameters (defaults, bounds), label convention, formulas."""
    return _json(_catalog_bytes())


@router.get(
    "/{name}",
    operation_id="get_loss",
    response_model=LossInfo,
    responses=error_responses(404, 422),
    summary="One loss (aliases resolve)",
)
async def get_loss(name: NameParam) -> Response:
    """The catalog entry of one loss; an alias answers with the canonical entry."""
    return _json(dumps(_lookup(name).spec.as_dict()))


def _curve(name: str, query: CurveQuery, settings: Settings) -> bytes:
    loss = _lookup(name)
    if query.num > settings.max_curve_points:
        raise ApiError.invalid(
            "num", f"must be at most {settings.max_curve_points} (LOSSCORE_MAX_CURVE_POINTS)"
        )
    try:
        curve = losscore.loss_curve(
            loss,
            start=query.start,
            stop=query.stop,
            num=query.num,
            **param_values(query, {"start", "stop", "num"}),
        )
    except losscore.LosscoreError as exc:
        exc.field = exc.field.removeprefix("loss.")  # parameters are query parameters here
        raise
    with np.errstate(over="ignore", invalid="ignore"):
        finite = all(
            bool(np.isfinite(a).all()) for a in (curve.value, curve.gradient, curve.hessian)
        )
    body: dict[str, Any] = {
        "loss": {"name": curve.loss, **curve.params},
        "x_label": curve.x_label,
        "x": curve.x,
        "value": encode_array(curve.value, "list"),
        "gradient": encode_array(curve.gradient, "list"),
        "hessian": encode_array(curve.hessian, "list"),
        "kinks": [{"x": x, "order": order} for x, order in curve.kinks],
        "overflow": not finite,
    }
    return dumps(body)


@router.get(
    "/{name}/curve",
    operation_id="loss_curve",
    response_model=CurveResponse,
    responses=error_responses(404, 422, 503),
    summary="Loss and its first two derivatives on a grid",
)
async def loss_curve(
    request: Request,
    name: NameParam,
    query: Annotated[CurveQuery, Query()],
    settings: SettingsDep,
) -> Response:
    """ℓ(x), dℓ/dx and d²ℓ/dx² on ``linspace(start, stop, num)``: x is the residual (regression),
    the margin y·f (binary), the probability (binary_cross_entropy) or the margin of the
    true class (multiclass). Loss parameters are query parameters."""
    return _json(await run_cpu(request, _curve, name, query, settings))
