"""A model store written by 0.1.0 (no summary column; penalties with l1_ratio always) opens in
0.2.0 with every model intact: listed, served in the 0.2.0 shape, predicting the same values."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from losscore.train import fit, predict
from service.modelview import model_body, summary_fields
from service.store import ModelStore

OLD_SCHEMA = """CREATE TABLE models (
    id VARCHAR(64) NOT NULL, created_at FLOAT NOT NULL, task VARCHAR(32) NOT NULL,
    loss VARCHAR(64) NOT NULL, n_features INTEGER NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (id))"""


def _old_payload(result) -> str:
    """The JSON 0.1.0 stored: FitResult.to_dict with the penalty as name, alpha, l1_ratio."""
    data = result.to_dict()
    data["penalty"] = {"name": result.penalty, "alpha": result.alpha, "l1_ratio": result.l1_ratio}
    return json.dumps(data)


def test_a_0_1_0_store_upgrades_in_place(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    fits = {
        "a": fit(
            X,
            np.where(X[:, 0] > 0, "yes", "no"),
            task="classification",
            loss="hinge",
            penalty="l2",
            alpha=0.01,
        ),
        "b": fit(
            X, X @ [1.0, 2.0] + 0.5, task="regression", loss="huber", penalty="l1", alpha=0.001
        ),
        "c": fit(
            X,
            np.arange(30) % 3,
            task="classification",
            loss="softmax_cross_entropy",
            penalty="elastic_net",
            alpha=0.01,
            l1_ratio=0.3,
        ),
    }
    db = tmp_path / "models.db"
    with sqlite3.connect(db) as conn:
        conn.execute(OLD_SCHEMA)
        for i, (mid, r) in enumerate(fits.items()):
            conn.execute(
                "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?)",
                (mid, time.time() + i, r.task, r.loss, r.n_features, _old_payload(r)),
            )
    store = ModelStore(f"sqlite:///{db}", summary_fields)
    items, cursor = store.list(10)
    assert cursor is None
    assert [i["model_id"] for i in items] == ["c", "b", "a"]  # newest first
    by_id = {i["model_id"]: i for i in items}
    assert by_id["a"]["penalty"] == {"name": "l2", "alpha": 0.01}  # no stale l1_ratio
    assert by_id["b"]["penalty"] == {"name": "l1", "alpha": 0.001}
    assert by_id["c"]["penalty"] == {"name": "elastic_net", "alpha": 0.01, "l1_ratio": 0.3}
    assert by_id["a"]["classes"] == ["no", "yes"]
    for mid, original in fits.items():
        stored = store.get(mid)
        assert stored is not None
        body = model_body(stored)
        coef = np.atleast_2d(original.coef)
        assert np.array_equal(np.asarray(body.coef), coef)  # JSON round trip is exact
        probe = rng.normal(size=(4, 2))
        np.testing.assert_array_equal(
            predict(stored.result, probe).decision_function,
            predict(original, probe).decision_function,
        )
    # the upgrade happened once: a second open finds the column and nothing to fill in
    again = ModelStore(f"sqlite:///{db}", summary_fields)
    assert [i["model_id"] for i in again.list(10)[0]] == ["c", "b", "a"]


def test_a_legacy_model_with_null_coefficients_is_409_not_500(tmp_path: Path) -> None:
    """0.1.0 stored fits with NaN in them (written as null): they list, answer 409 to get
    and predict, and delete; nothing answers 500."""
    from service.app import create_app
    from service.settings import Settings
    from tests.service.conftest import Client

    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    r = fit(X, [1.0, 2.0, 3.0], task="regression", loss="l2")
    data = json.loads(_old_payload(r))
    data.update(coef=[None, None], objective=None, intercept=None)
    # a usable model whose history and metrics hold non-finite values (written as null)
    odd = json.loads(_old_payload(r))
    odd.update(history=[None, "Infinity"], metrics={"mse": "Infinity", "mae": 1.0, "r2": None})
    (tmp_path / "d").mkdir()
    with sqlite3.connect(tmp_path / "d" / "models.db") as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?)",
            ("bad", time.time(), "regression", "l2", 2, json.dumps(data)),
        )
        conn.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?)",
            ("odd", time.time() - 1, "regression", "l2", 2, json.dumps(odd)),
        )
    client = Client(create_app(Settings(data_dir=tmp_path / "d", database_url=None)))
    try:
        assert [m["model_id"] for m in client.get("/v1/models").json()["models"]] == ["bad", "odd"]
        odd_view = client.get("/v1/models/odd")
        assert odd_view.status_code == 200, odd_view.text
        assert odd_view.json()["history"] == [None, None]  # non-finite entries are null
        assert odd_view.json()["metrics"]["mse"] == "Infinity"
        assert client.post("/v1/models/odd/predict", json={"X": [[0.0, 1.0]]}).status_code == 200
        for response in (
            client.get("/v1/models/bad"),
            client.post("/v1/models/bad/predict", json={"X": [[0.0, 1.0]]}),
        ):
            assert response.status_code == 409, response.text
            assert response.json()["error"]["code"] == "model_unusable"
        assert client.request("DELETE", "/v1/models/bad").status_code == 204
    finally:
        client.close()
