"""One JSON error shape for every 4xx (and the never-expected 5xx).

``{"error": {"status": 422, "code": "invalid_input", "message": "...",
"details": [{"field": "prediction", "index": [3], "reason": "must be finite, found NaN"}]}}``

The Open Inference Protocol routes (paths under ``/v2``) answer that protocol's shape
instead, ``{"error": "message"}`` (:class:`InferenceError`; its clients read the message
from ``error``), the same message, and 400 where the rest of the API says 422.

Sources of errors, all mapped here:

* :class:`ApiError` raised by the service itself (body too large, malformed JSON, limits);
* :class:`pydantic.ValidationError` from parsing a body (the field path is cleaned
  of pydantic's union tags; the input is never echoed, so NaN cannot break the response);
* FastAPI's :class:`RequestValidationError` (query and path parameters);
* :class:`losscore.errors.LosscoreError` (field, index, reason from the library);
* Starlette's :class:`HTTPException` (404, 405).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from losscore.errors import LosscoreError, UnknownNameError
from losscore.losses import get_loss
from service.httpsem import allowed_methods

__all__ = [
    "ERROR_RESPONSES",
    "PROTOCOL_PREFIX",
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "ErrorResponse",
    "InferenceError",
    "error_body",
    "error_responses",
    "inference_error_responses",
    "install_error_handlers",
    "store_unavailable",
    "validation_details",
]

log = logging.getLogger("service")


class ErrorDetail(BaseModel):
    """One problem: the field (dotted path), the array index where one applies, the reason."""

    field: str
    index: list[int] | None = None
    reason: str


class ErrorBody(BaseModel):
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_input`.")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class InferenceError(BaseModel):
    """The body of every error response of the Open Inference Protocol routes (``/v2``)."""

    error: str = Field(description="What went wrong (names the input, output or setting).")


class ApiError(Exception):
    """An error the service reports with a given status, code and details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.headers = headers

    @classmethod
    def invalid(cls, field: str, reason: str, index: Sequence[int] | None = None) -> ApiError:
        """A 422 about one field."""
        detail = ErrorDetail(
            field=field, index=None if index is None else list(index), reason=reason
        )
        return cls(422, "invalid_input", _message([detail]), [detail])


_DESCRIPTIONS = {
    400: "Malformed JSON or multipart body.",
    404: "Unknown path, loss name or model.",
    409: "The model cannot be used (non-finite numbers, stored before 0.2.0).",
    413: "Request body larger than `LOSSCORE_MAX_BODY_BYTES`.",
    415: "Unsupported content type.",
    422: "Invalid input: the details name each field, array index and reason.",
    503: "At capacity (`overloaded`) or the model store is unavailable (`store_unavailable`); "
    "`Retry-After` says when to retry.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    return {
        s: {"model": ErrorResponse, "description": _DESCRIPTIONS.get(s, "Error.")} for s in statuses
    }


ERROR_RESPONSES = error_responses(400, 413, 415, 422, 503)

PROTOCOL_PREFIX = "/v2"
"""Paths of the Open Inference Protocol: their errors are :class:`InferenceError` bodies."""

_INFERENCE_DESCRIPTIONS = {
    400: "Invalid request: malformed JSON, a wrong input name, datatype, shape or data size.",
    404: "Unknown path or model.",
}


def inference_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses of a ``/v2`` route."""
    return {
        s: {
            "model": InferenceError,
            "description": _INFERENCE_DESCRIPTIONS.get(s) or _DESCRIPTIONS.get(s, "Error."),
        }
        for s in statuses
    }


def _is_protocol_path(path: str) -> bool:
    return path == PROTOCOL_PREFIX or path.startswith(PROTOCOL_PREFIX + "/")


def _message(details: Sequence[ErrorDetail]) -> str:
    parts = []
    for d in details[:5]:
        where = d.field if d.index is None else f"{d.field}[{', '.join(map(str, d.index))}]"
        parts.append(f"{where}: {d.reason}")
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return "; ".join(parts) + more


# -- pydantic errors ------------------------------------------------------------------------------

_REASONS = {
    "finite_number": "must be finite, found NaN or Infinity",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}

# Path segments pydantic inserts for union members; they are not field names.
_TAG_NAMES: set[str] = {"float", "int", "str", "bool", "Tensor", "NestedList", "none"}


def register_tags(tags: Iterable[str]) -> None:
    """Declare discriminator values (loss and norm names) so error paths skip them."""
    _TAG_NAMES.update(tags)


def _is_tag(segment: str) -> bool:
    return segment in _TAG_NAMES or "[" in segment or segment.startswith("function-")


def _reason(err: ErrorDetails) -> str:
    etype = err["type"]
    ctx = err.get("ctx") or {}
    if etype == "union_tag_invalid":
        if "hint" in ctx:
            return str(ctx["hint"])
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return f"unknown name {ctx.get('tag')!r}; valid names are: {expected}"
    if etype == "union_tag_not_found":
        return "is required (it selects the variant)"
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return err["msg"].replace("Input should be", "must be")
    if etype == "literal_error":
        return err["msg"].replace("Input should be", "must be")
    if etype == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if etype in ("too_short", "too_long"):
        return (
            err["msg"]
            .replace("List should have", "must have")
            .replace("Value should have", "must have")
        )
    if etype == "finite_number":
        value = err.get("input")
        if isinstance(value, float):
            found = "NaN" if value != value else ("+Infinity" if value > 0 else "-Infinity")
            return f"must be finite, found {found}"
    if etype == "json_invalid":
        return f"malformed JSON: {ctx.get('error', err['msg'])}"
    return _REASONS.get(etype, err["msg"].replace("Input should be", "must be"))


def _split_loc(loc: Sequence[int | str], skip: int) -> tuple[str, list[int] | None, int]:
    """``(dotted field, trailing int index or None, depth)`` from a pydantic location."""
    fields: list[str] = []
    index: list[int] = []
    after_tag = False  # a union's tag is one segment: what follows it is a field again
    for seg in list(loc)[skip:]:
        if isinstance(seg, int):
            index.append(seg)
            after_tag = False
        elif not after_tag and _is_tag(seg):
            after_tag = True
            continue
        else:
            after_tag = False
            if index:  # an index inside a list of objects: keep it in the field path
                fields[-1:] = [f"{fields[-1] if fields else ''}[{']['.join(map(str, index))}]"]
                index = []
            fields.append(seg)
    return ".".join(fields) or "body", index or None, len(loc)


def _untrainable(field: str, err: ErrorDetails) -> ErrorDetails:
    """A loss union that refuses a catalog loss refuses it for training: say so."""
    tag = (err.get("ctx") or {}).get("tag")
    if not field.endswith("loss.name") or not isinstance(tag, str):
        return err
    try:
        loss = get_loss(tag)
    except UnknownNameError:
        return err
    expected = str((err.get("ctx") or {}).get("expected_tags", "")).replace("'", "")
    if tag not in (loss.spec.name, *loss.spec.aliases):  # 'L2': the API's names are exact
        msg = f"unknown name {tag!r} (names are lowercase: {loss.spec.name!r}); valid: {expected}"
        return {**err, "msg": msg, "ctx": {**(err.get("ctx") or {}), "hint": msg}}
    msg = f"{loss.name!r} cannot be trained (an evaluate-only loss); trainable losses: {expected}"
    return {**err, "type": "value_error", "msg": msg}


def validation_details(
    errors: Sequence[ErrorDetails], *, skip: int = 0, query: bool = False
) -> list[ErrorDetail]:
    """Turn pydantic errors into details, one per field, choosing the most specific error.

    Union members each report a failure; for one field we keep the deepest error and
    prefer a specific reason (e.g. NaN at an index) over "must be a list".
    """
    best: dict[str, tuple[tuple[int, int], ErrorDetail]] = {}
    top_types: dict[str, set[str]] = {}
    order: list[str] = []
    for err in errors:
        field, index, depth = _split_loc(err["loc"], skip)
        if query and field.startswith(("query.", "path.")):
            field = field.split(".", 1)[1]
        etype = err["type"]
        generic = etype in _GENERIC
        rank = (len(index or ()) + depth, 0 if generic else 1)
        if etype in ("union_tag_invalid", "union_tag_not_found"):
            if index:  # e.g. losses[1].name
                field, index = f"{field}[{']['.join(map(str, index))}]", None
            field = f"{field}.name" if field != "body" else "name"
            err = _untrainable(field, err)
        if index is None:
            top_types.setdefault(field, set()).add(etype)
        detail = ErrorDetail(field=field, index=index, reason=_reason(err))
        if field not in best:
            order.append(field)
            best[field] = (rank, detail)
        elif rank > best[field][0]:
            best[field] = (rank, detail)
    details = []
    for field in order:
        detail = best[field][1]
        types = top_types.get(field, set())
        if {"list_type", "float_type"} <= types and types & {"model_type", "model_attributes_type"}:
            # none of the array encodings matched the value itself
            detail = ErrorDetail(field=field, reason=_ARRAY_REASON)
        elif types and types <= _GENERIC and any(f.startswith(field + ".") for f in order):
            continue  # a sub-field (e.g. prediction.shape) says more: the value was an object
        details.append(detail)
    return details


_GENERIC = {"list_type", "model_type", "model_attributes_type", "dict_type", "float_type"}
_ARRAY_REASON = (
    "must be a nested list of numbers, a number, or a tensor object {shape, dtype, data|b64}"
)


def from_validation_error(exc: ValidationError) -> ApiError:
    """A pydantic error while parsing a body: 400 for malformed JSON, else 422."""
    # inputs are only inspected (NaN vs Infinity), never echoed into the response
    errors = exc.errors(include_input=True, include_url=False, include_context=True)
    if any(e["type"] == "json_invalid" for e in errors):
        e = next(e for e in errors if e["type"] == "json_invalid")
        detail = ErrorDetail(field="body", reason=_reason(e))
        return ApiError(400, "malformed_json", "the request body is not valid JSON", [detail])
    details = validation_details(errors)
    if any(e["type"] == "union_tag_invalid" for e in errors):
        return ApiError(422, "unknown_name", _message(details), details)
    return ApiError(422, "invalid_input", _message(details), details)


def from_losscore_error(exc: LosscoreError) -> ApiError:
    """A library error: the field, index and reason as the library reported them."""
    detail = ErrorDetail(
        field=exc.field, index=None if exc.index is None else list(exc.index), reason=exc.reason
    )
    code = "unknown_name" if isinstance(exc, UnknownNameError) else "invalid_input"
    return ApiError(422, code, exc.describe(), [detail])


# -- responses ------------------------------------------------------------------------------------


def store_unavailable(exc: BaseException) -> ApiError:
    """503: the model store cannot be read or written (read-only, full, unreachable)."""
    log.warning("model store unavailable: %s", type(exc).__name__ + ": " + str(exc).split("\n")[0])
    return ApiError(
        503,
        "store_unavailable",
        "the model store cannot be used right now (see the server log); retry later",
        headers={"Retry-After": "5"},
    )


def error_body(err: ApiError) -> dict[str, Any]:
    """*err* in the common shape (:class:`ErrorResponse`)."""
    return {
        "error": {
            "status": err.status,
            "code": err.code,
            "message": err.message,
            "details": [d.model_dump() for d in err.details],
        }
    }


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> Response:
    """Serialise *err* in the common shape."""
    return Response(
        orjson.dumps(error_body(err)),
        status_code=err.status,
        media_type="application/json",
        headers=headers,
    )


def _answer(request: Request, err: ApiError, headers: dict[str, str] | None = None) -> Response:
    """*err* in the shape of the request's API: the common one, or under ``/v2`` the Open
    Inference Protocol's ``{"error": message}`` with 400 for invalid input (422 elsewhere)."""
    if not _is_protocol_path(request.url.path):
        return error_response(err, headers)
    status = 400 if err.status == 422 else err.status
    return Response(
        orjson.dumps({"error": err.message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the common shape."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _answer(request, exc, exc.headers)

    async def pydantic_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        return _answer(request, from_validation_error(exc))

    async def request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        raw = list(exc.errors())
        errors: list[ErrorDetails] = [
            {
                "type": e.get("type", "value_error"),
                "loc": tuple(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "input": None,
                "ctx": {k: str(v) for k, v in (e.get("ctx") or {}).items()},
            }
            for e in raw
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            detail = ErrorDetail(field="body", reason="malformed JSON")
            return _answer(request, ApiError(400, "malformed_json", "malformed JSON", [detail]))
        details = validation_details(errors, query=True)
        return _answer(request, ApiError(422, "invalid_input", _message(details), details))

    async def losscore_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LosscoreError)
        return _answer(request, from_losscore_error(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return _answer(request, ApiError(exc.status_code, code, str(exc.detail)), headers or None)

    async def store_error(request: Request, exc: Exception) -> Response:
        err = store_unavailable(exc)
        return _answer(request, err, err.headers)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # nobody reads this answer; 499 (nginx's "client closed request") is what metrics and
        # the request log count, apart from server errors
        log.info("client disconnected before its request was read: %s", request.url.path)
        return Response(status_code=499)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return _answer(request, ApiError(500, "internal_error", "internal server error"))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ValidationError, pydantic_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(LosscoreError, losscore_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(SQLAlchemyError, store_error)
    app.add_exception_handler(Exception, unexpected)
