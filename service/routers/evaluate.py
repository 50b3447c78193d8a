"""``POST /v1/evaluate``, ``POST /v1/compare`` (JSON) and ``POST /v1/evaluate/binary``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from service import binary, compute, datasets, uploads
from service.auth import require
from service.deps import JsonBody, RawBody, SettingsDep, run_cpu, run_fit, run_sized
from service.errors import ERROR_RESPONSES, ApiError, error_responses
from service.jsonbody import parse_json
from service.openapi import form_body, json_body, json_text, octet_body
from service.responses import ChunkedResponse
from service.schemas.evaluate import (
    BinaryEvaluateHeader,
    CompareRequest,
    CompareResponse,
    DatasetEvaluateRequest,
    DatasetEvaluateResponse,
    EvaluateRequest,
    EvaluateResponse,
)
from service.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=[require("evaluate")], tags=["evaluate"])


@router.post(
    "/evaluate",
    operation_id="evaluate",
    response_model=EvaluateResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(EvaluateRequest),
    summary="Evaluate one loss",
)
async def evaluate(request: Request, raw: JsonBody, settings: SettingsDep) -> Response:
    """Value, per-element losses, gradient and optionally the Hessian diagonal,
    with the semantics of ``losscore.evaluate``."""
    return ChunkedResponse(await run_sized(request, len(raw), compute.evaluate, raw, settings))


@router.post(
    "/evaluate/dataset",
    operation_id="evaluate_dataset",
    response_model=DatasetEvaluateResponse,
    responses=error_responses(400, 403, 413, 415, 422, 503),
    openapi_extra=json_body(DatasetEvaluateRequest),
    summary="Evaluate one loss over a dataset read where it lives",
)
async def evaluate_dataset(request: Request, raw: JsonBody, settings: SettingsDep) -> Response:
    """The reduced loss (mean or sum) over the prediction and target columns of a dataset
    under `LOSSCORE_DATASET_ROOTS`, in one pass on the Dask scheduler of
    `LOSSCORE_DASK_SCHEDULER`; with `output`, the per-row losses and gradients are written as
    Parquet under a root. Paths are checked before any read (403)."""
    req = parse_json(DatasetEvaluateRequest, raw)
    path = datasets.check_dataset(req.dataset, settings)
    output = None if req.output is None else datasets.check_output(req.output, settings)
    body = await run_fit(request, datasets.evaluate_dataset, req, path, output, settings)
    return Response(json.dumps(body), media_type="application/json")


@router.post(
    "/compare",
    operation_id="compare",
    response_model=CompareResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(CompareRequest),
    summary="Evaluate several losses on the same inputs",
)
async def compare(request: Request, raw: JsonBody, settings: SettingsDep) -> Response:
    """One evaluate result per loss, in request order (e.g. L1 vs L2 vs smooth L1)."""
    return ChunkedResponse(await run_sized(request, len(raw), compute.compare, raw, settings))


_BINARY_OK = {
    200: {
        "description": (
            "JSON (`EvaluateResponse`, arrays b64 by default), or with `Accept: "
            "application/octet-stream` the raw little-endian bytes of elementwise, gradient "
            "(and hessian), described by the JSON header `X-Losscore-Result`."
        ),
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            binary.RESULT_HEADER: {
                "description": "JSON metadata of an application/octet-stream response.",
                "schema": {"type": "string"},
            }
        },
    },
    **error_responses(400, 413, 415, 422, 503),
}
_HEADER_PARAM = {
    "name": binary.HEADER,
    "in": "header",
    "required": True,
    "description": "The JSON part (a BinaryEvaluateHeader).",
    "schema": json_text(BinaryEvaluateHeader, "JSON text of a BinaryEvaluateHeader."),
}


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _evaluate_form(request: Request, raw: bytes, settings: Settings) -> binary.Reply:
    request._body = raw  # replay the size-checked body to the multipart parser
    try:
        form = await request.form(max_files=3, max_fields=4, max_part_size=1024 * 1024)
    except (MultiPartException, ValueError) as exc:
        raise ApiError(400, "bad_request", f"malformed multipart body: {exc}") from None
    try:
        part = form.get("request")
        text = (
            (await part.read()).decode("utf-8", "replace") if isinstance(part, UploadFile) else part
        )
        header = binary.parse_header(text, "request")
        files = await uploads.read_file_parts(
            form, ("prediction", "target", "weight"), "a file part (.npy)"
        )
    finally:
        await form.close()
    raw_output = "application/octet-stream" in request.headers.get("accept", "")
    return await run_cpu(request, binary.evaluate_npy, header, files, settings, raw_output)


def _reply(reply: binary.Reply) -> Response:
    return ChunkedResponse(reply.chunks, media_type=reply.media_type, headers=reply.headers)


@router.post(
    "/evaluate/binary",
    operation_id="evaluate_binary",
    response_model=EvaluateResponse,
    responses=_BINARY_OK,
    openapi_extra={
        **octet_body("prediction, target (and weight) as little-endian bytes, back to back."),
        "parameters": [_HEADER_PARAM],
    },
    summary="Evaluate one loss on raw little-endian arrays",
)
async def evaluate_binary(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """For large arrays: the body holds the raw little-endian bytes of prediction, target and
    (if ``weight_shape`` is given) weight, back to back; the JSON part (`BinaryEvaluateHeader`)
    is in the ``X-Losscore-Request`` header. Response arrays default to the b64 encoding; with
    ``Accept: application/octet-stream`` the response is the raw bytes of elementwise,
    gradient (and hessian), described by the JSON header ``X-Losscore-Result``.

    (A multipart ``.npy`` body here is the deprecated form of ``POST /v1/evaluate/npy``.)"""
    content_type = _content_type(request)
    if content_type == "multipart/form-data":  # deprecated in 0.2.0: /v1/evaluate/npy
        return _reply(await _evaluate_form(request, raw, settings))
    if content_type not in ("application/octet-stream", ""):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use application/octet-stream "
            "(multipart .npy files go to /v1/evaluate/npy)",
        )
    header = binary.parse_header(request.headers.get(binary.HEADER), binary.HEADER)
    raw_output = "application/octet-stream" in request.headers.get("accept", "")
    reply = await run_cpu(request, binary.evaluate_octets, header, raw, settings, raw_output)
    return _reply(reply)


@router.post(
    "/evaluate/npy",
    operation_id="evaluate_npy",
    response_model=EvaluateResponse,
    responses=_BINARY_OK,
    openapi_extra=form_body(
        "EvaluateNpyForm",
        "`.npy` files and the JSON part.",
        BinaryEvaluateHeader,
        {
            "prediction": ("A .npy file: predictions (no pickles).", True),
            "target": ("A .npy file: targets.", True),
            "weight": ("An optional .npy file: weights.", False),
        },
    ),
    summary="Evaluate one loss on .npy files",
)
async def evaluate_npy(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """``multipart/form-data`` with ``.npy`` files ``prediction``, ``target`` and optionally
    ``weight`` (loaded with ``allow_pickle=False``) and a ``request`` field with the JSON part
    (`BinaryEvaluateHeader`; ``dtype`` and the shapes come from the files). Answers as
    ``POST /v1/evaluate/binary``."""
    content_type = _content_type(request)
    if content_type != "multipart/form-data":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use multipart/form-data",
        )
    return _reply(await _evaluate_form(request, raw, settings))
