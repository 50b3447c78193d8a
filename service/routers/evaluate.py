"""``POST /v1/evaluate``, ``POST /v1/compare`` (JSON) and ``POST /v1/evaluate/binary``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from service import binary, compute, uploads
from service.deps import RawBody, SettingsDep, run_cpu, run_sized
from service.errors import ERROR_RESPONSES, ApiError, error_responses
from service.openapi import binary_body, json_body
from service.responses import ChunkedResponse
from service.schemas.evaluate import (
    BinaryEvaluateHeader,
    CompareRequest,
    CompareResponse,
    EvaluateRequest,
    EvaluateResponse,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["evaluate"])


@router.post(
    "/evaluate",
    operation_id="evaluate",
    response_model=EvaluateResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(EvaluateRequest),
    summary="Evaluate one loss",
)
async def evaluate(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """Value, per-element losses, gradient and optionally the Hessian diagonal,
    with the semantics of ``losscore.evaluate``."""
    return ChunkedResponse(await run_sized(request, len(raw), compute.evaluate, raw, settings))


@router.post(
    "/compare",
    operation_id="compare",
    response_model=CompareResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(CompareRequest),
    summary="Evaluate several losses on the same inputs",
)
async def compare(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """One evaluate result per loss, in request order (e.g. L1 vs L2 vs smooth L1)."""
    return ChunkedResponse(await run_sized(request, len(raw), compute.compare, raw, settings))


@router.post(
    "/evaluate/binary",
    operation_id="evaluate_binary",
    response_model=EvaluateResponse,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "headers": {
                "X-Losscore-Result": {
                    "description": "JSON metadata of an application/octet-stream response.",
                    "schema": {"type": "string"},
                }
            },
        },
        **error_responses(400, 413, 415, 422),
    },
    openapi_extra=binary_body(BinaryEvaluateHeader),
    summary="Evaluate one loss on binary arrays (raw bytes or .npy)",
)
async def evaluate_binary(request: Request, raw: RawBody, settings: SettingsDep) -> Response:
    """For large arrays: ``application/octet-stream`` (raw little-endian bytes, the JSON
    part in the ``X-Losscore-Request`` header) or ``multipart/form-data`` (``.npy`` files
    ``prediction``, ``target``, ``weight`` and a ``request`` field with the JSON part).
    Response arrays default to the b64 encoding; with ``Accept: application/octet-stream``
    the response is the raw little-endian bytes of elementwise, gradient (and hessian),
    described by the JSON header ``X-Losscore-Result``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw_output = "application/octet-stream" in request.headers.get("accept", "")
    if content_type == "multipart/form-data":
        request._body = raw  # replay the size-checked body to the multipart parser
        try:
            form = await request.form(max_files=3, max_fields=4, max_part_size=1024 * 1024)
        except (MultiPartException, ValueError) as exc:
            raise ApiError(400, "bad_request", f"malformed multipart body: {exc}") from None
        try:
            text = form.get("request")
            header = binary.parse_header(text if isinstance(text, str) else None, "request")
            files = await uploads.read_file_parts(
                form, ("prediction", "target", "weight"), "a file part (.npy)"
            )
        finally:
            await form.close()
        reply = await run_cpu(request, binary.evaluate_npy, header, files, settings, raw_output)
    elif content_type in ("application/octet-stream", ""):
        header = binary.parse_header(request.headers.get(binary.HEADER), binary.HEADER)
        reply = await run_cpu(request, binary.evaluate_octets, header, raw, settings, raw_output)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {content_type!r}: use application/octet-stream or multipart/form-data",
        )
    return ChunkedResponse(reply.chunks, media_type=reply.media_type, headers=reply.headers)
