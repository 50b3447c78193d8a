"""``/v1/models``: list, fetch, predict with and delete stored models."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

import losscore
from losscore.tables import rows_of_records
from losscore.train import FitResult, predict
from service.arrays import decode_array, encode_array, encoding_of
from service.auth import require
from service.deps import JsonBody, SettingsDep, StoreDep, run_cpu
from service.errors import ApiError, error_responses
from service.jsonbody import count_check, parse_json
from service.modelview import model_body, summary_body
from service.openapi import json_body
from service.plotting import cv_svg, path_svg
from service.responses import ChunkedResponse, dumps_chunks
from service.routers.plots import SVG_OK, svg_response
from service.schemas.models import Model, ModelList, PredictResponse
from service.schemas.train import PredictRequest
from service.settings import Settings
from service.store import InvalidCursorError, ModelStore, StoredModel

__all__ = ["load_model", "router"]

router = APIRouter(prefix="/v1/models", tags=["models"])
MODEL_RESPONSES = error_responses(400, 404, 409, 413, 415, 422, 503)


def _not_found(model_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no model with id {model_id!r}")


def _usable(stored: StoredModel | None, model_id: str) -> StoredModel:
    """The stored model, or 404; 409 for a model with non-finite numbers (stores written
    before 0.2.0 could hold one; it can be listed and deleted, not used)."""
    if stored is None:
        raise _not_found(model_id)
    if not stored.result.finite:
        raise ApiError(
            409,
            "model_unusable",
            f"model {model_id!r} has non-finite coefficients or objective (stored before "
            "0.2.0 refused such fits): delete it and fit again",
        )
    return stored


def load_model(store: ModelStore, model_id: str) -> StoredModel:
    """The stored model *model_id* if it can be used: 404 if there is none, 409 if it holds
    non-finite numbers."""
    return _usable(store.get(model_id), model_id)


def _json(model: Model | ModelList) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


@router.get(
    "",
    operation_id="list_models",
    dependencies=[require("read")],
    response_model=ModelList,
    responses=error_responses(422, 503),
    summary="Stored models, newest first",
)
def list_models(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Models per page.")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page."),
    ] = None,
    offset: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """A page of model summaries (id, creation time, task, loss, penalty, sizes, classes).

    Pages follow each other through `next_cursor` (keyset pagination): models stored while a
    client walks the pages appear before its position, so none is skipped or repeated."""
    if offset is not None:  # 0.1.0's paging: refused, so an old client does not loop on page 1
        raise ApiError.invalid("offset", "was removed in 0.2.0: page with `cursor` (next_cursor)")
    try:
        items, next_cursor = store.list(limit, cursor)
    except InvalidCursorError:
        raise ApiError.invalid("cursor", "is not a cursor this service handed out") from None
    return _json(ModelList(models=[summary_body(i) for i in items], next_cursor=next_cursor))


@router.get(
    "/{model_id}",
    operation_id="get_model",
    dependencies=[require("read")],
    response_model=Model,
    responses=error_responses(404, 409, 422, 503),
    summary="One stored model",
)
def get_model(model_id: str, store: StoreDep) -> Response:
    """Everything the fit returned (coef, intercept, classes, objective, history, ...)."""
    return _json(model_body(_usable(store.get(model_id), model_id)))


def _predict(model_id: str, raw: bytes, store: ModelStore, settings: Settings) -> dict[str, Any]:
    count_check(raw, settings.max_request_elements)
    req = parse_json(PredictRequest, raw)
    stored = _usable(store.get(model_id), model_id)
    X = _rows(req, stored.result, settings)
    p = predict(stored.result, X)
    encoding = encoding_of(req.X)
    labels = np.asarray(p.prediction)
    if labels.dtype.kind == "f" and not losscore.all_finite(labels):
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise ApiError.invalid(
            "X", "the predicted value leaves the float64 range (rescale the rows)", [row]
        )
    prediction = labels.tolist()
    scores = p.decision_function.reshape(p.decision_function.shape[0], -1)  # [n][n_outputs]
    return {
        "prediction": prediction,
        "decision_function": encode_array(scores, encoding),
        "probability": None if p.probability is None else encode_array(p.probability, encoding),
    }


def _rows(req: PredictRequest, result: FitResult, settings: Settings) -> Any:
    """The rows to predict: ``X``, or ``records`` in the model's feature order."""
    if (req.X is None) == (req.records is None):
        raise ApiError.invalid("X", "give either X or records (exactly one)")
    if req.X is not None:
        return decode_array("X", req.X, max_elements=settings.max_array_elements)
    assert req.records is not None
    if result.feature_names is None:
        raise ApiError.invalid(
            "records",
            "this model has no feature names (it was fitted on unnamed arrays): send X",
        )
    return rows_of_records(req.records, result.feature_names, field="records")


@router.post(
    "/{model_id}/predict",
    operation_id="predict",
    dependencies=[require("read")],
    response_model=PredictResponse,
    responses=MODEL_RESPONSES,
    openapi_extra=json_body(PredictRequest),
    summary="Predict with a stored model",
)
async def predict_route(
    model_id: str, request: Request, raw: JsonBody, store: StoreDep, settings: SettingsDep
) -> Response:
    """Labels (from ``classes``) or values, decision function [n][n_outputs], and
    probabilities for losses with a probability link (null otherwise)."""
    body = await run_cpu(request, _predict, model_id, raw, store, settings)
    return ChunkedResponse(dumps_chunks(body))


@router.delete(
    "/{model_id}",
    operation_id="delete_model",
    dependencies=[require("admin")],
    status_code=204,
    responses=error_responses(404, 422, 503),
    summary="Delete a stored model",
)
def delete_model(model_id: str, store: StoreDep) -> Response:
    """Removes the model; 404 if there is none."""
    if not store.delete(model_id):
        raise _not_found(model_id)
    return Response(status_code=204)


SVG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: SVG_OK,
    **error_responses(404, 409, 422, 503),
}


def _cv_table(model_id: str, store: ModelStore) -> tuple[dict[str, Any], Any]:
    stored = _usable(store.get(model_id), model_id)
    table = stored.result.extra.get("cv")
    if table is None:
        raise ApiError(
            404,
            "no_cv",
            f"model {model_id!r} was fitted at a given alpha: only a model trained with "
            '`penalty.alpha: {"cv": ...}` has a path and a CV table to plot',
        )
    return table, stored.result


def _path_svg(model_id: str, store: ModelStore) -> bytes:
    table, result = _cv_table(model_id, store)
    if table.get("path_coef") is None:
        raise ApiError(
            404,
            "no_path",
            f"model {model_id!r} has more than 1,000 coefficients: its CV table keeps no path",
        )
    names = [f"x{j}" for j in range(result.n_features)]
    return path_svg(table["alphas"], table["path_coef"], table["alpha"], names)


def _cv_svg(model_id: str, store: ModelStore) -> bytes:
    t, _ = _cv_table(model_id, store)
    return cv_svg(
        t["alphas"], t["mean"], t["std_error"], t["alpha_min"], t["alpha_one_se"], t["alpha"],
        t["scoring"],
    )  # fmt: skip


@router.get(
    "/{model_id}/plots/path.svg",
    operation_id="plot_model_path",
    dependencies=[require("read")],
    response_class=Response,
    responses=SVG_RESPONSES,
    summary="Coefficients against alpha (a cross-validated model)",
)
async def plot_model_path(request: Request, model_id: str, store: StoreDep) -> Response:
    """The regularisation path on all the data over the CV grid, the chosen α marked."""
    return svg_response(request, await run_cpu(request, _path_svg, model_id, store))


@router.get(
    "/{model_id}/plots/cv.svg",
    operation_id="plot_model_cv",
    dependencies=[require("read")],
    response_class=Response,
    responses=SVG_RESPONSES,
    summary="Mean held-out score ± 1 SE against alpha (a cross-validated model)",
)
async def plot_model_cv(request: Request, model_id: str, store: StoreDep) -> Response:
    """The CV curve with α_min and the one-standard-error α marked."""
    return svg_response(request, await run_cpu(request, _cv_svg, model_id, store))
