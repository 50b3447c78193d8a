"""``/v1/train`` with a dataset reference: the roots decide what may be read, the fit runs on
Dask (the local scheduler, or a real ``distributed`` scheduler given by address), an
unreachable scheduler is a 503.

Oracles: the in-memory fit of the same rows (itself checked against scipy / scikit-learn);
files written by the tests with pyarrow / pandas.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from losscore.train import fit  # noqa: E402
from service.app import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.service.conftest import Client, assert_error  # noqa: E402

ROWS = 400


def _rows(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS, 3))
    label = np.where(X @ [1.0, -1.0, 0.5] + 0.5 * rng.normal(size=ROWS) > 0, "spam", "ham")
    return pd.DataFrame(
        {
            "a": X[:, 0],
            "b": X[:, 1],
            "c": X[:, 2],
            "label": label,
            "w": rng.uniform(0.5, 2.0, size=ROWS),
        }
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    data = tmp_path / "datasets"
    (data / "events.parquet").mkdir(parents=True)
    frame = _rows()
    for i in range(2):
        frame.iloc[i * 200 : (i + 1) * 200].to_parquet(data / "events.parquet" / f"p{i}.parquet")
    frame.to_csv(data / "events.csv", index=False)
    (tmp_path / "secret.csv").write_text("a,label\n1,spam\n2,ham\n")
    os.symlink(tmp_path / "secret.csv", data / "escape.csv")
    return data


def _client(tmp_path: Path, **overrides: Any) -> Client:
    settings = Settings(data_dir=tmp_path / "store", database_url=None, **overrides)
    return Client(create_app(settings))


def _body(dataset: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "task": "classification",
        "loss": {"name": "hinge"},
        "penalty": {"name": "l2", "alpha": 0.01},
        "dataset": dataset,
        **extra,
    }


def _oracle(weighted: bool) -> float:
    frame = _rows()
    return fit(
        frame[["a", "b", "c"]].to_numpy(),
        frame["label"].to_numpy(),
        sample_weight=frame["w"].to_numpy() if weighted else None,
        task="classification",
        loss="hinge",
        penalty="l2",
        alpha=0.01,
    ).objective


def test_paths_outside_the_roots_are_refused_before_any_read(tmp_path: Path, root: Path) -> None:
    off = _client(tmp_path)
    ref = {"format": "csv", "path": str(root / "events.csv"), "target": "label"}
    assert_error(off.post("/v1/train", json=_body(ref)), 403, "dataset.path", "forbidden_path")
    c = _client(tmp_path, dataset_roots=str(root))
    for path in (
        "/etc/passwd",
        "../secret.csv",
        str(root / ".." / "secret.csv"),
        "escape.csv",
        "/etc/*.conf",
        "../*.csv",
    ):
        ref = {"format": "csv", "path": path, "target": "label"}
        assert_error(c.post("/v1/train", json=_body(ref)), 403, "dataset.path", "forbidden_path")
    missing = {"format": "parquet", "path": "nope.parquet", "target": "label"}
    assert_error(c.post("/v1/train", json=_body(missing)), 422, "dataset.path")
    both = _body({"format": "csv", "path": "events.csv", "target": "label"}, X=[[1.0]], y=[1])
    assert_error(c.post("/v1/train", json=both), 422, "X")
    neither = {k: v for k, v in _body({}).items() if k != "dataset"}
    assert_error(c.post("/v1/train", json=neither), 422, "X")


def test_parquet_and_csv_on_the_local_scheduler(tmp_path: Path, root: Path) -> None:
    c = _client(tmp_path, dataset_roots=str(root))
    for ref in (
        {
            "format": "parquet",
            "path": "events.parquet",
            "target": "label",
            "features": ["a", "b", "c"],
            "weight": "w",
        },
        {
            "format": "csv",
            "path": str(root / "events.csv"),
            "target": "label",
            "features": ["a", "b", "c"],
            "weight": "w",
        },
    ):
        r = c.post("/v1/train", json=_body(ref))
        assert r.status_code == 200, r.text
        model = r.json()
        assert model["objective"] == pytest.approx(_oracle(weighted=True), rel=1e-8)
        assert model["classes"] == ["ham", "spam"]
        pred = c.post(f"/v1/models/{model['model_id']}/predict", json={"X": [[2.0, -2.0, 0.0]]})
        assert pred.status_code == 200 and pred.json()["prediction"] == ["spam"]
    bad = {"format": "parquet", "path": "events.parquet", "target": "label", "features": ["zz"]}
    assert c.post("/v1/train", json=_body(bad)).status_code == 422


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_503(tmp_path: Path, root: Path) -> None:
    c = _client(
        tmp_path,
        dataset_roots=str(root),
        dask_scheduler=f"tcp://127.0.0.1:{_free_port()}",
        dask_connect_timeout_s=1.0,
    )
    ref = {"format": "parquet", "path": "events.parquet", "target": "label"}
    err = assert_error(c.post("/v1/train", json=_body(ref)), 503, code="scheduler_unavailable")
    assert "LOSSCORE_DASK_SCHEDULER" in err["message"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    yield cluster.scheduler_address
    cluster.close()


def test_fit_through_a_real_scheduler_with_progress(
    tmp_path: Path, root: Path, scheduler: str
) -> None:
    c = _client(tmp_path, dataset_roots=str(root), dask_scheduler=scheduler)
    ref = {
        "format": "parquet",
        "path": "events.parquet",
        "target": "label",
        "features": ["a", "b", "c"],
    }
    r = c.post("/v1/train", json=_body(ref))
    assert r.status_code == 200, r.text
    assert r.json()["objective"] == pytest.approx(_oracle(weighted=False), rel=1e-8)
    stream = c.post("/v1/train/stream", json=_body(ref))
    assert stream.status_code == 200
    events = [block for block in stream.text.split("\n\n") if block.strip()]
    progress = [json.loads(e.split("data: ", 1)[1]) for e in events if "event: progress" in e]
    assert progress and all(p["passes"] is not None and p["passes"] >= 2 for p in progress)
    assert [p["passes"] for p in progress] == sorted(p["passes"] for p in progress)
    assert "event: model" in events[-1]


def test_evaluate_a_dataset_and_write_the_rows(tmp_path: Path, root: Path) -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {"p": rng.normal(size=500), "t": rng.normal(size=500), "w": rng.uniform(0.1, 3.0, size=500)}
    )
    (root / "preds.parquet").mkdir()
    for i in range(3):
        frame.iloc[i * 170 : (i + 1) * 170].to_parquet(root / "preds.parquet" / f"{i}.parquet")
    c = _client(tmp_path, dataset_roots=str(root))
    ds = {
        "format": "parquet",
        "path": "preds.parquet",
        "prediction": ["p"],
        "target": "t",
        "weight": "w",
    }
    body = {
        "loss": {"name": "huber", "delta": 0.5},
        "dataset": ds,
        "reduction": "mean",
        "output": {"path": "huber-rows"},
    }
    r = c.post("/v1/evaluate/dataset", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    # closed form: huber_δ(r) = r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond; weighted mean
    res = (frame.p - frame.t).to_numpy()
    a = np.abs(res)
    ell = np.where(a <= 0.5, 0.5 * res**2, 0.5 * (a - 0.25))
    w = frame.w.to_numpy()
    assert out["value"] == pytest.approx(float(w @ ell / w.sum()), rel=1e-12)
    assert out["rows"] == 500 and out["weight_sum"] == pytest.approx(w.sum())
    assert out["loss"] == {"name": "huber", "delta": 0.5}
    written = pd.concat([pd.read_parquet(f) for f in out["files"]], ignore_index=True)
    np.testing.assert_allclose(written["loss"], w * ell, rtol=1e-12)
    np.testing.assert_allclose(written["gradient"], w * np.clip(res, -0.5, 0.5), rtol=1e-12)
    # nothing is overwritten; nothing is written outside the roots
    assert_error(c.post("/v1/evaluate/dataset", json=body), 422, "output.path")
    outside = {**body, "output": {"path": str(tmp_path / "elsewhere")}}
    assert_error(c.post("/v1/evaluate/dataset", json=outside), 403, "output.path")
    assert not (tmp_path / "elsewhere").exists()
    escape = {**body, "dataset": {**ds, "path": "../secret.csv", "format": "csv"}}
    assert_error(c.post("/v1/evaluate/dataset", json=escape), 403, "dataset.path")
    summed = c.post("/v1/evaluate/dataset", json={**body, "reduction": "sum", "output": None})
    assert summed.json()["value"] == pytest.approx(float(w @ ell), rel=1e-12)


def test_evaluate_a_multiclass_dataset(tmp_path: Path, root: Path) -> None:
    """k score columns of a multiclass loss: softmax cross-entropy against its closed form
    (log-sum-exp minus the target's score, weighted mean) and the written gradient columns
    against w·(softmax − one-hot)."""
    from scipy.special import logsumexp, softmax

    rng = np.random.default_rng(9)
    S = rng.normal(scale=3.0, size=(300, 3))
    t = rng.integers(0, 3, size=300)
    w = rng.uniform(0.2, 2.0, size=300)
    frame = pd.DataFrame({"s0": S[:, 0], "s1": S[:, 1], "s2": S[:, 2], "t": t, "w": w})
    (root / "scores.parquet").mkdir()
    for i in range(3):
        frame.iloc[i * 100 : (i + 1) * 100].to_parquet(root / "scores.parquet" / f"{i}.parquet")
    c = _client(tmp_path, dataset_roots=str(root))
    body = {
        "loss": {"name": "softmax_cross_entropy"},
        "dataset": {
            "format": "parquet",
            "path": "scores.parquet",
            "prediction": ["s0", "s1", "s2"],
            "target": "t",
            "weight": "w",
        },
        "reduction": "mean",
        "output": {"path": "softmax-rows"},
    }
    r = c.post("/v1/evaluate/dataset", json=body)
    assert r.status_code == 200, r.text
    ell = logsumexp(S, axis=1) - S[np.arange(300), t]
    assert r.json()["value"] == pytest.approx(float(w @ ell / w.sum()), rel=1e-12)
    written = pd.concat([pd.read_parquet(f) for f in sorted(r.json()["files"])], ignore_index=True)
    # absolute slack: the oracle's log-sum-exp − score cancels for small losses (scores ~ 3)
    np.testing.assert_allclose(written["loss"], w * ell, rtol=1e-12, atol=1e-14)
    grad = w[:, None] * (softmax(S, axis=1) - np.eye(3)[t])
    for j in range(3):
        np.testing.assert_allclose(written[f"gradient_{j}"], grad[:, j], rtol=1e-10, atol=1e-15)
    # two columns for a three-class target: a 422 naming the dataset, not a wrong number
    two = {**body, "output": None, "dataset": {**body["dataset"], "prediction": ["s0", "s1"]}}
    bad = c.post("/v1/evaluate/dataset", json=two)
    assert bad.status_code == 422, bad.text
