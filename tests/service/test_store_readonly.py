"""A model store that cannot be written: /readyz says so (503), training answers 503 before
running the fit, reads keep working; a store that cannot even be opened is 503, never 500."""

from __future__ import annotations

import time
from pathlib import Path

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client

BODY = {"task": "regression", "loss": {"name": "l2"}, "X": [[0.0], [1.0]], "y": [0.0, 1.0]}


def _client(tmp_path: Path, url: str | None) -> Client:
    return Client(create_app(Settings(data_dir=tmp_path, database_url=url)))


def test_read_only_store(tmp_path: Path) -> None:
    writable = _client(tmp_path, None)
    try:
        model_id = writable.post("/v1/train", json=BODY).json()["model_id"]
        assert writable.get("/readyz").status_code == 200
    finally:
        writable.close()
    # the same SQLite file opened read-only (mode=ro holds even for root, unlike chmod)
    url = f"sqlite:///file:{(tmp_path / 'models.db').resolve()}?mode=ro&uri=true"
    ro = _client(tmp_path, url)
    try:
        ready = ro.get("/readyz")
        assert ready.status_code == 503
        assert (
            ready.json()["status"] == "not_ready" and "cannot be written" in ready.json()["reason"]
        )
        t0 = time.perf_counter()
        r = ro.post("/v1/train", json={**BODY, "max_iter": 100_000})
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable"
        assert r.headers["retry-after"] == "5"
        assert time.perf_counter() - t0 < 5
        assert ro.get("/v1/models").json()["models"][0]["model_id"] == model_id
        assert ro.get(f"/v1/models/{model_id}").status_code == 200
        gone = ro.request("DELETE", f"/v1/models/{model_id}")
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "store_unavailable"
    finally:
        ro.close()


def test_a_store_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x", encoding="utf-8")
    broken = _client(tmp_path / "not-a-dir" / "sub", None)  # mkdir fails: a file is in the way
    try:
        for r in (
            broken.get("/v1/models"),
            broken.post("/v1/train", json=BODY),
            broken.get("/readyz"),
        ):
            assert r.status_code == 503, r.text
    finally:
        broken.close()
