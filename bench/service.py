"""Service benchmark: HTTP overhead of the losscore service, measured in one run.

Starts one uvicorn process serving the real app (``service.app.create_app``) plus a
bare FastAPI endpoint ``POST /bare`` that takes the same JSON body through FastAPI's
default body parsing (a pydantic model of ``list[float]`` fields) and does nothing
with it. Then it prints

1. requests/s of ``POST /v1/evaluate`` with 1,000-element arrays (nested lists) relative
   to ``POST /bare`` with the same body (goal >= 0.8);
2. end-to-end milliseconds for 10**6 float64 elements per encoding, relative to the
   in-process ``losscore.evaluate`` time on the same arrays (goals: binary <= 3x,
   b64 <= 5x). The client (:class:`RawHTTP`, a plain keep-alive socket) sends
   pre-encoded bytes with ``sendall`` and reads the whole response with ``recv_into``
   a preallocated buffer; ``--client http.client`` uses the standard library instead.
   The in-process time is measured with glibc's default malloc and with the tuning the
   server applies (``service.memory``); ratios use the faster of the two.
   Two transport rows bound what HTTP can reach: an ``/echo`` endpoint in the same
   server (reads the body, sends it back) and a plain-socket echo in another process
   (blocking sockets, ``recv_into`` + ``sendall``, no HTTP: the loopback floor for
   moving the same bytes in and out from Python).

Usage: ``.venv/bin/python bench/service.py [--seconds 3] [--rounds 5] [--n 1000000]``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import io
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import losscore  # noqa: E402

LOSS = {"name": "huber", "delta": 1.0}


class BareBody(BaseModel):
    """The same body as /v1/evaluate, parsed the default FastAPI way."""

    loss: dict[str, Any]
    prediction: list[float]
    target: list[float]


# -- server ------------------------------------------------------------------------------------


def serve(port: int) -> None:
    """Run the app plus the bare endpoint (in the child process)."""
    import uvicorn

    from service.app import create_app

    app = create_app()

    @app.post("/bare")
    async def bare(body: BareBody) -> dict[str, int]:
        return {"n": len(body.prediction)}

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        """Transport floor: read the body, send the same number of bytes back."""
        return Response(await request.body(), media_type="application/octet-stream")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_socket_echo(port: int) -> None:
    """Plain-socket echo (in the child process): 8-byte length, payload; payload back."""
    srv = socket.create_server(("127.0.0.1", port))
    buf = bytearray(64 << 20)
    view = memoryview(buf)
    while True:
        conn, _ = srv.accept()
        with conn:
            while True:
                head = conn.recv(8, socket.MSG_WAITALL)
                if len(head) < 8:
                    break
                n = int.from_bytes(head, "big")
                got = 0
                while got < n:
                    k = conn.recv_into(view[got:n])
                    if not k:
                        return
                    got += k
                conn.sendall(view[:n])


class RawHTTP:
    """Keep-alive HTTP/1.1 client over a plain socket, for large bodies.

    The request body is sent with ``sendall`` as it is; the response body is read with
    ``recv_into`` a preallocated buffer, sized by ``Content-Length`` (no chunked
    responses). ``http.client`` allocates a fresh ``bytes`` per response instead.
    """

    def __init__(self, port: int, size: int = 128 << 20) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray(size)
        self.view = memoryview(self.buf)

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, memoryview]:
        lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.sock.sendall(body)
        got = 0
        while (end := self.buf.find(b"\r\n\r\n", 0, got)) < 0:
            k = self.sock.recv_into(self.view[got:], 65536)
            if not k:
                raise ConnectionError("server closed the connection")
            got += k
        head = bytes(self.view[:end]).decode("latin-1").split("\r\n")
        fields = dict(line.split(":", 1) for line in head[1:])
        length = int({k.lower(): v for k, v in fields.items()}["content-length"])
        total = end + 4 + length
        while got < total:
            k = self.sock.recv_into(self.view[got:total])
            if not k:
                raise ConnectionError("server closed the connection")
            got += k
        return int(head[0].split()[1]), self.view[end + 4 : total]

    def socket_echo(self, body: bytes) -> None:
        """One round trip through :func:`serve_socket_echo`."""
        self.sock.sendall(len(body).to_bytes(8, "big"))
        self.sock.sendall(body)
        got = 0
        while got < len(body):
            k = self.sock.recv_into(self.view[got : len(body)])
            if not k:
                raise ConnectionError("echo server closed the connection")
            got += k

    def close(self) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


# -- client ------------------------------------------------------------------------------------


def throughput(base: str, path: str, body: bytes, seconds: float, threads: int) -> float:
    """Requests/s over *seconds* with *threads* keep-alive ``http.client`` connections."""
    port = int(base.rsplit(":", 1)[1])
    stop = time.perf_counter() + seconds
    counts = [0] * threads
    errors: list[str] = []
    headers = {"content-type": "application/json"}

    def work(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.perf_counter() < stop:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status} {data[:200]!r}")
                    return
                counts[i] += 1
        finally:
            conn.close()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    return sum(counts) / (time.perf_counter() - t0)


def best_ms(func: Callable[[], Any], rounds: int) -> float:
    func()  # warm-up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def b64(arr: np.ndarray) -> dict[str, Any]:
    return {
        "shape": list(arr.shape),
        "dtype": "float64",
        "b64": base64.b64encode(arr.tobytes()).decode(),
    }


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--socket-echo", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--client",
        choices=("raw", "http.client"),
        default="raw",
        help="client for the large requests (default: raw socket)",
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads for throughput")
    parser.add_argument("--pairs", type=int, default=3, help="service/bare throughput pairs")
    parser.add_argument("--rounds", type=int, default=5, help="best-of rounds for large requests")
    parser.add_argument("--n", type=int, default=1_000_000, help="elements for large requests")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.socket_echo:
        serve_socket_echo(args.socket_echo)
        return

    print(f"# service benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    proc, base = start_server()
    try:
        rng = np.random.default_rng(0)
        small = {
            "loss": LOSS,
            "prediction": rng.normal(size=1000).tolist(),
            "target": rng.normal(size=1000).tolist(),
        }
        body = json.dumps(small).encode()
        service_rps, bare_rps = [], []
        for _ in range(args.pairs):  # alternate so background load hits both alike
            service_rps.append(throughput(base, "/v1/evaluate", body, args.seconds, args.threads))
            bare_rps.append(throughput(base, "/bare", body, args.seconds, args.threads))
        s, b = max(service_rps), max(bare_rps)
        ratios = sorted(x / y for x, y in zip(service_rps, bare_rps, strict=True))
        print("\n## 1,000-element evaluate (nested lists), requests/s")
        print(f"service /v1/evaluate : {s:8.0f} req/s")
        print(f"bare FastAPI /bare   : {b:8.0f} req/s")
        print(f"ratio service / bare : {s / b:8.2f}   (goal >= 0.8; best of each)")
        print(f"ratio per pair       : {', '.join(f'{r:.2f}' for r in ratios)}")

        n = args.n
        x = rng.normal(size=n)
        y = rng.normal(size=n)

        def core_call() -> None:
            losscore.evaluate("huber", x, y, delta=1.0)

        core_default = best_ms(core_call, args.rounds)
        from service.memory import tune_malloc  # the server process runs with it (default)

        tune_malloc()
        core_tuned = best_ms(core_call, args.rounds)
        core = min(core_default, core_tuned)
        cases: dict[str, tuple[str, dict[str, Any]]] = {}
        req = {"loss": LOSS}
        cases["json list"] = (
            "/v1/evaluate",
            {
                "content": json.dumps(
                    {**req, "prediction": x.tolist(), "target": y.tolist()}
                ).encode(),
                "headers": {"content-type": "application/json"},
            },
        )
        cases["json data"] = (
            "/v1/evaluate",
            {
                "content": json.dumps(
                    {
                        **req,
                        "prediction": {"shape": [n], "data": x.tolist()},
                        "target": {"shape": [n], "data": y.tolist()},
                    }
                ).encode(),
                "headers": {"content-type": "application/json"},
            },
        )
        cases["json b64"] = (
            "/v1/evaluate",
            {
                "content": json.dumps({**req, "prediction": b64(x), "target": b64(y)}).encode(),
                "headers": {"content-type": "application/json"},
            },
        )
        cases["binary octet-stream"] = (
            "/v1/evaluate/binary",
            {
                "content": x.tobytes() + y.tobytes(),
                "headers": {
                    "content-type": "application/octet-stream",
                    "x-losscore-request": json.dumps(req),
                    "accept": "application/octet-stream",
                },
            },
        )
        cases["echo endpoint (same bytes)"] = (
            "/echo",
            {
                "content": x.tobytes() + y.tobytes(),
                "headers": {"content-type": "application/octet-stream"},
            },
        )
        cases["binary .npy multipart"] = (
            "/v1/evaluate/binary",
            {
                "files": {"prediction": ("p.npy", npy(x)), "target": ("t.npy", npy(y))},
                "data": {"request": json.dumps(req)},
                "headers": {"accept": "application/octet-stream"},
            },
        )
        print(
            f"\n## {n:,} float64 elements, huber value + elementwise + gradient, best of {args.rounds}"
        )
        print(
            f"in-process losscore.evaluate : {core_default:8.1f} ms (default malloc), "
            f"{core_tuned:.1f} ms (tuned malloc); ratios below use the faster, {core:.1f} ms"
        )
        # Requests are encoded once (httpx builds the multipart body), then sent over one
        # keep-alive connection: by default a plain socket (sendall, recv_into a
        # preallocated buffer); httpx's pure-Python h11 would add ~20 ms per 16 MB.
        prepared: dict[str, tuple[str, dict[str, str], bytes]] = {}
        for name, (path, kwargs) in cases.items():
            request = httpx.Request("POST", base + path, **kwargs)
            body = request.read()
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            prepared[name] = (path, headers, body)
        port = int(base.rsplit(":", 1)[1])
        floor_name = "plain-socket echo (no HTTP)"
        echo_port = free_port()
        echo_proc = subprocess.Popen(
            [sys.executable, __file__, "--socket-echo", str(echo_port)], cwd=ROOT
        )
        echo_body = prepared["echo endpoint (same bytes)"][2]
        raw = RawHTTP(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        deadline = time.monotonic() + 30
        while True:
            try:
                floor_client = RawHTTP(echo_port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

        def call(name: str) -> None:
            if name == floor_name:
                floor_client.socket_echo(echo_body)
                return
            path, headers, body = prepared[name]
            if args.client == "raw":
                status, data = raw.post(path, headers, body)
            else:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                status, data = response.status, memoryview(response.read())
            if status != 200:
                raise SystemExit(f"{name}: {status} {bytes(data[:300])!r}")

        names = [*cases, floor_name]
        best: dict[str, float] = {}
        try:
            for name in names:  # warm-up
                call(name)
            # round-robin, so background load hits every case alike; best of the rounds
            for _ in range(args.rounds):
                for name in names:
                    t0 = time.perf_counter()
                    call(name)
                    ms = (time.perf_counter() - t0) * 1e3
                    best[name] = min(best.get(name, ms), ms)
        finally:
            raw.close()
            conn.close()
            floor_client.close()
            echo_proc.terminate()
            echo_proc.wait(timeout=10)
        prepared[floor_name] = ("", {}, echo_body)
        print(f"client: {args.client}; load average now {os.getloadavg()[0]:.2f}")
        for name, (_, _, body) in prepared.items():
            print(
                f"{name:<28} : {best[name]:8.1f} ms  {best[name] / core:6.2f}x in-process"
                f"  ({len(body) / 1e6:.0f} MB request)"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
