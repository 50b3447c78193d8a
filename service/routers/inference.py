"""``/v2``: the Open Inference Protocol (KServe v2 REST) for stored models.

Health and server metadata are open (as ``/healthz`` and ``/readyz``); a model's metadata,
readiness and ``infer`` need the ``read`` scope (as ``/v1/models/{id}/predict``). Inference
runs through the CPU gate with the body-size limit, like predict; the codec is
:mod:`service.inference`. Errors are the protocol's ``{"error": message}`` (400 for invalid
input, see :mod:`service.errors`). A model's one version is ``1``: the
``/v2/models/{id}/versions/1/...`` paths answer as the unversioned ones (outside the OpenAPI
document, which lists each operation once).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from service.auth import require
from service.binary import Reply
from service.deps import RawBody, SettingsDep, StoreDep, open_store, run_cpu
from service.errors import ApiError, inference_error_responses
from service.inference import (
    HEADER_LENGTH,
    VERSION,
    infer,
    model_metadata,
    server_metadata,
    split_body,
)
from service.jsonbody import is_json_type
from service.openapi import json_body
from service.responses import ChunkedResponse
from service.routers.models import load_model
from service.schemas.inference import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from service.settings import Settings
from service.store import ModelStore

__all__ = ["router"]

router = APIRouter(prefix="/v2", tags=["inference"])
_READ = [require("read")]
_MODEL_ERRORS = inference_error_responses(404, 409, 503)


def _json(body: Any) -> Response:
    return Response(body.model_dump_json(exclude_none=True), media_type="application/json")


# -- server -------------------------------------------------------------------------------------


@router.get(
    "/health/live", operation_id="server_live", response_model=ServerLive, summary="Server live"
)
async def server_live() -> Response:
    """`{"live": true}` as long as the event loop runs (as `/healthz`)."""
    return _json(ServerLive(live=True))


def _store_readable(settings: Settings) -> bool:
    try:
        open_store(settings).check_readable()
    except (OSError, SQLAlchemyError):
        return False
    return True


@router.get(
    "/health/ready",
    operation_id="server_ready",
    response_model=ServerReady,
    responses={503: {"model": ServerReady, "description": "The model store cannot be read."}},
    summary="Server ready",
)
async def server_ready(settings: SettingsDep) -> Response:
    """`{"ready": true}` when the model store can be read (inference needs no writes;
    `/readyz` also asks for a writable store, for training); else 503 `{"ready": false}`."""
    if await anyio.to_thread.run_sync(_store_readable, settings):
        return _json(ServerReady(ready=True))
    body = ServerReady(ready=False).model_dump_json()
    return Response(body, status_code=503, media_type="application/json")


@router.get(
    "", operation_id="server_metadata", response_model=ServerMetadata, summary="Server metadata"
)
async def get_server_metadata() -> Response:
    """Name, version and the protocol extensions served (`binary_tensor_data`)."""
    return _json(server_metadata())


# -- models -------------------------------------------------------------------------------------


def _version(model_id: str, version: str) -> None:
    if version != VERSION:
        raise ApiError(
            404, "not_found", f"model {model_id!r} has no version {version!r} (its one is '1')"
        )


@router.get(
    "/models/{model_id}",
    operation_id="model_metadata",
    dependencies=_READ,
    response_model=ModelMetadata,
    responses=_MODEL_ERRORS,
    summary="Model metadata",
)
def get_model_metadata(model_id: str, store: StoreDep) -> Response:
    """The model id as `name`, `versions` `["1"]`, `platform` `losscore_linear`, the input
    `X` ([-1, n_features], FP64; FP32 is accepted too) and the outputs: `prediction` (FP64
    values, or the class labels as INT64, FP64, BOOL or BYTES), `decision_function` (FP64
    [-1, n_outputs]) and, for losses with a probability link, `probabilities` (FP64 [-1, k])."""
    return _json(model_metadata(load_model(store, model_id)))


@router.get("/models/{model_id}/versions/{version}", dependencies=_READ, include_in_schema=False)
def get_model_version_metadata(model_id: str, version: str, store: StoreDep) -> Response:
    _version(model_id, version)
    return get_model_metadata(model_id, store)


@router.get(
    "/models/{model_id}/ready",
    operation_id="model_ready",
    dependencies=_READ,
    response_model=ModelReady,
    responses=_MODEL_ERRORS,
    summary="Model ready",
)
def model_ready(model_id: str, store: StoreDep) -> Response:
    """200 `{"name", "ready": true}` for a stored model that can serve; 404 for none."""
    load_model(store, model_id)
    return _json(ModelReady(name=model_id, ready=True))


@router.get(
    "/models/{model_id}/versions/{version}/ready", dependencies=_READ, include_in_schema=False
)
def model_version_ready(model_id: str, version: str, store: StoreDep) -> Response:
    _version(model_id, version)
    return model_ready(model_id, store)


# -- inference ----------------------------------------------------------------------------------


def _media(request: Request) -> None:
    """415 before the body is read: a JSON body, or with ``Inference-Header-Content-Length``
    also ``application/octet-stream`` (tritonclient sends no content type at all); no
    ``Content-Encoding`` other than identity."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Encoding {encoding!r}: send the body uncompressed",
        )
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if is_json_type(content_type):
        return
    if media == "application/octet-stream" and HEADER_LENGTH.lower() in request.headers:
        return
    raise ApiError(
        415,
        "unsupported_media_type",
        f"content type {media!r}: this route takes application/json, or the binary form "
        f"(application/octet-stream or none, with the {HEADER_LENGTH} header)",
    )


def _infer(
    model_id: str, raw: bytes, header_length: str | None, store: ModelStore, settings: Settings
) -> Reply:
    req, blob = split_body(raw, header_length, settings)  # parsed first, as predict does
    return infer(load_model(store, model_id), req, blob, settings)


_INFER_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "JSON (`InferenceResponse`); when an output is asked for as binary, "
            "`application/octet-stream`: the JSON header (its length in "
            f"`{HEADER_LENGTH}`) followed by those outputs' bytes."
        ),
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            HEADER_LENGTH: {
                "description": "Length of the JSON header of an application/octet-stream body.",
                "schema": {"type": "integer"},
            }
        },
    },
    **inference_error_responses(400, 404, 409, 413, 415, 503),
}


@router.post(
    "/models/{model_id}/infer",
    operation_id="model_infer",
    dependencies=[*_READ, Depends(_media)],
    response_model=InferenceResponse,
    responses=_INFER_OK,
    openapi_extra=json_body(InferenceRequest),
    summary="Infer with a stored model",
)
async def model_infer(
    model_id: str, request: Request, raw: RawBody, store: StoreDep, settings: SettingsDep
) -> Response:
    """One input `X`: `shape` [n, n_features], `datatype` FP64 or FP32, `data` flat
    (row-major) or nested. Outputs (default: all the model has, see its metadata):
    `prediction`, `decision_function`, `probabilities`; equal to
    `POST /v1/models/{id}/predict`'s. `id` is echoed.

    **Binary tensor extension** (the same operation, another body): with the header
    `Inference-Header-Content-Length: N`, the first N bytes of the body are this JSON and
    the rest the input's little-endian bytes, its size in the input's
    `parameters.binary_data_size` (no `data`); content type `application/octet-stream`,
    JSON, or none (as tritonclient sends). Outputs with `parameters.binary_data: true` (or
    all, with the request's `parameters.binary_data_output: true`) are sent as bytes after
    the JSON header (`parameters.binary_data_size` each; BYTES: a 4-byte little-endian
    length before each UTF-8 label, BOOL: one byte each), as `application/octet-stream`
    with the header's length in `Inference-Header-Content-Length`.

    Errors are `{"error": message}`: 400 for invalid input (naming the input, output or
    header), 404 for an unknown model."""
    header_length = request.headers.get(HEADER_LENGTH)
    reply = await run_cpu(request, _infer, model_id, raw, header_length, store, settings)
    return ChunkedResponse(reply.chunks, media_type=reply.media_type, headers=reply.headers)


@router.post(
    "/models/{model_id}/versions/{version}/infer",
    dependencies=[*_READ, Depends(_media)],
    include_in_schema=False,
)
async def model_version_infer(
    model_id: str,
    version: str,
    request: Request,
    raw: RawBody,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    _version(model_id, version)
    return await model_infer(model_id, request, raw, store, settings)
