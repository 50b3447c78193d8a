"""uvicorn's httptools protocol with the limits uvicorn does not have (measured: a 100 MB
request header was accepted, and half-sent headers or bodies were held for good).

Per connection, before any application code runs (answers in the service's JSON error
shape, with codes ``too_many_connections``, ``request_timeout``, ``headers_too_large``,
``bad_request``):

* **connections**: beyond ``max_connections`` open connections a new one gets a 503 with
  ``Retry-After`` and is closed at once (file descriptors cannot run out);
* **headers**: the request line and headers must arrive within ``header_timeout_s`` of the
  connection (or of the request's first byte on a kept-alive one), else 408; more than
  ``max_header_bytes`` or ``max_headers`` is a 431; an HTTP/1.1 request without exactly one
  ``Host`` is a 400; the connection closes either way;
* **body**: no more than ``body_idle_timeout_s`` between two pieces of a body and at most
  ``body_timeout_s`` for the whole body (a trickle cannot hold a worker), else 408 if no
  response has started, and the connection closes; the application sees a disconnect.

Idle kept-alive connections are closed by uvicorn's own ``timeout_keep_alive``. When the
server shuts down, long jobs drain before its grace period ends (:mod:`service.drain`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.drain import begin_drain_after
from service.settings import Settings

__all__ = ["GuardedHttpToolsProtocol", "ServerLimits"]

log = logging.getLogger("service.protocol")


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int
    max_header_bytes: int
    max_headers: int
    header_timeout_s: float
    body_idle_timeout_s: float
    body_timeout_s: float
    shutdown_grace_s: float

    @classmethod
    def of(cls, settings: Settings) -> ServerLimits:
        return cls(
            settings.max_connections,
            settings.max_header_bytes,
            settings.max_headers,
            settings.header_timeout_s,
            settings.body_idle_timeout_s,
            settings.body_timeout_s,
            settings.shutdown_grace_s,
        )


@cache
def _limits() -> ServerLimits:
    return ServerLimits.of(Settings())


def _response(status: int, code: str, message: str, extra: bytes = b"") -> bytes:
    """A complete response in the service's error shape, closing the connection."""
    reason = HTTPStatus(status).phrase.encode()
    body = json.dumps(
        {"error": {"status": status, "code": code, "message": message, "details": []}}
    ).encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
        % (status, reason)
        + extra
        + b"content-length: %d\r\n\r\n" % len(body)
        + body
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` plus the limits of the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self._rejected = False
        self._header_bytes = 0
        self._header_count = 0
        self._hosts = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_deadline = 0.0

    # -- connection --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            log.warning(
                "connection refused: %d open (LOSSCORE_MAX_CONNECTIONS)", len(self.connections)
            )
            transport.write(
                _response(
                    503,
                    "too_many_connections",
                    "too many open connections (LOSSCORE_MAX_CONNECTIONS); retry in 1 s",
                    b"retry-after: 1\r\n",
                )
            )
            transport.close()
            self.transport = transport
            self._rejected = True
            return
        super().connection_made(transport)
        self._arm_header_timer()

    def shutdown(self) -> None:
        """The server is stopping (SIGTERM): long jobs drain before the grace runs out."""
        begin_drain_after(self.loop, self.limits.shutdown_grace_s)
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._rejected and self not in self.connections:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        super().data_received(data)

    def _reject(self, status: int, code: str, reason: str) -> None:
        """Answer *status* unless a response started, and close the connection."""
        self._rejected = True
        self._cancel_timers()
        log.warning("%s %d: %s", self.client or "-", status, reason)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the application's receive() sees a disconnect
            self.cycle.message_event.set()
            if self.cycle.response_started:
                self.transport.close()
                return
        if not self.transport.is_closing():
            self.transport.write(_response(status, code, reason))
            self.transport.close()

    # -- headers -------------------------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(
            self.limits.header_timeout_s, self._header_timeout
        )

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self._rejected and not self.transport.is_closing():
            self._reject(408, "request_timeout", "request headers not received in time")

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._header_count = 0
        self._hosts = 0
        super().on_message_begin()
        if self._header_timer is None:  # a kept-alive connection's next request
            self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        if self._rejected:
            return
        self._header_bytes += len(url)
        if self._header_bytes > self.limits.max_header_bytes:
            self._reject(431, "headers_too_large", "request line too long")
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._rejected:
            return
        self._header_bytes += len(name) + len(value)
        self._header_count += 1
        if name.lower() == b"host":
            self._hosts += 1
        if self._header_bytes > self.limits.max_header_bytes:
            self._reject(431, "headers_too_large", "request headers too large")
            return
        if self._header_count > self.limits.max_headers:
            self._reject(431, "headers_too_large", "too many request headers")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._rejected:
            return
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if self._hosts > 1 or (self._hosts == 0 and self.parser.get_http_version() == "1.1"):
            # RFC 9112 §3.2: exactly one Host header in HTTP/1.1, at most one before
            self._reject(400, "bad_request", "an HTTP/1.1 request needs exactly one Host header")
            return
        super().on_headers_complete()
        self._body_deadline = time.monotonic() + self.limits.body_timeout_s
        self._arm_body_timer()

    # -- body ------------------------------------------------------------------------------------

    def _arm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        wait = min(self.limits.body_idle_timeout_s, self._body_deadline - time.monotonic())
        self._body_timer = self.loop.call_later(max(wait, 0.0), self._body_timeout)

    def _body_timeout(self) -> None:
        self._body_timer = None
        if not self._rejected and not self.transport.is_closing():
            self._reject(408, "request_timeout", "request body not received in time")

    def on_body(self, body: bytes) -> None:
        if self._rejected:
            return
        super().on_body(body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        if self._rejected:
            return
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None
