"""``/v1/models``: list, fetch, predict with and delete stored models."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from losscore.train import predict
from service.arrays import decode_array, encode_array, encoding_of
from service.deps import RawBody, SettingsDep, run_cpu
from service.errors import ApiError, error_responses
from service.openapi import json_body
from service.responses import ChunkedResponse, dumps_chunks
from service.schemas.train import PredictRequest
from service.settings import Settings
from service.store import get_store, json_safe

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["models"])
MODEL_RESPONSES = error_responses(400, 404, 413, 422)


def _not_found(model_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no model with id {model_id!r}")


@router.get(
    "", operation_id="list_models", responses=MODEL_RESPONSES, summary="Stored models, newest first"
)
def list_models(
    settings: SettingsDep,
    offset: int = Query(0, ge=0, le=10**9),
    limit: int = Query(50, ge=1, le=500),
) -> Response:
    """A page of model summaries: id, creation time, task, loss, number of features."""
    total, items = get_store(settings.data_dir, settings.database_url).list(offset, limit)
    return JSONResponse({"total": total, "offset": offset, "limit": limit, "models": items})


@router.get(
    "/{model_id}", operation_id="get_model", responses=MODEL_RESPONSES, summary="One stored model"
)
def get_model(model_id: str, settings: SettingsDep) -> Response:
    """Everything the fit returned (coef, intercept, classes, objective, history, ...)."""
    data = get_store(settings.data_dir, settings.database_url).get(model_id)
    if data is None:
        raise _not_found(model_id)
    return JSONResponse(data)


def _predict(model_id: str, raw: bytes, settings: Settings) -> dict[str, Any]:
    req = PredictRequest.model_validate_json(raw)
    model = get_store(settings.data_dir, settings.database_url).load(model_id)
    if model is None:
        raise _not_found(model_id)
    X = decode_array("X", req.X, max_elements=settings.max_array_elements)
    p = predict(model, X)
    encoding = encoding_of(req.X)
    out: dict[str, Any] = json_safe({"prediction": np.asarray(p.prediction).tolist()})
    out["decision_function"] = encode_array(p.decision_function, encoding)
    out["probability"] = None if p.probability is None else encode_array(p.probability, encoding)
    return out


@router.post(
    "/{model_id}/predict",
    operation_id="predict",
    responses=MODEL_RESPONSES,
    openapi_extra=json_body(PredictRequest),
    summary="Predict with a stored model",
)
async def predict_route(
    model_id: str, request: Request, raw: RawBody, settings: SettingsDep
) -> Response:
    """Labels (from ``classes``) or values, decision function, and probabilities for
    log_loss / softmax models (null otherwise)."""
    return ChunkedResponse(dumps_chunks(await run_cpu(request, _predict, model_id, raw, settings)))


@router.delete(
    "/{model_id}",
    operation_id="delete_model",
    status_code=204,
    responses=MODEL_RESPONSES,
    summary="Delete a stored model",
)
def delete_model(model_id: str, settings: SettingsDep) -> Response:
    """Removes the model; 404 if there is none."""
    if not get_store(settings.data_dir, settings.database_url).delete(model_id):
        raise _not_found(model_id)
    return Response(status_code=204)
