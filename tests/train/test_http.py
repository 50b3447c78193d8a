"""HTTP: POST /v1/train, the model store, /v1/models..., the SSE stream."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any

import anyio.from_thread
import httpx
import numpy as np
import pytest
from sklearn.datasets import load_iris

from service.app import create_app
from service.settings import Settings


class Client:
    """Synchronous facade over httpx.AsyncClient + ASGITransport on a blocking portal."""

    def __init__(self, app: Any) -> None:
        self._stack = ExitStack()
        self.portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            return await self.client.request(method, url, **kwargs)

        return self.portal.call(go)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self._stack.close()


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv("LOSSCORE_DATABASE_URL", raising=False)
    c = Client(create_app(Settings(data_dir=tmp_path)))
    yield c
    c.close()


@pytest.fixture(scope="module")
def iris_body():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return {
        "task": "classification",
        "loss": {"name": "log_loss"},
        "penalty": {"name": "l2", "alpha": 0.01},
        "X": X.tolist(),
        "y": names.tolist(),
    }


def test_train_store_predict_delete(client, iris_body):
    r = client.post("/v1/train", json=iris_body)
    assert r.status_code == 200, r.text
    body = r.json()
    mid = body["model_id"]
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    assert np.asarray(body["coef"]).shape == (3, 4)
    assert len(body["intercept"]) == 3
    assert body["converged"] is True
    assert body["metrics"]["accuracy"] > 0.9
    assert body["provenance"]["data_hash"].startswith("xxh3_128:")
    assert isinstance(body["history"], list)
    assert body["history"]

    page = client.get("/v1/models", params={"limit": 10}).json()
    assert len(page["models"]) == 1 and page["next_cursor"] is None
    assert page["models"][0]["model_id"] == mid
    got = client.get(f"/v1/models/{mid}").json()
    assert got["coef"] == body["coef"]

    p = client.post(f"/v1/models/{mid}/predict", json={"X": iris_body["X"][:5]}).json()
    assert p["prediction"] == ["setosa"] * 5
    assert np.asarray(p["probability"]).shape == (5, 3)
    assert np.asarray(p["decision_function"]).shape == (5, 3)

    assert client.delete(f"/v1/models/{mid}").status_code == 204
    assert client.get(f"/v1/models/{mid}").status_code == 404
    assert client.delete(f"/v1/models/{mid}").status_code == 404


def test_regression_hinge_like_and_bad_data(client):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X @ [1.0, 2.0] + 0.5).tolist()
    r = client.post(
        "/v1/train",
        json={
            "task": "regression",
            "loss": {"name": "huber", "delta": 1.0},
            "X": X.tolist(),
            "y": y,
        },
    )
    assert r.status_code == 200, r.text
    mid = r.json()["model_id"]
    pred = client.post(f"/v1/models/{mid}/predict", json={"X": X[:2].tolist()}).json()
    assert pred["probability"] is None
    np.testing.assert_allclose(pred["prediction"], y[:2], atol=1e-3)

    bad = X.tolist()
    bad[3][1] = float("nan")
    raw = json.dumps({"task": "regression", "loss": {"name": "l2"}, "X": bad, "y": y})
    r = client.post("/v1/train", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "X[3, 1]" in r.text
    r = client.post(
        "/v1/train",
        json={"task": "classification", "loss": {"name": "hinge"}, "X": X.tolist(), "y": [1] * 50},
    )
    assert r.status_code == 422
    assert "two classes" in r.text
    r = client.post(
        "/v1/train",
        json={"task": "regression", "loss": {"name": "l2"}, "X": X.tolist(), "y": y[:10]},
    )
    assert r.status_code == 422
    r = client.post(
        "/v1/train",
        json={
            "task": "regression",
            "loss": {"name": "l2"},
            "X": X.tolist(),
            "y": y,
            "max_iter": 10**9,
        },
    )
    assert r.status_code == 422
    assert "LOSSCORE_TRAIN_MAX_ITER" in r.text
    assert client.post("/v1/models/nope/predict", json={"X": [[1.0, 2.0]]}).status_code == 404


def test_stream_progress_and_result(client, iris_body):
    r = client.post("/v1/train/stream", json=iris_body)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    text = r.text
    events = [block for block in text.split("\n\n") if block.strip()]
    kinds = [e.split("\n")[0].removeprefix("event: ") for e in events]
    assert kinds[0] == "progress"
    assert kinds[-1] == "model"
    final = json.loads(events[-1].split("data: ", 1)[1])
    assert final["model_id"]
    first = json.loads(events[0].split("data: ", 1)[1])
    assert {"iteration", "objective", "optimality", "elapsed_s"} <= set(first)


def test_stream_bad_data_is_plain_422(client):
    r = client.post(
        "/v1/train/stream",
        json={
            "task": "classification",
            "loss": {"name": "hinge"},
            "X": [[1.0], [2.0]],
            "y": [0, 0],
        },
    )
    assert r.status_code == 422
