"""The service on a real PostgreSQL that goes away: while the database is down requests that
need it answer 503 ``store_unavailable`` (never 500); once it is back they succeed, without
restarting the service, and every acknowledged model is there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.settings import Settings
from tests.postgres import PostgresServer, running_server
from tests.service.conftest import Client

BODY = {
    "task": "regression",
    "loss": {"name": "l2"},
    "X": [[0.0], [1.0], [2.0]],
    "y": [0.0, 1.0, 2.0],
}


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own (it is stopped and started again)."""
    with running_server() as server:
        yield server


def test_database_restart_under_a_running_service(
    own_server: PostgresServer, tmp_path: Path
) -> None:
    url = own_server.create_database()
    client = Client(create_app(Settings(data_dir=tmp_path, database_url=url)))
    try:
        trained = client.post("/v1/train", json=BODY)
        assert trained.status_code == 200, trained.text
        model_id = trained.json()["model_id"]
        own_server.stop()
        # first a fit: the route's write check is still trusted from the fit above (2 s), so
        # this one runs and then cannot store its model: an error, never a model id
        lost = client.post("/v1/train", json=BODY)
        assert lost.status_code == 503 and "model_id" not in lost.json(), lost.text
        for r in (
            client.get(f"/v1/models/{model_id}"),
            client.get("/v1/models"),
            client.get("/readyz"),
        ):
            assert r.status_code == 503, r.text
        assert client.get("/v1/models").json()["error"]["code"] == "store_unavailable"
        own_server.start()  # same port, same data
        back = client.get(f"/v1/models/{model_id}")
        assert back.status_code == 200, back.text
        again = client.post("/v1/train", json=BODY)
        assert again.status_code == 200, again.text
        listed = {m["model_id"] for m in client.get("/v1/models").json()["models"]}
        assert listed == {model_id, again.json()["model_id"]}
        assert client.get("/readyz").status_code == 200
    finally:
        client.close()
