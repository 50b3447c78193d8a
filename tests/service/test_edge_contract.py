"""Edges found in review of 0.2.0: each answers a clear 4xx (or a correct 200), never 500,
and every 200 conforms to the committed schema."""

from __future__ import annotations

import base64
import io
import json
import multiprocessing
import sqlite3
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client
from tests.service.test_openapi import _validator


@pytest.fixture
def fresh(tmp_path: Path) -> Any:
    c = Client(create_app(Settings(data_dir=tmp_path, database_url=None)))
    yield c
    c.close()


def _cursor(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize("bad", [[10**330, "a"], ["NaN", "a"], [1, 2], "x", [1.0]])
def test_cursors_that_were_not_handed_out_are_422(fresh: Client, bad: Any) -> None:
    raw = _cursor(bad).replace("TmFO", "TmFO")
    if bad == ["NaN", "a"]:
        raw = base64.urlsafe_b64encode(b'[NaN, "a"]').decode().rstrip("=")
    r = fresh.get("/v1/models", params={"cursor": raw})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "cursor"


def test_the_removed_offset_parameter_is_422(fresh: Client) -> None:
    r = fresh.get("/v1/models", params={"offset": 10})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "offset"


def _npy_with_header(shape: tuple[int, ...], payload: bytes = b"") -> bytes:
    header = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


@pytest.mark.parametrize(
    ("shape", "payload", "words"),
    [
        ((100_000_000_000,), b"", "more than the limit"),
        ((3,), np.zeros(2).tobytes(), "holds 16 bytes"),
        ((2,), np.zeros(4).tobytes(), "holds 32 bytes"),
    ],
)
def test_npy_headers_are_checked_before_anything_is_allocated(
    fresh: Client, shape: tuple[int, ...], payload: bytes, words: str
) -> None:
    lying = _npy_with_header(shape, payload)
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    r = fresh.post(
        "/v1/evaluate/npy",
        data={"request": json.dumps({"loss": {"name": "l2"}})},
        files={"prediction": ("p.npy", lying), "target": ("t.npy", buf.getvalue())},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "prediction"
    assert words in r.json()["error"]["message"]
    r = fresh.post(
        "/v1/train/upload",
        data={"request": json.dumps({"task": "regression", "loss": {"name": "l2"}})},
        files={"X": ("X.npy", _npy_with_header((10**11, 2))), "y": ("y.npy", buf.getvalue())},
    )
    assert r.status_code == 413, r.text


def test_arrays_deeper_than_the_typed_lists_answer_as_tensors(fresh: Client) -> None:
    deep: Any = [1.0, 2.0]
    for _ in range(5):
        deep = [deep]
    body = {"loss": {"name": "l2"}, "prediction": deep, "target": deep, "reduction": "none"}
    r = fresh.post("/v1/evaluate", json=body)
    assert r.status_code == 200
    out = r.json()
    assert out["elementwise"] == {"shape": [1] * 5 + [2], "dtype": "float64", "data": [0.0, 0.0]}
    assert _validator("EvaluateResponse").is_valid(out)
    for _ in range(40):
        deep = [deep]
    r = fresh.post("/v1/evaluate", json={**body, "prediction": deep, "target": deep})
    assert r.status_code == 422
    assert "dimensions" in r.json()["error"]["message"]


def test_a_regression_prediction_that_overflows_is_a_422_naming_the_row(fresh: Client) -> None:
    fit = {
        "task": "regression",
        "loss": {"name": "l2"},
        "X": [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]],
        "y": [1.0, 2.0, 4.0],
    }
    model_id = fresh.post("/v1/train", json=fit).json()["model_id"]
    r = fresh.post(f"/v1/models/{model_id}/predict", json={"X": [[1.0, 1.0], [1.7e308, 1.7e308]]})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0] == {
        "field": "X",
        "index": [1],
        "reason": "the predicted value leaves the float64 range (rescale the rows)",
    }


@pytest.mark.parametrize("y", [["a", "b", True, "a"], ["a", 1, "b", 2], [True, 1, 0, False]])
def test_mixed_labels_are_refused(fresh: Client, y: list[Any]) -> None:
    body = {
        "task": "classification",
        "loss": {"name": "hinge"},
        "X": [[0.0], [1.0], [2.0], [3.0]],
        "y": y,
    }
    r = fresh.post("/v1/train", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "y"
    assert "all numbers, all strings or all booleans" in r.text


def test_a_fit_with_a_non_finite_metric_still_serves(fresh: Client) -> None:
    """l1 regression at 1e160: r² is NaN (SST overflows); the model is finite and serves."""
    body = {
        "task": "regression",
        "loss": {"name": "l1"},
        "X": [[0.0], [1.0], [2.0], [3.0]],
        "y": [1e160, -1e160, 3e160, 0.0],
    }
    r = fresh.post("/v1/train", json=body)
    assert r.status_code == 200, r.text
    got = fresh.get(f"/v1/models/{r.json()['model_id']}")
    assert got.status_code == 200 and _validator("Model").is_valid(got.json())


def _open_old_store(path: str, barrier: Any) -> str:
    from service.modelview import summary_fields
    from service.store import ModelStore

    barrier.wait()
    try:
        ModelStore(f"sqlite:///{path}", summary_fields)
    except Exception as exc:
        return repr(exc)
    return "ok"


def test_two_processes_upgrading_one_store_both_succeed(tmp_path: Path) -> None:
    from losscore.train import fit
    from tests.service.test_store_upgrade import OLD_SCHEMA, _old_payload

    r = fit(np.array([[0.0], [1.0], [2.0]]), [0.0, 1.0, 2.0], task="regression", loss="l2")
    for attempt in range(6):
        db = tmp_path / f"m{attempt}.db"
        with sqlite3.connect(db) as conn:
            conn.execute(OLD_SCHEMA)
            conn.execute(
                "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?)",
                ("m", time.time(), "regression", "l2", 1, _old_payload(r)),
            )
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Manager().Barrier(2)
        with ctx.Pool(2) as pool:
            results = pool.starmap(_open_old_store, [(str(db), barrier)] * 2)
        assert results == ["ok", "ok"], results
