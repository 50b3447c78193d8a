"""Limits that live in the server process, pinned against a real ``python -m service``:
header size and count (431), header and body arrival (408), idle keep-alive, open
connections (503), client disconnects (499, the fit cancelled, nothing stored) and SIGTERM
(in-flight work drains within the grace period, then is cancelled).

Each test starts its own server with small limits, talks raw HTTP/1.1 over sockets where a
well-behaved client library would not misbehave on purpose, and reads the server's log.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests._live import Served, served

pytestmark = pytest.mark.slow

LIMITS = {
    "LOSSCORE_WARM_UP": "false",
    "LOSSCORE_MAX_HEADER_BYTES": "8192",
    "LOSSCORE_MAX_HEADERS": "20",
    "LOSSCORE_HEADER_TIMEOUT_S": "1",
    "LOSSCORE_BODY_IDLE_TIMEOUT_S": "1",
    "LOSSCORE_BODY_TIMEOUT_S": "3",
    "LOSSCORE_KEEP_ALIVE_S": "1",
    "LOSSCORE_MAX_CONNECTIONS": "8",
    "LOSSCORE_TRAIN_MAX_JOBS": "1",
    "LOSSCORE_TRAIN_MAX_QUEUE": "0",
    "LOG_LEVEL": "info",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path, **LIMITS) as s:
        yield s


def _connect(s: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.settimeout(10)
    return sock


def _read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _read_one(sock: socket.socket) -> bytes:
    """One response with a content-length (the connection stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _healthy(s: Served) -> bool:
    return httpx.get(f"{s.base}/healthz", timeout=5).status_code == 200


# -- headers -------------------------------------------------------------------------------------


def test_oversized_and_too_many_headers_are_431(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert _status(_read_response(sock)) == 431
    with _connect(server) as sock:
        many = b"".join(b"x-h%d: v\r\n" % i for i in range(30))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + many + b"\r\n")
        assert _status(_read_response(sock)) == 431
    with _connect(server) as sock:  # a request line alone over the limit
        sock.sendall(b"GET /healthz?" + b"q" * 10_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n")
        assert _status(_read_response(sock)) == 431
    # a 100 MB header is refused after the first 8 KiB, not read: the server stays small
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-huge: ")
        sent = 0
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(b"a" * 1024 * 1024)
                sent += 1024 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 100 * 1024 * 1024  # the server closed the connection early
    assert _healthy(server)
    assert "431" in server.log()


def test_headers_that_never_finish_are_408_and_logged(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-half: ")
        t0 = time.monotonic()
        response = _read_response(sock)
        waited = time.monotonic() - t0
    assert _status(response) == 408
    assert waited < 8  # LOSSCORE_HEADER_TIMEOUT_S = 1, not held for good
    with _connect(server) as sock:  # a connection that sends nothing at all
        assert _status(_read_response(sock)) == 408
    assert "request headers not received in time" in server.log()


def test_an_idle_kept_alive_connection_is_closed(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        assert _status(_read_one(sock)) == 200
        t0 = time.monotonic()
        assert sock.recv(65536) == b""  # closed by the server after LOSSCORE_KEEP_ALIVE_S
        assert time.monotonic() - t0 < 8


# -- bodies --------------------------------------------------------------------------------------


def _post_head(path: str, length: int | None) -> bytes:
    size = b"content-length: %d\r\n" % length if length is not None else b""
    chunked = b"transfer-encoding: chunked\r\n" if length is None else b""
    return (
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + size
        + chunked
        + b"\r\n"
    )


def test_a_stalled_body_is_408(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head("/v1/evaluate", 1000) + b'{"loss": ')
        assert _status(_read_response(sock)) == 408


def test_a_trickled_body_is_408_at_the_body_deadline(server: Served) -> None:
    """One byte every 0.4 s never trips the idle timeout (1 s), but the whole body must
    arrive within LOSSCORE_BODY_TIMEOUT_S (3 s)."""
    with _connect(server) as sock:
        sock.sendall(_post_head("/v1/evaluate", 10_000))
        t0 = time.monotonic()
        sock.settimeout(0.4)
        response = b""
        while not response and time.monotonic() - t0 < 15:
            try:
                sock.sendall(b" ")
                response = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        waited = time.monotonic() - t0
    assert _status(response) == 408
    assert 2.5 < waited < 10


def test_a_chunked_body_that_never_ends_is_408(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head("/v1/evaluate", None) + b'5\r\n{"a":\r\n')
        assert _status(_read_response(sock)) == 408


def test_a_client_gone_mid_body_is_a_499_not_an_error(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head("/v1/evaluate", 100_000) + b'{"loss": {"name": "l2"}, ')
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    metrics = ""
    while time.monotonic() < deadline and 'status="499"' not in metrics:
        time.sleep(0.2)
        metrics = httpx.get(f"{server.base}/metrics", timeout=5).text
    evaluate = [line for line in metrics.splitlines() if 'route="/v1/evaluate"' in line]
    assert any('status="499"' in line for line in evaluate)
    assert not any('status="500"' in line for line in evaluate)
    assert "Traceback" not in server.log()


# -- connections ---------------------------------------------------------------------------------


def test_connections_beyond_the_limit_get_a_fast_503(server: Served) -> None:
    held = [_connect(server) for _ in range(8)]  # LOSSCORE_MAX_CONNECTIONS = 8
    try:
        time.sleep(0.2)
        with _connect(server) as extra:
            t0 = time.monotonic()
            response = _read_response(extra)
            assert time.monotonic() - t0 < 2
        assert _status(response) == 503
        assert b"retry-after: 1" in response.lower()
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if _healthy(server):
                break
        except httpx.TransportError:
            time.sleep(0.1)
    assert _healthy(server)
    assert "connection refused" in server.log()


# -- fits: disconnect and shutdown ---------------------------------------------------------------


def _long_fit_body(penalty: dict[str, Any] | None = None) -> bytes:
    """A hinge fit of 20,000 × 50 as base64: with l1 (the default here) a linear program of
    about 30 s; with l2 at alpha 1e-8, smoothing Newton with progress events, minutes."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 50))
    y = np.where(X @ rng.standard_normal(50) + 3 * rng.standard_normal(20_000) > 0, 1.0, -1.0)
    tensor: dict[str, Any] = {"shape": list(X.shape), "b64": base64.b64encode(X.tobytes()).decode()}
    return json.dumps(
        {
            "task": "classification",
            "loss": {"name": "hinge"},
            "penalty": penalty or {"name": "l1", "alpha": 1e-6},
            "tol": 1e-14,
            "X": tensor,
            "y": y.tolist(),
            "max_iter": 100_000,
        }
    ).encode()


SMALL_FIT = {
    "task": "classification",
    "loss": {"name": "log_loss"},
    "X": [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
    "y": [0, 1, 1, 0],
}


def _fits_admitted(s: Served) -> float:
    """The fit gate's running + queued count, from /metrics (parsed by prometheus_client)."""
    text = httpx.get(f"{s.base}/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return next(
        sample.value
        for sample in families["losscore_admission_admitted"].samples
        if sample.labels["gate"] == "fits"
    )


def _start_long_fit(s: Served) -> socket.socket:
    """Send the long fit and return once it holds the only fit slot."""
    body = _long_fit_body()
    sock = _connect(s)
    sock.sendall(_post_head("/v1/train", len(body)) + body)
    deadline = time.monotonic() + 20
    while _fits_admitted(s) < 1:
        if time.monotonic() > deadline:
            pytest.fail("the long fit never took the fit slot")
        time.sleep(0.05)  # the long body is still being parsed and validated
    r = httpx.post(f"{s.base}/v1/train", json=SMALL_FIT, timeout=30)
    assert r.status_code == 503  # LOSSCORE_TRAIN_MAX_QUEUE = 0: no waiting
    assert r.json()["error"]["code"] == "overloaded"
    assert int(r.headers["retry-after"]) >= 1
    return sock


def _models(base: str) -> list[Any]:
    data: list[Any] = httpx.get(f"{base}/v1/models", timeout=10).json()["models"]
    return data


def test_a_fit_whose_client_left_is_cancelled_and_stores_nothing(server: Served) -> None:
    sock = _start_long_fit(server)
    sock.close()  # the client gives up
    t0 = time.monotonic()
    while _fits_admitted(server) > 0 and time.monotonic() - t0 < 20:
        time.sleep(0.05)
    freed_after = time.monotonic() - t0
    assert freed_after < 5  # the fit alone takes about 30 s: it stopped, not finished
    r = httpx.post(f"{server.base}/v1/train", json=SMALL_FIT, timeout=30)
    assert r.status_code == 200
    assert [m["loss"]["name"] for m in _models(server.base)] == ["log_loss"]  # no orphan


def test_sigterm_drains_within_the_grace_period_then_cancels(tmp_path: Path) -> None:
    with served(tmp_path, **LIMITS, LOSSCORE_SHUTDOWN_GRACE_S="5") as s:
        sock = _start_long_fit(s)
        answer: list[bytes] = []
        reader = threading.Thread(target=lambda: answer.append(_read_response(sock)))
        reader.start()
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        code = s.proc.wait(timeout=30)
        stopped_after = time.monotonic() - t0
        reader.join(timeout=15)
        sock.close()
    # uvicorn re-raises the signal after its graceful shutdown (exit status -15); 0 is fine too
    assert code in (0, -signal.SIGTERM)
    # grace 5 s: the fit cancelled at 3 s (the drain margin, 2 s, before the end; alone it
    # takes ~30 s), answered within a HiGHS slice (1 s)
    assert stopped_after < 10
    assert _status(answer[0]) == 503
    body = json.loads(answer[0].partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "shutting_down"
    assert b"retry-after: 1" in answer[0].lower()
    log = s.log()
    assert "Finished server process" in log
    assert "ERROR" not in log and "Traceback" not in log
    with served(tmp_path, **LIMITS) as again:
        assert _models(again.base) == []  # the cut-off fit stored nothing


def test_sigterm_ends_a_progress_stream_with_an_error_event(tmp_path: Path) -> None:
    with served(tmp_path, **LIMITS, LOSSCORE_SHUTDOWN_GRACE_S="5") as s:
        body = _long_fit_body({"name": "l2", "alpha": 1e-8})
        sock = _connect(s)
        sock.sendall(_post_head("/v1/train/stream", len(body)) + body)
        received = b""
        while b"event: progress" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        s.proc.send_signal(signal.SIGTERM)
        received += _read_response(sock)
        sock.close()
        code = s.proc.wait(timeout=30)
    assert code in (0, -signal.SIGTERM)
    events = [e for e in received.split(b"\r\n\r\n", 1)[1].split(b"\n\n") if b"event:" in e]
    last = events[-1]
    assert last.startswith(b"event: error") or b"\nevent: error" in last
    assert json.loads(last.split(b"data: ", 1)[1])["error"]["code"] == "shutting_down"
    assert "ERROR" not in s.log() and "Traceback" not in s.log()
    with served(tmp_path, **LIMITS) as again:
        assert _models(again.base) == []


# -- admission before the body ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "settings"),
    [
        ("/v1/evaluate", {"LOSSCORE_MAX_CPU_JOBS": "1", "LOSSCORE_MAX_CPU_QUEUE": "0"}),
        ("/v1/train", {"LOSSCORE_TRAIN_MAX_JOBS": "1", "LOSSCORE_TRAIN_MAX_QUEUE": "0"}),
    ],
)
def test_beyond_capacity_the_503_comes_before_the_upload(
    tmp_path: Path, path: str, settings: dict[str, str]
) -> None:
    """A request takes its place in the gate before its body is read: while one upload
    holds the only place, the next request is refused on its headers alone (its 1 MB body is
    never sent), so a refusal costs neither the upload nor the memory of its body."""
    env = {**LIMITS, "LOSSCORE_BODY_IDLE_TIMEOUT_S": "10", **settings}
    with served(tmp_path, **env) as s:
        holder = _connect(s)
        holder.sendall(_post_head(path, 1_000_000) + b'{"loss": ')  # then it stalls
        time.sleep(0.3)
        with _connect(s) as refused:
            refused.sendall(_post_head(path, 1_000_000))  # headers only
            response = _read_response(refused)
        holder.close()
    assert _status(response) == 503
    body = json.loads(response.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "overloaded"
    assert b"retry-after:" in response.lower()
