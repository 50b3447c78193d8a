"""Prometheus metrics, hand-rolled (text exposition format 0.0.4).

An ASGI middleware records, per route template, method and status: a request
counter, a latency histogram, and request/response body-size histograms.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8)

Labels = tuple[str, str, str]  # route, method, status


class _Histogram:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self.counts: dict[Labels, list[int]] = defaultdict(lambda: [0] * (len(self.buckets) + 1))
        self.sums: dict[Labels, float] = defaultdict(float)

    def observe(self, labels: Labels, value: float) -> None:
        self.counts[labels][bisect_left(self.buckets, value)] += 1
        self.sums[labels] += value

    def render(self, name: str, help_text: str) -> list[str]:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        for labels in sorted(self.counts):
            base = _labels(labels)
            cumulative = 0
            for bound, count in zip(
                (*self.buckets, float("inf")), self.counts[labels], strict=True
            ):
                cumulative += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f'{name}_bucket{{{base},le="{le}"}} {cumulative}')
            lines.append(f"{name}_sum{{{base}}} {self.sums[labels]!r}")
            lines.append(f"{name}_count{{{base}}} {cumulative}")
        return lines


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    route, method, status = labels
    return f'route="{_escape(route)}",method="{method}",status="{status}"'


class Metrics:
    """Thread-safe store of the request metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[Labels, int] = defaultdict(int)
        self.latency = _Histogram(LATENCY_BUCKETS)
        self.request_bytes = _Histogram(SIZE_BUCKETS)
        self.response_bytes = _Histogram(SIZE_BUCKETS)
        self.in_flight = 0

    def record(self, labels: Labels, seconds: float, received: int, sent: int) -> None:
        with self._lock:
            self.requests[labels] += 1
            self.latency.observe(labels, seconds)
            self.request_bytes.observe(labels, float(received))
            self.response_bytes.observe(labels, float(sent))

    def render(self) -> str:
        """The exposition text."""
        with self._lock:
            lines = [
                "# HELP losscore_http_requests_total HTTP requests by route, method and status.",
                "# TYPE losscore_http_requests_total counter",
            ]
            for labels in sorted(self.requests):
                lines.append(
                    f"losscore_http_requests_total{{{_labels(labels)}}} {self.requests[labels]}"
                )
            lines += self.latency.render(
                "losscore_http_request_duration_seconds", "Request latency in seconds."
            )
            lines += self.request_bytes.render(
                "losscore_http_request_size_bytes", "Request body size in bytes."
            )
            lines += self.response_bytes.render(
                "losscore_http_response_size_bytes", "Response body size in bytes."
            )
            lines += [
                "# HELP losscore_http_requests_in_flight Requests being served.",
                "# TYPE losscore_http_requests_in_flight gauge",
                f"losscore_http_requests_in_flight {self.in_flight}",
            ]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Pure ASGI middleware feeding :class:`Metrics` (no buffering of bodies)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        received = 0
        sent = 0
        status = 500

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal sent, status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        with self.metrics._lock:
            self.metrics.in_flight += 1
        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            with self.metrics._lock:
                self.metrics.in_flight -= 1
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.record(
                (template, scope.get("method", ""), str(status)),
                time.perf_counter() - start,
                received,
                sent,
            )
