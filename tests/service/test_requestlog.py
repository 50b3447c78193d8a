"""Request ids on every response and log line; one JSON line per request with the route,
status, duration, sizes, key name and model id."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from service.app import create_app
from service.requestlog import JsonFormatter, RequestIdFilter
from service.settings import Settings
from tests.service.conftest import Client

BODY = {"task": "regression", "loss": {"name": "l2"}, "X": [[0.0], [1.0]], "y": [0.0, 1.0]}


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = Client(create_app(Settings(data_dir=tmp_path, database_url=None)))
    yield c
    c.close()


def test_ids_are_echoed_or_made(client: Client) -> None:
    r = client.get("/healthz", headers={"x-request-id": "abc-123.X_y"})
    assert r.headers["x-request-id"] == "abc-123.X_y"
    made = client.get("/healthz", headers={"x-request-id": "bad id\nwith spaces"}).headers[
        "x-request-id"
    ]
    assert made != "bad id\nwith spaces" and len(made) == 32
    assert (
        client.get("/healthz").headers["x-request-id"]
        != client.get("/healthz").headers["x-request-id"]
    )
    err = client.post("/v1/evaluate", json={"loss": {"name": "nope"}})
    assert err.status_code == 422 and len(err.headers["x-request-id"]) == 32


def test_one_json_line_per_request(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("service")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        trained = client.post("/v1/train", json=BODY, headers={"x-request-id": "trace-1"})
        client.post(
            "/v1/evaluate",
            json={"loss": {"name": "l1"}, "prediction": [[1.0, 2.0], [3.0]], "target": [0.0]},
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [json.loads(line) for line in records]
    train = next(line for line in lines if line["request_id"] == "trace-1")
    assert train["route"] == "/v1/train" and train["status"] == 200 and train["method"] == "POST"
    assert train["model_id"] == trained.json()["model_id"]
    assert train["bytes_in"] > 0 and train["bytes_out"] > 0 and train["duration_ms"] > 0
    assert train["key"] == "anonymous" and train["level"] == "info"
    bad = next(line for line in lines if line["route"] == "/v1/evaluate")
    assert bad["status"] == 422
