"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client


def test_healthz_and_readyz(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["losses"] >= 17


def test_metrics_prometheus_text(client: Client) -> None:
    client.post("/v1/evaluate", json={"loss": {"name": "l1"}, "prediction": [1], "target": [0]})
    client.post("/v1/evaluate", content=b"{")
    client.get("/v1/losses/huber")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE losscore_http_requests_total counter" in text
    assert 'losscore_http_requests_total{route="/v1/evaluate",method="POST",status="200"}' in text
    assert 'losscore_http_requests_total{route="/v1/evaluate",method="POST",status="400"}' in text
    assert 'route="/v1/losses/{name}"' in text  # route templates, not raw paths
    assert "/v1/losses/huber" not in text
    assert 'losscore_http_request_duration_seconds_bucket{route="/v1/evaluate"' in text
    assert "losscore_http_request_size_bytes_sum" in text
    assert "losscore_http_response_size_bytes_count" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}  # the oracle parser
    assert families["losscore_http_requests"].type == "counter"
    assert families["losscore_http_request_duration_seconds"].type == "histogram"
    gates = {s.labels["gate"]: s.value for s in families["losscore_admission_capacity"].samples}
    assert set(gates) == {"cpu", "fits"} and min(gates.values()) >= 1
    assert families["losscore_admission_refused"].type == "counter"


def test_metrics_count_body_bytes(client: Client) -> None:
    body = b'{"loss": {"name": "l2"}, "prediction": [1.0], "target": [0.0]}'
    before = _sum(
        client.get("/metrics").text, "losscore_http_request_size_bytes_sum", "/v1/evaluate"
    )
    client.post("/v1/evaluate", content=body)
    after = _sum(
        client.get("/metrics").text, "losscore_http_request_size_bytes_sum", "/v1/evaluate"
    )
    assert after - before == len(body)


def _sum(text: str, metric: str, route: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(metric + "{") and f'route="{route}"' in line and 'status="200"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("enabled", [True, False])
def test_start_up_compiles_the_kernels_off_the_loop(tmp_path, monkeypatch, enabled):
    import asyncio
    import threading

    import losscore
    from service.app import create_app
    from service.settings import Settings

    calls: list[str] = []
    monkeypatch.setattr(losscore, "warm_up", lambda: calls.append(threading.current_thread().name))
    settings = Settings(data_dir=tmp_path, database_url=None, warm_up=enabled)
    app = create_app(settings)

    async def start_and_stop() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop())
    for thread in threading.enumerate():
        if thread.name == "losscore-warm-up":
            thread.join(10)
    assert calls == (["losscore-warm-up"] if enabled else [])


def test_numba_cache_seed_is_copied_once_without_overwriting(tmp_path, monkeypatch):
    from service.app import _seed_numba_cache

    seed = tmp_path / "seed"
    (seed / "a" / "b").mkdir(parents=True)
    (seed / "a" / "b" / "k.nbi").write_bytes(b"index")
    (seed / "a" / "b" / "k.1.nbc").write_bytes(b"code")
    target = tmp_path / "cache"
    (target / "a" / "b").mkdir(parents=True)
    (target / "a" / "b" / "k.nbi").write_bytes(b"newer index")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(target))
    assert _seed_numba_cache(seed) == 1
    assert (target / "a" / "b" / "k.1.nbc").read_bytes() == b"code"
    assert (target / "a" / "b" / "k.nbi").read_bytes() == b"newer index"  # kept
    assert sorted(p.name for p in (target / "a" / "b").iterdir()) == ["k.1.nbc", "k.nbi"]
    assert _seed_numba_cache(seed) == 0
    assert _seed_numba_cache(None) == 0
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert _seed_numba_cache(seed) == 0


def test_warm_up_runs_even_when_seeding_fails(tmp_path, monkeypatch):
    import losscore
    from service import app as app_module

    calls: list[int] = []
    monkeypatch.setattr(losscore, "warm_up", lambda: calls.append(1))
    (tmp_path / "file").write_text("not a directory")
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "k.nbi").write_bytes(b"index")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file" / "numba"))
    app_module._warm_up(seed)
    assert calls == [1]


def test_start_up_objects_are_frozen_out_of_the_collector(tmp_path: Path) -> None:
    """After start-up the objects alive then (modules, app, catalog: over 10⁴) are frozen,
    so full garbage collections, which pause the event loop, walk only request objects."""
    app = create_app(Settings(data_dir=tmp_path, database_url=None, warm_up=False))
    frozen: list[int] = []

    async def start() -> None:
        async with app.router.lifespan_context(app):
            frozen.append(gc.get_freeze_count())

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    asyncio.run(start())
    assert frozen[0] > 10_000
