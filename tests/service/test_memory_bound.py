"""Memory per request, measured on a real server: no request raises the server's peak RSS by
more than ``MULTIPLE`` × its body size + ``CONSTANT_MIB`` (the bound the README states).

Each case runs on a fresh server (``python -m service``, default limits): a small request of
the same kind first (modules imported, pools started), then the peak RSS is reset
(``/proc/PID/clear_refs``) and the largest request of that kind the default limits allow is
sent; its cost is the peak (``VmHWM``) minus the RSS before it. A fresh server per case
keeps memory that an earlier request left to the allocator from hiding a request's cost.
Run with ``-s`` to see the figures (bench/RESULTS.md records them).
"""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests._live import Served, served

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

MULTIPLE = 8.0
CONSTANT_MIB = 64.0
MiB = 1024 * 1024


def _status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"{key} not in /proc/{pid}/status")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    kwargs: dict[str, Any]

    @property
    def body_bytes(self) -> int:
        if "content" in self.kwargs:
            return len(self.kwargs["content"])
        return sum(len(part[1]) for part in self.kwargs["files"].values())

    def send(self, base: str) -> httpx.Response:
        return httpx.request(self.method, base + self.path, timeout=300, **self.kwargs)


def _json(path: str, body: dict[str, Any]) -> Request:
    headers = {"content-type": "application/json"}
    return Request("POST", path, {"content": json.dumps(body).encode(), "headers": headers})


def _b64(a: np.ndarray) -> dict[str, Any]:
    return {"shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def _npy(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, a)
    return buffer.getvalue()


LOSS = {"name": "huber"}


def evaluate_lists(n: int) -> Request:
    p, t = np.random.default_rng(0).standard_normal((2, n))
    return _json("/v1/evaluate", {"loss": LOSS, "prediction": p.tolist(), "target": t.tolist(), "hessian": True})  # fmt: skip


def evaluate_base64(n: int) -> Request:
    p, t = np.random.default_rng(0).standard_normal((2, n))
    body = {"loss": LOSS, "prediction": _b64(p), "target": _b64(t), "hessian": True}
    return _json("/v1/evaluate", {**body, "encoding": "b64"})


def evaluate_octets(n: int) -> Request:
    p, t = np.random.default_rng(0).standard_normal((2, n))
    header = json.dumps({"loss": LOSS, "hessian": True})
    headers = {"content-type": "application/octet-stream", "x-losscore-request": header}
    return Request(
        "POST", "/v1/evaluate/binary", {"content": p.tobytes() + t.tobytes(), "headers": headers}
    )


def evaluate_npy(n: int) -> Request:
    p, t = np.random.default_rng(0).standard_normal((2, n))
    files = {
        "request": ("request.json", json.dumps({"loss": LOSS, "hessian": True}).encode()),
        "prediction": ("p.npy", _npy(p)),
        "target": ("t.npy", _npy(t)),
    }
    return Request("POST", "/v1/evaluate/npy", {"files": files})


def _regression(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


TRAIN = {"task": "regression", "loss": {"name": "huber"}}


def train_lists(n: int) -> Request:
    X, y = _regression(n, 20)
    return _json("/v1/train", {**TRAIN, "X": X.tolist(), "y": y.tolist()})


def train_npy(n: int) -> Request:
    X, y = _regression(n, 20)
    files = {
        "request": ("request.json", json.dumps(TRAIN).encode()),
        "X": ("X.npy", _npy(X)),
        "y": ("y.npy", _npy(y)),
    }
    return Request("POST", "/v1/train/upload", {"files": files})


def nuclear(n: int) -> Request:
    x = np.random.default_rng(0).standard_normal((n, n))
    return _json("/v1/norms/evaluate", {"norm": {"name": "nuclear"}, "x": _b64(x), "step": 1.0})


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[int], Request]
    small: int
    large: int  # about the largest the default limits allow (64 MiB, 2,000,000 per array)


CASES = [
    Case("evaluate, JSON lists", evaluate_lists, 1000, 1_600_000),  # 64 MiB of JSON
    Case("evaluate, base64", evaluate_base64, 1000, 2_000_000),
    Case("evaluate, octet-stream", evaluate_octets, 1000, 2_000_000),
    Case("evaluate, .npy parts", evaluate_npy, 1000, 2_000_000),
    Case("train, JSON lists", train_lists, 100, 100_000),
    Case("train, .npy upload", train_npy, 100, 100_000),
    Case("norm prox, nuclear", nuclear, 10, 580),  # 580³ ≈ LOSSCORE_MAX_NORM_COST
]


def _cost(server: Served, case: Case) -> tuple[float, float, float]:
    """(body MiB, baseline RSS MiB, peak − baseline MiB) of the large request."""
    pid = server.proc.pid
    assert case.make(case.small).send(server.base).status_code == 200
    big = case.make(case.large)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak restarts from the current RSS
    base = _status_mib(pid, "VmRSS:")
    r = big.send(server.base)
    assert r.status_code == 200, r.text[:300]
    return big.body_bytes / MiB, base, _status_mib(pid, "VmHWM:") - base


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_request_costs_at_most_a_multiple_of_its_body(tmp_path: Path, case: Case) -> None:
    with served(tmp_path, LOSSCORE_WARM_UP="false") as server:
        body, base, cost = _cost(server, case)
    print(
        f"\n{case.name}: body {body:.1f} MiB, RSS before {base:.0f} MiB, "
        f"peak +{cost:.1f} MiB = {cost / body:.2f} × body"
    )
    assert cost <= MULTIPLE * body + CONSTANT_MIB
