"""Load test of the service (issue 10): a real server, sustained evaluates while fits run,
and overload at 4× the admission capacity.

Each scenario starts its own ``python -m service`` (uvicorn in that very process,
``WORKERS=1``, on a free port, a temporary ``LOSSCORE_DATA_DIR``, the service's default
``LOG_LEVEL=info`` with its one line per request going to a file, ``LOSSCORE_WARM_UP=false``:
none of the fits below uses the interior-point solver whose numba kernels the warm-up
compiles, so no compiler runs during the measurement), waits for ``/readyz``, runs, and
stops it with SIGTERM:

1. **Sustained** (server at the 2-core defaults, set explicitly: ``MAX_CPU_JOBS=2``,
   ``MAX_CPU_QUEUE=8``, ``TRAIN_MAX_JOBS=1``, ``TRAIN_MAX_QUEUE=8``). Clients POST
   ``/v1/evaluate`` with 1,000-element nested-list arrays (huber, 39 KB, under
   ``LOSSCORE_INLINE_MAX_BYTES``, so the service computes them on its event loop) while one
   more client keeps fits running, one after another (``POST /v1/train``, log_loss + l2 on
   4,000 × 20 nested lists, 1.6 MB). Closed loop: each client sends its next request when
   the answer arrives, so the rate is what the server gives. A sweep over the number of
   clients (``--levels``) finds the rate; the sustained run (``--duration``) uses the fewest
   clients within 5 % of the best throughput with zero errors (more clients only add
   queueing latency), then the same clients run once more without fits (``--ref``; the
   "with fits / without" ratio).
2. **Overload, CPU gate**: ``MAX_CPU_JOBS=2`` + ``MAX_CPU_QUEUE=8`` = capacity 10; 40
   clients (4×) POST nested-list evaluates big enough to go through the gate
   (``--overload-elements``, default 200,000 elements = 7.9 MB bodies, ~60 ms of work in a
   gate thread, then 20,000 = 0.8 MB, ~6 ms; a fresh server each), and each client sends
   again as soon as it has an answer (no back-off: the harshest reading of "4× capacity").
   Reported: the share of 503s, their latency (client-side, and the server's own from its
   ``/metrics``), that each carries ``Retry-After``, the latency of the admitted requests,
   RSS against the baseline (after one client alone) and per quarter of the run,
   ``/healthz``, and 500s / connection errors (both must be 0).
3. **Overload, fit gate**: ``TRAIN_MAX_JOBS=1`` + ``TRAIN_MAX_QUEUE=2`` = capacity 3; 12
   clients (4×) POST fits that take ~0.35 s alone (quantile(0.5) + l1, 2,000 × 20: an LP in
   HiGHS, from a small body, so the fit itself holds the gate; HiGHS runs in 1 s time
   slices with no Python callback, and the fit is cancellable between slices).

Throughout, a separate process probes ``GET /healthz`` every 20 ms on its own keep-alive
connection (its own interpreter, so the load generator's event loop does not delay the
probes), and the server's ``VmRSS``, ``VmHWM``, threads and open descriptors are sampled from
``/proc/<pid>`` every 0.2 s. Every phase reports the CPU of the server (``/proc/<pid>/stat``),
of the load generator and prober, and of every other process on the machine (``/proc/stat``),
so that a run disturbed by other jobs shows it; the server's own ``/metrics`` counts per
status cross-check the client's.

**Load generator: asyncio, not locust.** On a 2-core machine the client competes with the
server for the same CPUs, so its cost per request matters. This one is an asyncio
``Protocol`` on uvloop with httptools' response parser (both already installed with
``uvicorn[standard]``, no new dependency), a fixed number of keep-alive connections, and
request bytes encoded once and re-sent as they are: per request it costs a write and a
parse callback, some tens of µs (measured: 0.04–0.11 cores for the generator and the prober
together at 500–1,000 requests/s). locust (``FastHttpUser``, gevent) would add a dependency
and spend more CPU per request on the same two cores; its open-workload features (spawn
rates, think time, web UI) are not needed for a fixed-concurrency closed loop. Latency is
measured from the write of the request to the parsed end of the response, with
``time.monotonic()`` (one clock for both processes).

Usage (from the repository root; about 4 minutes, or 1 with ``--quick``)::

    .venv/bin/python bench/load.py                      # everything
    .venv/bin/python bench/load.py --quick              # ~30 s of load, a smoke test
    .venv/bin/python bench/load.py --skip-overload --clients 16 --duration 120
    .venv/bin/python bench/load.py --skip-sustained --overload-elements 200000 \\
        --overload-duration 120 --skip-fit-overload --json /tmp/load.json

``--clients N`` skips the sweep; ``--json PATH`` also writes every figure (with the RSS
series, one sample a second).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import httptools
import numpy as np
import orjson
import uvloop

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
HEALTHZ_PERIOD_S = 0.020
HEALTHZ_TARGET_MS = 50.0
SAMPLE_PERIOD_S = 0.2
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

ROUTES = {"evaluate": "/v1/evaluate", "fit": "/v1/train"}
SUSTAINED_ENV = {
    "LOSSCORE_MAX_CPU_JOBS": "2",
    "LOSSCORE_MAX_CPU_QUEUE": "8",
    "LOSSCORE_TRAIN_MAX_JOBS": "1",
    "LOSSCORE_TRAIN_MAX_QUEUE": "8",
}
OVERLOAD_ENV = {
    "LOSSCORE_MAX_CPU_JOBS": "2",
    "LOSSCORE_MAX_CPU_QUEUE": "8",
    "LOSSCORE_TRAIN_MAX_JOBS": "1",
    "LOSSCORE_TRAIN_MAX_QUEUE": "2",
}


# -- request bodies ------------------------------------------------------------------------------


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


def evaluate_body(n: int, seed: int) -> bytes:
    """A huber evaluate of *n* standard-normal predictions and targets, as nested lists."""
    rng = np.random.default_rng(seed)
    return _dumps(
        {
            "loss": {"name": "huber", "delta": 1.0},
            "prediction": rng.standard_normal(n),
            "target": rng.standard_normal(n),
            "reduction": "mean",
        }
    )


def fit_body(n: int, d: int, *, quantile: bool, seed: int) -> bytes:
    """A training request as nested lists: log_loss + l2 on binary labels, or (``quantile``)
    quantile(0.5) + l1 regression (an LP: a long fit from a small body)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    score = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    if quantile:
        body: dict[str, Any] = {
            "task": "regression",
            "loss": {"name": "quantile", "q": 0.5},
            "penalty": {"name": "l1", "alpha": 1e-4},
            "y": score,
        }
    else:
        body = {
            "task": "classification",
            "loss": {"name": "log_loss"},
            "penalty": {"name": "l2", "alpha": 1e-4},
            "y": (score > 0).astype(np.int64),
        }
    body["X"] = X
    return _dumps(body)


def post(port: int, path: str, body: bytes) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 POST with a JSON body (built once, re-sent)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


# -- HTTP client -------------------------------------------------------------------------------


@dataclass(slots=True)
class Reply:
    status: int
    latency: float  # seconds, from the write of the request to the end of the response
    body: bytes  # kept for non-200 answers (and when asked for)
    retry_after: bytes | None
    close: bool  # the server said ``connection: close``


class HttpConn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, httptools parsing."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiter: asyncio.Future[Reply] | None = None
        self._start = 0.0
        self._keep_all = False
        self._keep = False
        self._parts: list[bytes] = []
        self._retry_after: bytes | None = None
        self._close = False

    @classmethod
    async def open(cls, port: int) -> HttpConn:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, HOST, port)
        return conn

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError(f"connection lost: {exc or 'closed by the server'}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._parts = []
        self._retry_after = None
        self._close = False

    def on_header(self, name: bytes, value: bytes) -> None:
        lname = name.lower()
        if lname == b"retry-after":
            self._retry_after = value
        elif lname == b"connection" and value.lower() == b"close":
            self._close = True

    def on_headers_complete(self) -> None:
        self._keep = self._keep_all or self.parser.get_status_code() != 200

    def on_body(self, body: bytes) -> None:
        if self._keep:
            self._parts.append(body)

    def on_message_complete(self) -> None:
        end = time.monotonic()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            body = b"".join(self._parts)
            waiter.set_result(
                Reply(status, end - self._start, body, self._retry_after, self._close)
            )

    # use
    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def request(self, data: bytes, *, keep_body: bool = False) -> asyncio.Future[Reply]:
        assert self._waiter is None, "one request at a time"
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if self.closed or self.transport is None:
            waiter.set_exception(ConnectionError("connection already closed"))
            return waiter
        self._waiter = waiter
        self._keep_all = keep_body
        self._start = time.monotonic()
        self.transport.write(data)
        return waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


async def fetch(port: int, data: bytes) -> Reply:
    conn = await HttpConn.open(port)
    try:
        return await conn.request(data, keep_body=True)
    finally:
        conn.close()


# -- recording -----------------------------------------------------------------------------------

GATE_RE = re.compile(rb"at capacity \((\w+):")


@dataclass
class Recorder:
    """Every answer of one kind of request in one phase."""

    name: str
    window: tuple[float, float] = (0.0, float("inf"))
    starts: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    no_retry_after: int = 0  # 503s without Retry-After
    refused_by: Counter[str] = field(default_factory=Counter)  # 503 reason: cpu, fits, …
    other: Counter[str] = field(default_factory=Counter)  # non-200, non-503: status + code
    conn_errors: Counter[str] = field(default_factory=Counter)
    checked: bool = False

    def add(self, start: float, reply: Reply) -> None:
        if not self.window[0] <= start < self.window[1]:
            return
        self.starts.append(start)
        self.latencies.append(reply.latency)
        self.statuses.append(reply.status)
        if reply.status == 503:
            if reply.retry_after is None:
                self.no_retry_after += 1
            m = GATE_RE.search(reply.body)
            self.refused_by[
                m.group(1).decode() if m else reply.body[:40].decode("utf-8", "replace")
            ] += 1
        elif reply.status != 200:
            self.other[f"{reply.status} {reply.body[:120].decode('utf-8', 'replace')}"] += 1

    def error(self, start: float, exc: BaseException) -> None:
        if self.window[0] <= start < self.window[1]:
            self.conn_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1

    def _lat(self, status: int | None) -> np.ndarray[Any, np.dtype[np.float64]]:
        lat = np.asarray(self.latencies, dtype=np.float64)
        if status is None:
            return lat
        selected: np.ndarray[Any, np.dtype[np.float64]] = lat[np.asarray(self.statuses) == status]
        return selected

    def count(self, status: int) -> int:
        return sum(1 for s in self.statuses if s == status)

    def pct_ms(self, q: float, status: int | None = 200) -> float:
        lat = self._lat(status)
        return float(np.percentile(lat, q)) * 1e3 if lat.size else float("nan")

    def max_ms(self, status: int | None = 200) -> float:
        lat = self._lat(status)
        return float(lat.max()) * 1e3 if lat.size else float("nan")

    @property
    def errors(self) -> int:
        """Answers other than 200 and 503, plus connection errors."""
        return sum(self.other.values()) + sum(self.conn_errors.values())


async def client_loop(
    port: int,
    data: bytes,
    rec: Recorder,
    stop_at: float,
    check: Callable[[bytes], None] | None = None,
) -> None:
    """Send *data* over one keep-alive connection, again and again, until *stop_at*."""
    conn: HttpConn | None = None
    while time.monotonic() < stop_at:
        start = time.monotonic()
        try:
            if conn is None or conn.closed:
                conn = await HttpConn.open(port)
            keep = check is not None and not rec.checked
            reply = await conn.request(data, keep_body=keep)
        except (OSError, ConnectionError) as exc:
            rec.error(start, exc)
            if conn is not None:
                conn.close()
            conn = None
            await asyncio.sleep(0.01)
            continue
        if check is not None and not rec.checked and reply.status == 200:
            check(reply.body)
            rec.checked = True
        rec.add(start, reply)
        if reply.close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


# -- server, sampler, prober ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sample:
    t: float
    rss_kb: int
    hwm_kb: int
    threads: int
    fds: int


def proc_status(pid: int) -> Sample:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return Sample(
        time.monotonic(),
        int(fields["VmRSS"].split()[0]),
        int(fields["VmHWM"].split()[0]),
        int(fields["Threads"]),
        len(os.listdir(f"/proc/{pid}/fd")),
    )


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def machine_busy_s() -> float:
    """CPU seconds all processes of the machine have used (``/proc/stat``, not idle/iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def prober(port: int, period: float, pipe: Connection) -> None:
    """GET /healthz every *period* s on one keep-alive connection until told to stop; send
    back (start times, latencies, statuses, own CPU s). Runs in its own process."""
    starts: list[float] = []
    lats: list[float] = []
    statuses: list[int] = []
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    due = time.monotonic()
    while not pipe.poll():
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        t0 = time.monotonic()
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
        t1 = time.monotonic()
        starts.append(t0)
        lats.append(t1 - t0)
        statuses.append(status)
        due = max(due + period, t1)
    conn.close()
    pipe.send((starts, lats, statuses, time.process_time()))


class Server:
    """``python -m service`` on a free port with a temporary data directory."""

    def __init__(self, env_extra: dict[str, str], log_level: str, workdir: Path) -> None:
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
        self.log_path = workdir / f"server-{self.port}.log"
        self.env_extra = env_extra
        env = {
            **os.environ,
            "HOST": HOST,
            "PORT": str(self.port),
            "WORKERS": "1",
            "LOG_LEVEL": log_level,
            "LOSSCORE_DATA_DIR": str(self.data_dir),
            "LOSSCORE_WARM_UP": "false",
            **env_extra,
        }
        for key in ("LOSSCORE_DATABASE_URL", "LOSSCORE_API_KEYS"):
            env.pop(key, None)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.samples: list[Sample] = []
        self._sampler: asyncio.Task[None] | None = None
        self._probe_pipe: Connection | None = None
        self._probe_proc: Any = None
        self.healthz: tuple[list[float], list[float], list[int]] = ([], [], [])
        self.prober_cpu_s = 0.0
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return proc_cpu_s(self.pid)

    def client_cpu(self) -> float:
        """CPU seconds of this process (the load generator) and of the /healthz prober."""
        prober = 0.0
        if self._probe_proc is not None and self._probe_proc.pid is not None:
            with contextlib.suppress(OSError):
                prober = proc_cpu_s(self._probe_proc.pid)
        return own_cpu_s() + prober

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds until ``/readyz`` answered 200."""
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return time.monotonic() - t0
                conn.close()
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                self.proc.kill()
                raise RuntimeError("server not ready in time")
            time.sleep(0.05)

    async def start_watch(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._probe_pipe = parent
        self._probe_proc = ctx.Process(
            target=prober, args=(self.port, HEALTHZ_PERIOD_S, child), daemon=True
        )
        self._probe_proc.start()
        self._sampler = asyncio.create_task(self._sample())
        await asyncio.sleep(1.0)  # the prober's interpreter starts

    async def _sample(self) -> None:
        while True:
            try:
                self.samples.append(proc_status(self.pid))
            except (FileNotFoundError, ProcessLookupError):
                return
            await asyncio.sleep(SAMPLE_PERIOD_S)

    async def stop_watch(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        if self._probe_pipe is not None:
            self._probe_pipe.send("stop")
            starts, lats, statuses, cpu = await asyncio.to_thread(self._probe_pipe.recv)
            self.healthz = (starts, lats, statuses)
            self.prober_cpu_s = cpu
            self._probe_proc.join(5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.exit_code = self.proc.returncode
        self._log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def log_problems(self) -> list[str]:
        """Log lines at ERROR / CRITICAL or with a traceback."""
        return [
            line
            for line in self.log().splitlines()
            if " ERROR " in line or " CRITICAL " in line or "Traceback" in line
        ]

    def healthz_in(self, window: tuple[float, float]) -> tuple[np.ndarray[Any, Any], int, int]:
        """/healthz latencies (s) of probes started in *window*, failures, count."""
        starts, lats, statuses = self.healthz
        sel = [i for i, t in enumerate(starts) if window[0] <= t < window[1]]
        ok = np.asarray([lats[i] for i in sel if statuses[i] == 200], dtype=np.float64)
        failed = sum(1 for i in sel if statuses[i] != 200)
        return ok, failed, len(sel)

    def samples_in(self, window: tuple[float, float]) -> list[Sample]:
        return [s for s in self.samples if window[0] <= s.t < window[1]]


async def server_counts(port: int) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], float]]:
    """The server's own request counter and latency sums (``/metrics``) by (route, status)."""
    reply = await fetch(port, get(port, "/metrics"))
    counts: Counter[tuple[str, str]] = Counter()
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    total = re.compile(r'^losscore_http_requests_total\{route="([^"]*)",.*status="(\d+)"\} (\d+)')
    summed = re.compile(
        r'^losscore_http_request_duration_seconds_sum\{route="([^"]*)",.*status="(\d+)"\} (\S+)'
    )
    for line in reply.body.decode().splitlines():
        if m := total.match(line):
            counts[(m.group(1), m.group(2))] += int(m.group(3))
        elif m := summed.match(line):
            seconds[(m.group(1), m.group(2))] += float(m.group(3))
    return counts, seconds


# -- phases --------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured phase: its window, recorders and the server's resources meanwhile."""

    name: str
    window: tuple[float, float]
    recs: dict[str, Recorder]
    server_cpu_s: float
    client_cpu_s: float  # the load generator and the /healthz prober
    machine_cpu_s: float  # every process
    seconds: float
    server_counts: Counter[tuple[str, str]]
    server_seconds: dict[tuple[str, str], float]

    def server_mean_ms(self, route: str, status: int) -> float:
        """Mean latency the server itself measured (from the ASGI call to the last byte)."""
        n = self.server_counts.get((route, str(status)), 0)
        return self.server_seconds.get((route, str(status)), 0.0) / n * 1e3 if n else float("nan")


async def run_phase(
    name: str,
    server: Server,
    jobs: Sequence[tuple[str, int, bytes, Callable[[bytes], None] | None]],
    seconds: float,
    warm: float = 0.0,
) -> Phase:
    """Run, for ``warm + seconds``, ``clients`` closed-loop clients per job
    ``(label, clients, request bytes, check)``; record what starts after *warm*."""
    count0, seconds0 = await server_counts(server.port)
    t0 = time.monotonic()
    window = (t0 + warm, t0 + warm + seconds)
    recs = {label: Recorder(label, window) for label, _, _, _ in jobs}
    tasks: list[Awaitable[None]] = []
    for label, clients, data, check in jobs:
        tasks += [
            client_loop(server.port, data, recs[label], window[1], check) for _ in range(clients)
        ]
    gathered = asyncio.gather(*tasks)
    if warm:
        await asyncio.sleep(warm)
    cpu_server0, cpu_client0, cpu_all0 = server.cpu(), server.client_cpu(), machine_busy_s()
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    cpu_server1, cpu_client1, cpu_all1 = server.cpu(), server.client_cpu(), machine_busy_s()
    await gathered  # the requests in flight at the end finish (and are not counted)
    count1, seconds1 = await server_counts(server.port)
    count1.subtract(count0)
    spent = {k: v - seconds0.get(k, 0.0) for k, v in seconds1.items()}
    return Phase(
        name,
        window,
        recs,
        cpu_server1 - cpu_server0,
        cpu_client1 - cpu_client0,
        cpu_all1 - cpu_all0,
        seconds,
        +count1,
        spent,
    )


# -- report --------------------------------------------------------------------------------------


def ms(x: float) -> str:
    if x != x:  # NaN
        return "–"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def mib(kb: float) -> str:
    return f"{kb / 1024:.0f} MiB"


def healthz_stats(server: Server, window: tuple[float, float]) -> dict[str, float]:
    ok, failed, n = server.healthz_in(window)
    if not ok.size:
        return {"n": n, "failed": failed, "p50": float("nan"), "p99": float("nan")}
    return {
        "n": n,
        "failed": failed,
        "p50": float(np.percentile(ok, 50)) * 1e3,
        "p99": float(np.percentile(ok, 99)) * 1e3,
        "max": float(ok.max()) * 1e3,
        "over_50ms": int((ok > HEALTHZ_TARGET_MS / 1e3).sum()),
    }


def rss_stats(server: Server, window: tuple[float, float]) -> dict[str, Any]:
    samples = server.samples_in(window)
    if not samples:
        return {}
    span = window[1] - window[0]
    quarters = [
        max((s.rss_kb for s in samples if q <= (s.t - window[0]) * 4 / span < q + 1), default=0)
        for q in range(4)
    ]
    return {
        "start_kb": samples[0].rss_kb,
        "max_kb": max(s.rss_kb for s in samples),
        "end_kb": samples[-1].rss_kb,
        "max_per_quarter_kb": quarters,
        "hwm_kb": samples[-1].hwm_kb,
        "threads_max": max(s.threads for s in samples),
        "fds_max": max(s.fds for s in samples),
        "series_mib": [  # one sample a second: (seconds into the phase, RSS MiB)
            (round(s.t - window[0], 1), round(s.rss_kb / 1024))
            for s in samples[:: max(1, round(1 / SAMPLE_PERIOD_S))]
        ],
    }


def quarters(rss: dict[str, Any]) -> str:
    return ", ".join(f"{kb / 1024:.0f}" for kb in rss.get("max_per_quarter_kb", []))


def other_cores(phase: Phase) -> float:
    """Cores used by processes other than the server, the load generator and the prober."""
    other = phase.machine_cpu_s - phase.server_cpu_s - phase.client_cpu_s
    return max(other, 0.0) / phase.seconds


def cpu_line(phase: Phase) -> str:
    return (
        f"server {phase.server_cpu_s / phase.seconds:.2f} cores, load generator + prober "
        f"{phase.client_cpu_s / phase.seconds:.2f}, other processes "
        f"{other_cores(phase):.2f} (of {os.cpu_count()})"
    )


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024**2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = []
    for pkg in ("fastapi", "uvicorn", "starlette", "pydantic", "numpy", "uvloop", "httptools"):
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{pkg} {version(pkg)}")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "versions": ", ".join(versions),
        "load": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# -- scenarios -----------------------------------------------------------------------------------


def check_evaluate(expected: float) -> Callable[[bytes], None]:
    def check(body: bytes) -> None:
        value = orjson.loads(body)["value"]
        if abs(value - expected) > 1e-12 * max(1.0, abs(expected)):
            raise SystemExit(f"evaluate answered value {value}, expected {expected}")

    return check


def check_fit(body: bytes) -> None:
    model = orjson.loads(body)
    if not model.get("model_id"):
        raise SystemExit(f"train answered without a model id: {body[:200]!r}")


def require_ok(rec: Recorder) -> None:
    """Stop when a calibration run got no 200 (a wrong body, not a load effect)."""
    if not rec.count(200):
        raise SystemExit(f"{rec.name}: no 200 answer: {dict(rec.other)} {dict(rec.conn_errors)}")


def huber_mean(body: bytes) -> float:
    req = orjson.loads(body)
    r = np.asarray(req["prediction"]) - np.asarray(req["target"])
    a = np.abs(r)
    return float(np.mean(np.where(a <= 1.0, 0.5 * r * r, a - 0.5)))


async def sustained(args: argparse.Namespace, workdir: Path, out: dict[str, Any]) -> None:
    server = Server(SUSTAINED_ENV, args.log_level, workdir)
    try:
        ready = server.wait_ready()
        print(f"\nserver pid {server.pid} ready in {ready:.1f} s; env {SUSTAINED_ENV}")
        await server.start_watch()
        port = server.port
        body = evaluate_body(1000, seed=1)
        ev = post(port, "/v1/evaluate", body)
        check = check_evaluate(huber_mean(body))
        fit = post(port, "/v1/train", fit_body(4000, 20, quantile=False, seed=2))
        print(
            f"evaluate body {len(body):,} bytes (1,000 elements, nested lists); "
            f"fit body {len(fit):,} bytes (log_loss + l2, 4,000 × 20)"
        )
        await run_phase(
            "warm-up", server, [("evaluate", 4, ev, check), ("fit", 1, fit, check_fit)], 2.0
        )
        fits_alone = await run_phase("fits alone", server, [("fit", 1, fit, None)], args.alone)
        evals_alone = await run_phase("evaluates alone", server, [("evaluate", 1, ev, None)], 2.0)
        require_ok(fits_alone.recs["fit"])

        sweep: list[tuple[int, Phase]] = []
        if args.clients:
            chosen = args.clients
        else:
            print(
                f"\nsweep, {args.step:g} s per step (+{args.warm:g} s warm), fits running: "
                "clients | evaluate/s | p50 ms | p99 ms | errors | fits | "
                "server / other processes' cores"
            )
            for c in args.levels:
                ph = await run_phase(
                    f"sweep {c}",
                    server,
                    [("evaluate", c, ev, check), ("fit", 1, fit, check_fit)],
                    args.step,
                    args.warm,
                )
                r = ph.recs["evaluate"]
                print(
                    f"  {c:3d} | {r.count(200) / ph.seconds:7.0f} | {ms(r.pct_ms(50))} | "
                    f"{ms(r.pct_ms(99))} | {r.errors + r.count(503)} | {ph.recs['fit'].count(200)} | "
                    f"{ph.server_cpu_s / ph.seconds:.2f} / {other_cores(ph):.2f}"
                )
                sweep.append((c, ph))
            ok = [
                (c, ph.recs["evaluate"].count(200) / ph.seconds)
                for c, ph in sweep
                if ph.recs["evaluate"].errors + ph.recs["evaluate"].count(503) == 0
            ]
            if not ok:  # errors at every level: report them at the best rate anyway
                print("  every level had errors (non-200 or connection)")
                ok = [(c, ph.recs["evaluate"].count(200) / ph.seconds) for c, ph in sweep]
            best = max(rate for _, rate in ok)
            chosen = min(c for c, rate in ok if rate >= 0.95 * best)
            print(f"  best {best:.0f}/s; sustained run with {chosen} clients (≥ 95 % of best)")

        print(f"\nsustained: {chosen} evaluate clients + 1 fit client for {args.duration:g} s …")
        main = await run_phase(
            "sustained",
            server,
            [("evaluate", chosen, ev, check), ("fit", 1, fit, check_fit)],
            args.duration,
            args.warm,
        )
        print(f"reference: the same {chosen} clients without fits for {args.ref:g} s …")
        ref = await run_phase(
            "no fits", server, [("evaluate", chosen, ev, check)], args.ref, args.warm
        )
        await server.stop_watch()
    finally:
        server.stop()

    r, f, rr = main.recs["evaluate"], main.recs["fit"], ref.recs["evaluate"]
    hz, hz_ref = healthz_stats(server, main.window), healthz_stats(server, ref.window)
    rss = rss_stats(server, main.window)
    rate, rate_ref = r.count(200) / main.seconds, rr.count(200) / ref.seconds
    counted = main.server_counts
    fa, ea = fits_alone.recs["fit"], evals_alone.recs["evaluate"]
    hz_fa = healthz_stats(server, fits_alone.window)
    print(
        f"\nalone (no other load): fit p50 {ms(fa.pct_ms(50))} ms ({fa.count(200)} in "
        f"{fits_alone.seconds:g} s), /healthz meanwhile p50 / p99 / max {ms(hz_fa['p50'])} / "
        f"{ms(hz_fa['p99'])} / {ms(hz_fa.get('max', float('nan')))} ms; one evaluate client "
        f"p50 {ms(ea.pct_ms(50))} ms ({ea.count(200) / evals_alone.seconds:.0f}/s)"
    )
    if sweep:
        print(
            f"\n### Sweep: 1,000-element evaluates while fits run ({args.step:g} s per step)\n\n"
            "| clients | evaluate/s | p50 ms | p99 ms | errors | fits done | /healthz p99 ms "
            "| server cores |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        )
        for c, ph in sweep:
            e = ph.recs["evaluate"]
            print(
                f"| {c} | {e.count(200) / ph.seconds:.0f} | {ms(e.pct_ms(50))} | "
                f"{ms(e.pct_ms(99))} | {e.errors + e.count(503)} | {ph.recs['fit'].count(200)} | "
                f"{ms(healthz_stats(server, ph.window)['p99'])} | "
                f"{ph.server_cpu_s / ph.seconds:.2f} |"
            )
    print(
        f"\n### Sustained: 1,000-element evaluates while fits run ({chosen} clients, "
        f"{main.seconds:g} s)\n"
    )
    print("| measure | value |\n| --- | ---: |")
    rows = [
        ("evaluate throughput (200s per s)", f"{rate:.0f}"),
        ("evaluate latency p50 / p95 / p99 / max (ms)",
         f"{ms(r.pct_ms(50))} / {ms(r.pct_ms(95))} / {ms(r.pct_ms(99))} / {ms(r.max_ms())}"),
        ("evaluate answers: 200 / errors (non-200 or connection)",
         f"{r.count(200):,} / {r.errors + r.count(503)}"),
        ("fits completed (200) / errors", f"{f.count(200)} / {f.errors + f.count(503)}"),
        ("fit latency p50 / p99 (ms)", f"{ms(f.pct_ms(50))} / {ms(f.pct_ms(99))}"),
        (f"/healthz every {HEALTHZ_PERIOD_S * 1e3:.0f} ms: probes / failed",
         f"{hz['n']} / {hz['failed']}"),
        ("/healthz p50 / p99 / max (ms)",
         f"{ms(hz['p50'])} / {ms(hz['p99'])} / {ms(hz.get('max', float('nan')))}"),
        ("server RSS max per quarter of the run (MiB)", quarters(rss)),
        ("server RSS start → max → end",
         f"{mib(rss.get('start_kb', 0))} → {mib(rss.get('max_kb', 0))} → {mib(rss.get('end_kb', 0))}"),
        ("server threads max / open fds max", f"{rss.get('threads_max')} / {rss.get('fds_max')}"),
        ("CPU", cpu_line(main)),
        ("without fits: throughput, p50 / p99 (ms)",
         f"{rate_ref:.0f}/s, {ms(rr.pct_ms(50))} / {ms(rr.pct_ms(99))}"),
        ("without fits: /healthz p99 (ms)", ms(hz_ref["p99"])),
        ("ratio throughput with fits / without", f"{rate / rate_ref:.2f}" if rate_ref else "–"),
        ("server's /metrics, evaluate 200 (cross-check)",
         f"{counted.get(('/v1/evaluate', '200'), 0):,}"),
    ]  # fmt: skip
    for name, value in rows:
        print(f"| {name} | {value} |")
    if r.conn_errors or r.other or f.other or f.conn_errors:
        print("errors:", dict(r.other), dict(r.conn_errors), dict(f.other), dict(f.conn_errors))
    print()
    end = server_end(server)
    out["sustained"] = {
        "clients": chosen,
        "seconds": main.seconds,
        "sweep": [
            {
                "clients": c,
                "rate": ph.recs["evaluate"].count(200) / ph.seconds,
                "p50_ms": ph.recs["evaluate"].pct_ms(50),
                "p99_ms": ph.recs["evaluate"].pct_ms(99),
                "errors": ph.recs["evaluate"].errors + ph.recs["evaluate"].count(503),
                "fits": ph.recs["fit"].count(200),
                "healthz_p99_ms": healthz_stats(server, ph.window)["p99"],
                "server_cores": ph.server_cpu_s / ph.seconds,
                "other_cores": other_cores(ph),
            }
            for c, ph in sweep
        ],
        "rate": rate,
        "p50_ms": r.pct_ms(50),
        "p95_ms": r.pct_ms(95),
        "p99_ms": r.pct_ms(99),
        "errors": r.errors + r.count(503),
        "fits": f.count(200),
        "fit_errors": f.errors + f.count(503),
        "healthz": hz,
        "rss": rss,
        "server_cores": main.server_cpu_s / main.seconds,
        "client_cores": main.client_cpu_s / main.seconds,
        "other_cores": (main.machine_cpu_s - main.server_cpu_s - main.client_cpu_s) / main.seconds,
        "rate_no_fits": rate_ref,
        "fit_alone_p50_ms": fa.pct_ms(50),
        "fit_alone_healthz": hz_fa,
        "evaluate_alone_p50_ms": ea.pct_ms(50),
        "p99_no_fits_ms": rr.pct_ms(99),
        **end,
    }


def overload_report(
    title: str,
    phase: Phase,
    rec: Recorder,
    server: Server,
    baseline_kb: int,
    capacity: int,
    clients: int,
) -> dict[str, Any]:
    hz = healthz_stats(server, phase.window)
    rss = rss_stats(server, phase.window)
    total = len(rec.statuses) + sum(rec.conn_errors.values())
    n503, n200 = rec.count(503), rec.count(200)
    n500 = sum(1 for s in rec.statuses if s >= 500 and s != 503)
    route = ROUTES[rec.name]
    print(
        f"\n### {title}: {clients} clients against a capacity of {capacity} ({phase.seconds:g} s)\n"
    )
    print("| measure | value | target |\n| --- | ---: | --- |")
    rows = [
        ("answers (all) per s", f"{total / phase.seconds:.0f}", ""),
        ("200 / 503 / other / connection errors",
         f"{n200:,} / {n503:,} / {sum(rec.other.values())} / {sum(rec.conn_errors.values())}",
         "other = 0, connection errors = 0"),
        ("share of 503", f"{n503 / total:.1%}" if total else "–", ""),
        ("503 refused by (gate)", ", ".join(f"{k}: {v:,}" for k, v in rec.refused_by.items()), ""),
        ("503 without Retry-After", f"{rec.no_retry_after}", "0"),
        ("503 latency p50 / p99 / max (ms)",
         f"{ms(rec.pct_ms(50, 503))} / {ms(rec.pct_ms(99, 503))} / {ms(rec.max_ms(503))}", "fast"),
        ("200 latency p50 / p99 (ms)", f"{ms(rec.pct_ms(50))} / {ms(rec.pct_ms(99))}", ""),
        ("admitted (200) per s", f"{n200 / phase.seconds:.1f}", ""),
        ("ratio 503 p99 / 200 p50", f"{rec.pct_ms(99, 503) / rec.pct_ms(50):.2f}"
         if n200 and n503 else "–", "< 1"),
        ("server-side mean latency 503 / 200 (ms, its /metrics)",
         f"{ms(phase.server_mean_ms(route, 503))} / {ms(phase.server_mean_ms(route, 200))}", ""),
        ("500s", f"{n500}", "0"),
        ("/healthz probes / failed", f"{hz['n']} / {hz['failed']}", "failed = 0"),
        ("/healthz p50 / p99 / max (ms)",
         f"{ms(hz['p50'])} / {ms(hz['p99'])} / {ms(hz.get('max', float('nan')))}",
         f"p99 < {HEALTHZ_TARGET_MS:.0f}"),
        ("/healthz probes over 50 ms", f"{hz.get('over_50ms', '–')}", ""),
        ("server RSS baseline → max → end",
         f"{mib(baseline_kb)} → {mib(rss.get('max_kb', 0))} → {mib(rss.get('end_kb', 0))}",
         "bounded"),
        ("server RSS max per quarter of the run (MiB)", quarters(rss), "flat"),
        ("ratio peak RSS / baseline", f"{rss.get('max_kb', 0) / baseline_kb:.2f}", ""),
        ("server threads max / open fds max", f"{rss.get('threads_max')} / {rss.get('fds_max')}", ""),
        ("CPU", cpu_line(phase), ""),
        ("server's /metrics by status (cross-check)",
         ", ".join(f"{s}: {v:,}" for (route, s), v in sorted(phase.server_counts.items())
                   if route.startswith("/v1/")), ""),
    ]  # fmt: skip
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    if rec.other or rec.conn_errors:
        print("non-200/503 answers:", dict(rec.other))
        print("connection errors:", dict(rec.conn_errors))
    return {
        "clients": clients,
        "capacity": capacity,
        "seconds": phase.seconds,
        "answers": total,
        "n200": n200,
        "n503": n503,
        "other": dict(rec.other),
        "conn_errors": dict(rec.conn_errors),
        "refused_by": dict(rec.refused_by),
        "no_retry_after": rec.no_retry_after,
        "p50_503_ms": rec.pct_ms(50, 503),
        "p99_503_ms": rec.pct_ms(99, 503),
        "max_503_ms": rec.max_ms(503),
        "p50_200_ms": rec.pct_ms(50),
        "p99_200_ms": rec.pct_ms(99),
        "healthz": hz,
        "rss": rss,
        "baseline_kb": baseline_kb,
        "server_cores": phase.server_cpu_s / phase.seconds,
        "client_cores": phase.client_cpu_s / phase.seconds,
        "other_cores": (phase.machine_cpu_s - phase.server_cpu_s - phase.client_cpu_s)
        / phase.seconds,
        "server_counts": {f"{k[0]} {k[1]}": v for k, v in phase.server_counts.items()},
        "server_mean_503_ms": phase.server_mean_ms(route, 503),
        "server_mean_200_ms": phase.server_mean_ms(route, 200),
    }


async def overload_cpu(
    args: argparse.Namespace, workdir: Path, elements: int, out: dict[str, Any]
) -> None:
    """40 clients of *elements*-element evaluates against the CPU gate (capacity 10)."""
    env = {**OVERLOAD_ENV}
    capacity = int(env["LOSSCORE_MAX_CPU_JOBS"]) + int(env["LOSSCORE_MAX_CPU_QUEUE"])
    clients = 4 * capacity
    server = Server(env, args.log_level, workdir)
    try:
        ready = server.wait_ready()
        print(f"\nserver pid {server.pid} ready in {ready:.1f} s; env {env}")
        await server.start_watch()
        port = server.port
        body = evaluate_body(elements, seed=3)
        ev = post(port, "/v1/evaluate", body)
        print(f"evaluate body {len(body):,} bytes ({elements:,} elements, nested lists)")
        idle_kb = proc_status(server.pid).rss_kb
        single = await run_phase(
            "one client",
            server,
            [("evaluate", 1, ev, check_evaluate(huber_mean(body)))],
            args.alone,
        )
        one = single.recs["evaluate"]
        require_ok(one)
        baseline_kb = proc_status(server.pid).rss_kb
        print(
            f"idle RSS {mib(idle_kb)}; one client alone: p50 {ms(one.pct_ms(50))} ms "
            f"({one.count(200) / single.seconds:.1f}/s); RSS after it (baseline) {mib(baseline_kb)}"
        )
        print(f"overload: {clients} clients for {args.overload_duration:g} s …")
        ph = await run_phase(
            "overload", server, [("evaluate", clients, ev, None)], args.overload_duration
        )
        after = await run_phase("after", server, [("evaluate", 1, ev, None)], args.alone)
        await server.stop_watch()
    finally:
        server.stop()
    res = overload_report(
        f"Overload, CPU gate ({elements:,}-element evaluates)",
        ph,
        ph.recs["evaluate"],
        server,
        baseline_kb,
        capacity,
        clients,
    )
    a = after.recs["evaluate"]
    hz_one = healthz_stats(server, single.window)
    print(
        f"\none client alone before the overload: p50 {ms(one.pct_ms(50))} ms, /healthz p99 "
        f"{ms(hz_one['p99'])} ms; right after it: p50 {ms(a.pct_ms(50))} ms, "
        f"errors {a.errors + a.count(503)}"
    )
    res |= {
        "elements": elements,
        "body_bytes": len(body),
        "idle_kb": idle_kb,
        "single_p50_ms": one.pct_ms(50),
        "single_rate": one.count(200) / single.seconds,
        "single_healthz": hz_one,
        "after_p50_ms": a.pct_ms(50),
        "after_errors": a.errors + a.count(503),
    }
    res |= server_end(server)
    out.setdefault("overload_cpu", []).append(res)


async def overload_fits(args: argparse.Namespace, workdir: Path, out: dict[str, Any]) -> None:
    """12 clients of quantile + l1 fits against the fit gate (capacity 3)."""
    env = {**OVERLOAD_ENV}
    capacity = int(env["LOSSCORE_TRAIN_MAX_JOBS"]) + int(env["LOSSCORE_TRAIN_MAX_QUEUE"])
    clients = 4 * capacity
    server = Server(env, args.log_level, workdir)
    try:
        ready = server.wait_ready()
        print(f"\nserver pid {server.pid} ready in {ready:.1f} s; env {env}")
        await server.start_watch()
        port = server.port
        fit = post(port, "/v1/train", fit_body(2000, 20, quantile=True, seed=4))
        print(f"fit body {len(fit):,} bytes (quantile(0.5) + l1, 2,000 × 20, nested lists)")
        single = await run_phase(
            "one fit client", server, [("fit", 1, fit, check_fit)], args.alone + 1
        )
        one = single.recs["fit"]
        require_ok(one)
        baseline_kb = proc_status(server.pid).rss_kb
        print(f"one fit client alone: fit p50 {ms(one.pct_ms(50))} ms; RSS {mib(baseline_kb)}")
        print(f"fits overload: {clients} fit clients for {args.fit_overload_duration:g} s …")
        ph = await run_phase(
            "overload fits", server, [("fit", clients, fit, None)], args.fit_overload_duration
        )
        await server.stop_watch()
    finally:
        server.stop()
    hz_one = healthz_stats(server, single.window)
    print(
        f"\none fit client alone: /healthz meanwhile p50 / p99 / max {ms(hz_one['p50'])} / "
        f"{ms(hz_one['p99'])} / {ms(hz_one.get('max', float('nan')))} ms"
    )
    res = overload_report(
        "Overload, fit gate (quantile(0.5) + l1 fits, 2,000 × 20)",
        ph,
        ph.recs["fit"],
        server,
        baseline_kb,
        capacity,
        clients,
    )
    res |= {"single_fit_p50_ms": one.pct_ms(50), "single_healthz": hz_one}
    res |= server_end(server)
    out["overload_fits"] = res


def server_end(server: Server) -> dict[str, Any]:
    """How the server ended: exit code, graceful shutdown, error lines in its log."""
    problems = server.log_problems()
    clean = "Application shutdown complete" in server.log()
    print(
        f"server exit code {server.exit_code} (-15: uvicorn re-raises SIGTERM after a graceful "
        f"shutdown), shutdown complete: {clean}; log lines with ERROR/Traceback: {len(problems)}"
    )
    for line in problems[:10]:
        print("  ", line[:200])
    return {"exit_code": server.exit_code, "clean_shutdown": clean, "log_problems": problems}


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    info = machine_info()
    print(
        f"# bench/load.py, {info['date']}\n{info['cpu']}, {info['cores']} cores, "
        f"{info['memory']}, Python {info['python']}\n{info['versions']}\n"
        f"load average at start: {info['load']}\n"
        f"command: {' '.join([Path(sys.executable).name, *sys.argv])}"
    )
    out: dict[str, Any] = {"machine": info, "argv": sys.argv}
    workdir = Path(tempfile.mkdtemp(prefix="losscore-load-"))
    try:
        if not args.skip_sustained:
            await sustained(args, workdir, out)
        if not args.skip_overload:
            for elements in args.overload_elements:
                await overload_cpu(args, workdir, elements, out)
            if not args.skip_fit_overload:
                await overload_fits(args, workdir, out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out["load_end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {out['load_end']}")
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=60.0, help="sustained phase, s")
    p.add_argument("--clients", type=int, default=0, help="evaluate clients (0: sweep)")
    p.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    p.add_argument("--step", type=float, default=4.0, help="seconds per sweep step")
    p.add_argument("--warm", type=float, default=1.0, help="unmeasured seconds per phase")
    p.add_argument("--ref", type=float, default=10.0, help="no-fit reference run, s")
    p.add_argument("--alone", type=float, default=3.0, help="one-client calibration runs, s")
    p.add_argument("--overload-duration", type=float, default=30.0)
    p.add_argument("--fit-overload-duration", type=float, default=20.0)
    p.add_argument(
        "--overload-elements",
        type=int,
        nargs="*",
        default=[200_000, 20_000],
        help="evaluate sizes for the CPU-gate overload, one fresh server each (none: skip it)",
    )
    p.add_argument("--log-level", default="info", help="the server's LOG_LEVEL (default: info)")
    p.add_argument("--skip-sustained", action="store_true")
    p.add_argument("--skip-overload", action="store_true")
    p.add_argument("--skip-fit-overload", action="store_true")
    p.add_argument("--quick", action="store_true", help="a ~30 s smoke run")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    if args.quick:
        args.levels = [4, 16]
        args.step, args.warm, args.duration, args.ref, args.alone = 1.5, 0.5, 5.0, 2.0, 1.5
        args.overload_duration, args.fit_overload_duration = 5.0, 4.0
        args.overload_elements = [200_000]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    out = uvloop.run(amain(args))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
