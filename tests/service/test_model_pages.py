"""GET /v1/models pages through next_cursor: newest first, no model skipped or repeated while
models are stored during the walk, and a cursor the service did not hand out is a 422."""

from __future__ import annotations

from pathlib import Path

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client

BODY = {"task": "regression", "loss": {"name": "l2"}, "X": [[0.0], [1.0]], "y": [0.0, 1.0]}


def test_cursor_walk_under_inserts(tmp_path: Path) -> None:
    client = Client(create_app(Settings(data_dir=tmp_path, database_url=None)))
    try:
        first = [client.post("/v1/train", json=BODY).json()["model_id"] for _ in range(7)]
        seen: list[str] = []
        page = client.get("/v1/models", params={"limit": 3}).json()
        while True:
            seen += [m["model_id"] for m in page["models"]]
            client.post("/v1/train", json=BODY)  # a newer model arrives mid-walk
            if page["next_cursor"] is None:
                break
            page = client.get(
                "/v1/models", params={"limit": 3, "cursor": page["next_cursor"]}
            ).json()
        assert seen == first[::-1]  # exactly the models that existed, newest first, once
        r = client.get("/v1/models", params={"cursor": "bm90LWEtY3Vyc29y"})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"] == "cursor"
    finally:
        client.close()
