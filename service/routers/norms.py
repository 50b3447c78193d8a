"""``/v1/norms``: the norm catalog and ``POST /v1/norms/evaluate``."""

from __future__ import annotations

import math
from functools import cache

from fastapi import APIRouter, Request
from starlette.responses import Response

from losscore.norms import evaluate_norm as core_evaluate_norm
from losscore.norms import get_norm
from losscore.norms import list_norms as core_list_norms
from service.arrays import decode_array, encode_array, encoding_of, out_number
from service.auth import require
from service.compute import all_finite, check_total
from service.deps import JsonBody, SettingsDep, run_sized
from service.errors import ERROR_RESPONSES, ApiError
from service.jsonbody import count_check, parse_json
from service.openapi import json_body
from service.responses import ChunkedResponse, dumps, dumps_chunks
from service.schemas.catalog import NormList
from service.schemas.norms import NormEvaluateRequest, NormEvaluateResponse
from service.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/v1/norms", dependencies=[require("evaluate")], tags=["norms"])


@cache
def _catalog_bytes() -> bytes:
    return dumps({"norms": [s.as_dict() for s in core_list_norms()]})


@router.get("", operation_id="list_norms", response_model=NormList, summary="Every norm")
async def list_norms() -> Response:
    """Names, parameters and the formulas of value, subgradient and prox."""
    return Response(_catalog_bytes(), media_type="application/json")


def _evaluate(raw: bytes, settings: Settings) -> list[bytes]:
    count_check(raw, settings.max_request_elements)
    req = parse_json(NormEvaluateRequest, raw)
    x = decode_array("x", req.x, max_elements=settings.max_array_elements)
    check_total(settings, x)
    cost = get_norm(req.norm.name).cost(x.shape)
    if cost > settings.max_norm_cost:
        raise ApiError.invalid(
            "x",
            f"shape {list(x.shape)} costs about {cost:.3g} operations for {req.norm.name}, "
            f"more than the limit of {settings.max_norm_cost:.3g} per request "
            "(LOSSCORE_MAX_NORM_COST)",
        )
    result = core_evaluate_norm(req.norm.name, x, step=req.step, **req.norm.params())
    encoding = req.encoding or encoding_of(req.x)
    overflow = not math.isfinite(result.value) or not all_finite(result.subgradient, result.prox)
    return dumps_chunks(
        {
            "norm": {"name": result.norm, **result.params},
            "value": out_number(result.value),
            "subgradient": encode_array(result.subgradient, encoding),
            "prox": None if result.prox is None else encode_array(result.prox, encoding),
            "step": result.step,
            "shape": list(result.shape),
            "dtype": str(result.dtype),
            "overflow": overflow,
        }
    )


@router.post(
    "/evaluate",
    operation_id="evaluate_norm",
    response_model=NormEvaluateResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(NormEvaluateRequest),
    summary="Evaluate a norm: value, subgradient, prox",
)
async def evaluate_norm(request: Request, raw: JsonBody, settings: SettingsDep) -> Response:
    """g(x), a (sub)gradient, and prox_{t·g}(x) when ``step`` = t is given."""
    return ChunkedResponse(await run_sized(request, len(raw), _evaluate, raw, settings))
