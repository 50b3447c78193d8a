"""SIGKILL the server during a burst of fits; after a restart every answered model is intact."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests._live import free_port, start_server


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return start_server(data_dir, port)


def _close(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdout:
        proc.stdout.close()


@pytest.mark.slow
def test_sigkill_during_fits_keeps_answered_models(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.where(X @ rng.normal(size=5) > 0, "yes", "no").tolist()
    probe = X[:7].tolist()
    answered: dict[str, dict] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def worker(seed: int) -> None:
        with httpx.Client(timeout=30) as c:
            i = 0
            while not stop.is_set():
                i += 1
                body = {
                    "task": "classification",
                    "loss": {"name": "log_loss"},
                    "penalty": {"name": "l2", "alpha": 10 ** -(1 + (seed + i) % 4)},
                    "X": X.tolist(),
                    "y": y,
                }
                try:
                    r = c.post(f"{base}/v1/train", json=body)
                    if r.status_code != 200:
                        continue
                    mid = r.json()["model_id"]
                    p = c.post(f"{base}/v1/models/{mid}/predict", json={"X": probe})
                    if p.status_code == 200:
                        with lock:
                            answered[mid] = {"fit": r.json(), "pred": p.json()}
                except httpx.TransportError:
                    return

    proc = _start(tmp_path, port)
    threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(answered) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        if proc.poll() is None:
            proc.kill()
        _close(proc)
    assert len(answered) >= 6

    proc = _start(tmp_path, port)
    try:
        with httpx.Client(timeout=30) as c:
            for mid, rec in answered.items():
                got = c.get(f"{base}/v1/models/{mid}")
                assert got.status_code == 200, mid
                assert got.json()["coef"] == rec["fit"]["coef"]
                assert got.json()["intercept"] == rec["fit"]["intercept"]
                p = c.post(f"{base}/v1/models/{mid}/predict", json={"X": probe}).json()
                assert p == rec["pred"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        _close(proc)
