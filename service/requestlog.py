"""Traceability: a request id on every response and log line, one log line per request, and
structured JSON logs when configured (``LOSSCORE_LOG_FORMAT=json``).

The id is the caller's ``X-Request-ID`` when it is a plausible id (1-128 characters of
letters, digits, ``.``, ``_``, ``-``), else a new random one; it is echoed in the response's
``X-Request-ID`` and attached to every log record written while the request is served
(:class:`RequestIdFilter`). The request line names the route template, status, duration, body
sizes, the API key's name (never the key) and the model id where one applies; a client that
went away before its answer is logged with status 499.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.settings import Settings

__all__ = [
    "REQUEST_ID",
    "JsonFormatter",
    "RequestIdFilter",
    "RequestLogMiddleware",
    "log_config",
]

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
log = logging.getLogger("service.request")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or ``-``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


JsonFormatter.converter = time.gmtime


def log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: every logger through one handler with the request-id filter,
    as text lines (``[request id] message``) or JSON objects."""
    if settings.log_format == "json":
        formatter: dict[str, Any] = {"()": JsonFormatter}
    else:
        formatter = {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["default"], "level": settings.log_level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "service")
        },
    }


class RequestLogMiddleware:
    """Pure ASGI: the request id (see the module docstring) and one log line per request."""

    def __init__(self, app: ASGIApp, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        sizes = {"in": 0, "out": 0, "status": 499}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                sizes["in"] += len(message.get("body", b""))
            return message

        async def tagging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sizes["status"] = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                sizes["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, tagging_send)
        finally:
            if self.log_requests:
                self._log(scope, sizes, time.perf_counter() - start)
            REQUEST_ID.reset(token)

    @staticmethod
    def _log(scope: Scope, sizes: dict[str, int], seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
        state = scope.get("state", {})
        fields = {
            "method": scope.get("method", ""),
            "route": route,
            "status": sizes["status"],
            "duration_ms": round(seconds * 1e3, 2),
            "bytes_in": sizes["in"],
            "bytes_out": sizes["out"],
            "key": state.get("principal", "anonymous"),
            "model_id": state.get("model_id") or scope.get("path_params", {}).get("model_id"),
            "client": (scope.get("client") or ("-",))[0],
        }
        text = (
            f"{fields['method']} {route} {fields['status']} {fields['duration_ms']} ms "
            f"in={fields['bytes_in']} out={fields['bytes_out']} key={fields['key']}"
            + (f" model={fields['model_id']}" if fields["model_id"] else "")
        )
        log.info(text, extra={"fields": fields})
