"""``/v1/train`` over HTTP: CSV and ``.npy`` uploads, the training limits, bad data → 422."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.app import create_app
from service.routers import train as train_router
from service.settings import Settings
from tests.service.conftest import Client, assert_error

IRIS_CSV = """sepal_length,petal_width,species
5.1,0.2,setosa
4.9,0.2,setosa
4.7,0.2,setosa
7.0,1.4,versicolor
6.4,1.5,versicolor
6.9,1.5,versicolor
6.3,2.5,virginica
5.8,1.9,virginica
7.1,2.1,virginica
5.0,0.3,setosa
"""


def _client(tmp_path: Path, **overrides: Any) -> Client:
    return Client(create_app(Settings(data_dir=tmp_path, database_url=None, **overrides)))


@pytest.fixture
def tclient(tmp_path: Path) -> Iterator[Client]:
    c = _client(tmp_path)
    yield c
    c.close()


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Client]:
    c = _client(
        tmp_path,
        train_max_elements=40,
        train_max_iter=500,
        train_max_seconds=5.0,
        train_max_jobs=1,
    )
    yield c
    c.close()


def npy(arr: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def upload_csv(
    client: Client, text: str | bytes, url: str = "/v1/train/upload", **options: Any
) -> Any:
    opts = {"task": "classification", "loss": {"name": "log_loss"}, **options}
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        url,
        data={"request": json.dumps(opts)},
        files={"data": ("train.csv", data, "text/csv")},
    )


def upload_npy(client: Client, files: dict[str, bytes], **options: Any) -> Any:
    opts = {"task": "classification", "loss": {"name": "log_loss"}, **options}
    parts = {k: (f"{k}.npy", v, "application/octet-stream") for k, v in files.items()}
    return client.post("/v1/train/upload", data={"request": json.dumps(opts)}, files=parts)


def iris_arrays() -> tuple[np.ndarray, np.ndarray]:
    rows = [line.split(",") for line in IRIS_CSV.strip().splitlines()[1:]]
    X = np.array([[float(r[0]), float(r[1])] for r in rows])
    y = np.array([r[2] for r in rows])
    return X, y


# -- uploads --------------------------------------------------------------------------------------


def test_csv_upload_matches_the_json_fit(tclient: Client) -> None:
    r = upload_csv(tclient, IRIS_CSV, target="species", penalty={"name": "l2", "alpha": 0.1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    assert np.asarray(body["coef"]).shape == (3, 2)
    X, y = iris_arrays()
    ref = tclient.post(
        "/v1/train",
        json={
            "task": "classification",
            "loss": {"name": "log_loss"},
            "penalty": {"name": "l2", "alpha": 0.1},
            "X": X.tolist(),
            "y": y.tolist(),
        },
    ).json()
    assert body["coef"] == ref["coef"]
    assert body["provenance"]["data_hash"] == ref["provenance"]["data_hash"]
    p = tclient.post(f"/v1/models/{body['model_id']}/predict", json={"X": [[5.0, 0.2]]}).json()
    assert p["prediction"] == ["setosa"]


def test_csv_upload_regression_integer_labels_and_weights(tclient: Client) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0
    lines = ["a,b,target,c"] + [
        ",".join(repr(float(v)) for v in (x[0], x[1], t, x[2])) for x, t in zip(X, y, strict=True)
    ]
    text = "\r\n".join(lines) + "\r\n\r\n"  # CRLF and a trailing blank line
    r = upload_csv(
        tclient,
        text,
        target="target",
        task="regression",
        loss={"name": "l2"},
        penalty={"name": "none"},
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["coef"], [[1.0, -2.0, 0.5]], atol=1e-6)
    np.testing.assert_allclose(r.json()["intercept"], [3.0], atol=1e-6)
    # integer class labels stay integers; a sample_weight .npy part applies to the CSV rows
    text = "x,label\n0.0,0\n1.0,0\n2.0,1\n3.0,1\n"
    r = tclient.post(
        "/v1/train/upload",
        data={
            "request": json.dumps(
                {"task": "classification", "loss": {"name": "hinge"}, "target": "label"}
            )
        },
        files={
            "data": ("d.csv", text.encode(), "text/csv"),
            "sample_weight": ("w.npy", npy([1.0, 2.0, 2.0, 1.0]), "application/octet-stream"),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["classes"] == [0, 1]
    assert r.json()["provenance"]["data_hash"]


def test_csv_upload_stream(tclient: Client) -> None:
    r = upload_csv(tclient, IRIS_CSV, url="/v1/train/stream/upload", target="species")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [b for b in r.text.split("\n\n") if b.strip()]
    assert events[-1].startswith("event: model")
    assert json.loads(events[-1].split("data: ", 1)[1])["classes"][0] == "setosa"
    r = upload_csv(
        tclient, "a,b\n1,x\n", url="/v1/train/stream/upload", target="b", task="regression"
    )
    assert_error(r, 422, "data")


@pytest.mark.parametrize(
    ("text", "options", "field", "words"),
    [
        ("", {}, "data", ["empty"]),
        ("   \n", {}, "data", ["empty"]),
        ("x,species\n", {}, "data", ["no data rows", "n = 0"]),
        ("species\nsetosa\nother\n", {}, "data", ["no feature columns", "d = 0"]),
        ("x,z,species\n1,2,a\n3,b\n", {}, "data", ["line 3", "2 cells", "header has 3"]),
        ("x,z,species\n1,2,a\n3,4,b,5\n", {}, "data", ["line 3", "4 cells"]),
        ("x,z,species\n1,2,a\n3,abc,b\n", {}, "data", ["'z'", "line 3", "'abc'"]),
        ("x,z,species\n1,,a\n3,4,b\n", {}, "data", ["'z'", "line 2", "''"]),
        ("x,z,species\n1,2,a\nnan,4,b\n", {}, "data", ["'x'", "line 3", "'nan'"]),
        ("x,z,species\n1,2,a\n3,inf,b\n", {}, "data", ["'z'", "line 3", "'inf'"]),
        ("x,z,label\n1,2,a\n3,4,b\n", {}, "request.target", ["'species'", "x, z, label"]),
        ("x,x,species\n1,2,a\n3,4,b\n", {}, "data", ["'x' twice"]),
        ("x,species\n1,a\n2, \n", {}, "data", ["'species'", "line 3", "empty"]),
        (
            "x,species\n1,0.5\n2,setosa\n",
            {"task": "regression", "loss": {"name": "l2"}},
            "data",
            ["'species'", "line 3", "'setosa'", "regression"],
        ),
        ('x,species\n1,"a\n', {}, "data", ["not valid CSV"]),
        (b"x,species\n\xff\xfe,a\n", {}, "data", ["UTF-8"]),
        ("x,species\n1,a\n2,a\n", {}, "y", ["two classes"]),
        ("x,species\n1,a\n2,b\n", {"target": None}, "request.target", ["required"]),
    ],
)
def test_csv_upload_errors_name_the_problem(
    tclient: Client, text: str | bytes, options: dict[str, Any], field: str, words: list[str]
) -> None:
    opts = {"target": "species", **options}
    if opts["target"] is None:
        del opts["target"]
    r = upload_csv(tclient, text, **opts)
    err = assert_error(r, 422, field)
    for word in words:
        assert word in err["message"], (word, err["message"])


def test_npy_pair_upload(tclient: Client) -> None:
    X, y = iris_arrays()
    r = upload_npy(tclient, {"X": npy(X), "y": npy(y)}, penalty={"name": "l2", "alpha": 0.1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    csv_fit = upload_csv(tclient, IRIS_CSV, target="species", penalty={"name": "l2", "alpha": 0.1})
    assert body["coef"] == csv_fit.json()["coef"]
    w = np.linspace(0.5, 2.0, len(y))
    r = upload_npy(
        tclient,
        {"X": npy(X.astype(np.float32)), "y": npy(y), "sample_weight": npy(w)},
        class_weight="balanced",
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("files", "field", "words"),
    [
        ({"X": npy(np.zeros((3, 2)))}, "y", ["required"]),
        ({"y": npy([0, 1, 0])}, "X", ["required"]),
        ({"X": npy(np.zeros(3)), "y": npy([0, 1, 0])}, "X", ["2-d"]),
        ({"X": b"not a npy file", "y": npy([0, 1, 0])}, "X", [".npy"]),
        ({"X": npy(np.array([["a", "b"]] * 3)), "y": npy([0, 1, 0])}, "X", ["real numbers"]),
        ({"X": npy(np.zeros((3, 2))), "y": npy([0, 1])}, "y", ["2 labels", "3 rows"]),
        (
            {"X": npy(np.zeros((3, 2))), "y": npy([0, 1, 0]), "sample_weight": npy([1.0, 1.0])},
            "sample_weight",
            ["3 rows"],
        ),
        ({"X": npy([[0.0, np.nan], [1.0, 1.0]]), "y": npy([0, 1])}, "X", ["X[0, 1]", "finite"]),
        ({"X": npy(np.zeros((0, 2))), "y": npy(np.zeros(0))}, "X", ["n = 0"]),
        ({"X": npy(np.zeros((2, 0))), "y": npy([0, 1])}, "X", ["d = 0"]),
    ],
)
def test_npy_upload_errors_name_the_problem(
    tclient: Client, files: dict[str, bytes], field: str, words: list[str]
) -> None:
    err = assert_error(upload_npy(tclient, files), 422, field)
    for word in words:
        assert word in err["message"], (word, err["message"])


def test_pickled_npy_is_refused(tclient: Client) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([object(), 1, 0], dtype=object), allow_pickle=True)
    r = upload_npy(tclient, {"X": npy(np.zeros((3, 1))), "y": buf.getvalue()})
    assert_error(r, 422, "y")


def test_malformed_upload_requests(tclient: Client) -> None:
    r = tclient.post(
        "/v1/train/upload", data={"request": "{"}, files={"data": ("d.csv", b"x,y\n1,2\n")}
    )
    assert_error(r, 400, "request", code="malformed_json")
    r = tclient.post(
        "/v1/train/upload",
        data={"request": json.dumps({"task": "regression", "loss": {"name": "l2"}, "bogus": 1})},
        files={"data": ("d.csv", b"x,y\n1,2\n")},
    )
    assert_error(r, 422, "request.bogus")
    r = tclient.post("/v1/train/upload", files={"data": ("d.csv", b"x,y\n1,2\n")})
    assert_error(r, 422, "request")
    opts = json.dumps({"task": "regression", "loss": {"name": "l2"}, "target": "y"})
    r = tclient.post("/v1/train/upload", files={"request": (None, opts)})
    assert_error(r, 422, "data")
    r = tclient.post(
        "/v1/train/upload", files={"request": (None, opts), "data": (None, "x,y\n1,2\n")}
    )
    assert_error(r, 422, "data")
    r = tclient.post("/v1/train/upload", data={"request": opts})  # urlencoded
    assert_error(r, 415, code="unsupported_media_type")
    r = tclient.post(
        "/v1/train/upload",
        data={"request": opts},
        files={"data": ("d.csv", b"x,y\n1,2\n"), "X": ("X.npy", npy(np.zeros((1, 1))))},
    )
    assert_error(r, 422, "data")
    r = tclient.post("/v1/train", content=b"x", headers={"content-type": "application/xml"})
    assert_error(r, 415, code="unsupported_media_type")
    r = tclient.post("/v1/train/upload", json={"task": "regression"})  # JSON to the upload route
    assert_error(r, 415, code="unsupported_media_type")


def test_multipart_on_the_json_route_is_still_accepted(tclient: Client) -> None:
    """Deprecated in 0.2.0 (the README's changelog): /v1/train took uploads before /upload."""
    r = upload_csv(tclient, IRIS_CSV, url="/v1/train", target="species")
    assert r.status_code == 200, r.text
    assert r.json()["classes"] == ["setosa", "versicolor", "virginica"]


# -- limits ---------------------------------------------------------------------------------------


def _regression(n: int = 10, d: int = 2) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    return {
        "task": "regression",
        "loss": {"name": "l2"},
        "X": X.tolist(),
        "y": (X.sum(axis=1)).tolist(),
    }


def test_element_limit_names_the_setting(limited: Client) -> None:
    ok = limited.post("/v1/train", json=_regression(20, 2))
    assert ok.status_code == 200, ok.text
    for r in (
        limited.post("/v1/train", json=_regression(21, 2)),
        limited.post("/v1/train/stream", json=_regression(21, 2)),
        upload_npy(
            limited,
            {"X": npy(np.zeros((21, 2))), "y": npy(np.arange(21.0))},
            task="regression",
            loss={"name": "l2"},
        ),
        upload_csv(
            limited,
            "a,b,t\n" + "1,2,3\n" * 21,
            target="t",
            task="regression",
            loss={"name": "l2"},
        ),
    ):
        err = assert_error(r, 413, code="too_many_elements")
        assert "LOSSCORE_TRAIN_MAX_ELEMENTS" in err["message"]
        assert "42" in err["message"] and "40" in err["message"]


def test_max_iter_and_time_limit_caps_name_the_setting(limited: Client) -> None:
    r = limited.post("/v1/train", json={**_regression(), "max_iter": 501})
    err = assert_error(r, 422, "max_iter", code="limit_exceeded")
    assert "LOSSCORE_TRAIN_MAX_ITER" in err["message"] and "500" in err["message"]
    r = limited.post("/v1/train", json={**_regression(), "time_limit_s": 5.5})
    err = assert_error(r, 422, "time_limit_s", code="limit_exceeded")
    assert "LOSSCORE_TRAIN_MAX_SECONDS" in err["message"]
    r = upload_csv(
        limited, "a,t\n1,1\n2,2\n", target="t", task="regression", loss={"name": "l2"}, max_iter=501
    )
    assert_error(r, 422, "request.max_iter", code="limit_exceeded")  # the `request` part
    assert limited.post("/v1/train", json={**_regression(), "max_iter": 500}).status_code == 200


def _slow_problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 50))
    y = np.sign(X @ rng.normal(size=50) + rng.normal(size=20_000))
    return X, y


SLOW = {"loss": {"name": "hinge"}, "penalty": {"name": "l2", "alpha": 1e-6}, "tol": 1e-15}


def test_time_limit_returns_the_best_model_so_far(tclient: Client) -> None:
    X, y = _slow_problem()
    files = {"X": npy(X), "y": npy(y)}
    t0 = time.perf_counter()
    r = upload_npy(tclient, files, **SLOW, max_iter=100_000, time_limit_s=0.2)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["converged"] is False
    assert body["stop_reason"] == "time_limit"
    assert body["metrics"]["accuracy"] > 0.8
    assert time.perf_counter() - t0 < 30
    got = tclient.get(f"/v1/models/{body['model_id']}").json()
    assert got["stop_reason"] == "time_limit"
    r = upload_npy(
        tclient, files, **SLOW, max_iter=100_000, time_limit_s=0.2, on_time_limit="error"
    )
    err = assert_error(r, 422, "time_limit_s", code="time_limit")
    assert "0.2 s" in err["message"]
    stored = tclient.get("/v1/models").json()
    assert (
        len(stored["models"]) == 1 and stored["next_cursor"] is None
    )  # the failed fit stored nothing


def test_default_time_limit_is_the_setting(tmp_path: Path) -> None:
    c = _client(tmp_path, train_max_seconds=0.2)
    try:
        X, y = _slow_problem()
        files = {"X": npy(X), "y": npy(y)}
        r = upload_npy(c, files, **SLOW, max_iter=100_000)
        assert r.status_code == 200, r.text
        assert r.json()["stop_reason"] == "time_limit"
        r = upload_npy(c, files, **SLOW, max_iter=100_000, on_time_limit="error")
        err = assert_error(r, 422, "time_limit_s", code="time_limit")
        assert "LOSSCORE_TRAIN_MAX_SECONDS" in err["message"]
    finally:
        c.close()


def test_fits_run_a_bounded_number_at_a_time(
    limited: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = train_router._fit_and_store
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.1)
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(train_router, "_fit_and_store", counting)
    body = _regression()

    async def burst() -> list[int]:
        import anyio

        statuses: list[int] = []

        async def one() -> None:
            r = await limited.client.post("/v1/train", json=body)
            statuses.append(r.status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(one)
        return statuses

    statuses = limited.call(burst)
    assert statuses == [200] * 4
    assert peak[0] == 1  # LOSSCORE_TRAIN_MAX_JOBS = 1


def test_fits_beyond_the_queue_get_a_fast_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One fit running and one waiting (LOSSCORE_TRAIN_MAX_QUEUE = 1): the others are refused
    at once with Retry-After, after validation (a bad request still gets its 422 at once)."""
    c = _client(tmp_path, train_max_jobs=1, train_max_queue=1)
    real = train_router._fit_and_store
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(train_router, "_fit_and_store", slow)

    async def burst() -> list[tuple[int, float, str | None]]:
        import anyio

        out: list[tuple[int, float, str | None]] = []

        async def one(body: Any) -> None:
            t0 = time.perf_counter()
            r = await c.client.post("/v1/train", json=body)
            out.append((r.status_code, time.perf_counter() - t0, r.headers.get("retry-after")))
            if r.status_code == 503 and len([o for o in out if o[0] == 503]) == 2:
                release.set()

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(one, _regression())
                await anyio.sleep(0.05)
            tg.start_soon(one, {**_regression(), "y": [1.0]})  # invalid: 422 without waiting
        return out

    try:
        out = c.call(burst)
    finally:
        release.set()
        c.close()
    statuses = sorted(code for code, _, _ in out)
    assert statuses == [200, 200, 422, 503, 503], out
    for code, seconds, retry in out:
        if code in (503, 422):
            assert seconds < 2.0, out  # answered at once, not after the running fit
        if code == 503:
            assert retry == "5"


def test_training_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("LOSSCORE_TRAIN_MAX_ELEMENTS", "123")
    monkeypatch.setenv("LOSSCORE_TRAIN_MAX_ITER", "77")
    monkeypatch.setenv("LOSSCORE_TRAIN_MAX_SECONDS", "2.5")
    monkeypatch.setenv("LOSSCORE_TRAIN_MAX_JOBS", "3")
    monkeypatch.setenv("LOSSCORE_DATABASE_URL", url)
    s = Settings()
    assert (s.train_max_elements, s.train_max_iter, s.train_max_seconds) == (123, 77, 2.5)
    assert (s.train_max_jobs, s.database_url) == (3, url)
    c = Client(create_app(Settings(data_dir=tmp_path / "unused")))
    try:
        r = c.post("/v1/train", json=_regression())
        assert r.status_code == 200, r.text
        assert (tmp_path / "elsewhere.db").exists()
        assert not (tmp_path / "unused").exists()
        assert_error(c.post("/v1/train", json={**_regression(), "max_iter": 78}), 422, "max_iter")
    finally:
        c.close()


# -- bad data through the JSON API ----------------------------------------------------------------


def _bad(body: dict[str, Any], **changes: Any) -> bytes:
    return json.dumps({**body, **changes}).encode()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"X": [[1.0, float("nan")], [2.0, 1.0]], "y": [1.0, 2.0]}, "X", ["X[0, 1]", "NaN"]),
        ({"X": [[1.0, 2.0], [float("inf"), 1.0]], "y": [1.0, 2.0]}, "X", ["X[1, 0]", "Infinity"]),
        ({"X": [[1.0], [2.0]], "y": [1.0, float("-inf")]}, "y", ["finite"]),
        ({"X": [], "y": []}, "X", ["n = 0"]),
        ({"X": [[], []], "y": [1.0, 2.0]}, "X", ["d = 0"]),
        ({"X": [[1.0, 2.0], [3.0]], "y": [1.0, 2.0]}, "X", ["ragged", "X[1]"]),
        ({"y": [1.0] * 9}, "y", ["9 labels", "10 rows"]),
        ({"sample_weight": [1.0] * 3}, "sample_weight", ["10 rows"]),
        ({"y": ["a"] * 10}, "y", ["real numbers"]),
        ({"loss": {"name": "hinge"}}, "loss.name", ["classification loss"]),
        (
            {"task": "classification", "loss": {"name": "hinge"}, "y": [0] * 10},
            "y",
            ["two classes"],
        ),
        (
            {"task": "classification", "loss": {"name": "l2"}, "y": [0, 1] * 5},
            "loss.name",
            ["regression loss"],
        ),
        (
            {"task": "classification", "loss": {"name": "binary_cross_entropy"}, "y": [0, 1] * 5},
            "loss.name",
            ["cannot be trained"],
        ),
    ],
)
def test_bad_json_data_is_a_422_naming_the_problem(
    tclient: Client, changes: dict[str, Any], field: str, words: list[str]
) -> None:
    raw = _bad(_regression(), **changes)
    for url in ("/v1/train", "/v1/train/stream"):
        r = tclient.post(url, content=raw, headers={"content-type": "application/json"})
        err = assert_error(r, 422, field)
        for word in words:
            assert word in err["message"], (word, err["message"])


def test_constant_feature_under_standardize_is_handled(tclient: Client) -> None:
    body = _regression(20, 2)
    body["X"] = [[*row, 7.0] for row in body["X"]]
    for extra in ({"fit_intercept": True}, {"fit_intercept": False}):
        r = tclient.post("/v1/train", json={**body, "standardize": True, **extra})
        assert r.status_code == 200, r.text
        coef = np.asarray(r.json()["coef"], dtype=float)
        assert np.isfinite(coef).all()
        assert r.json()["converged"] is True
    cls = {**body, "task": "classification", "loss": {"name": "hinge"}, "y": [0, 1] * 10}
    r = tclient.post("/v1/train", json={**cls, "standardize": True})
    assert r.status_code == 200, r.text
    assert np.isfinite(np.asarray(r.json()["coef"], dtype=float)).all()


def _b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr, dtype="<f8").tobytes()).decode()


def test_train_and_predict_accept_every_array_encoding(tclient: Client) -> None:
    """X, y and sample_weight as nested lists, {data} tensors or {b64} tensors fit the same
    model; predict answers decision_function in the request's encoding."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    w = rng.uniform(0.5, 2.0, size=40)
    base = {"task": "regression", "loss": {"name": "l2"}, "penalty": {"name": "none"}}
    bodies = {
        "list": {**base, "X": X.tolist(), "y": y.tolist(), "sample_weight": w.tolist()},
        "data": {
            **base,
            "X": {"shape": [40, 3], "data": X.ravel().tolist()},
            "y": {"shape": [40], "data": y.tolist()},
            "sample_weight": {"shape": [40], "data": w.tolist()},
        },
        "b64": {
            **base,
            "X": {"shape": [40, 3], "b64": _b64(X)},
            "y": {"shape": [40], "b64": _b64(y)},
            "sample_weight": {"shape": [40], "b64": _b64(w)},
        },
    }
    # closed form: weighted least squares with an intercept
    A = np.hstack([X, np.ones((40, 1))])
    sw = np.sqrt(w)
    expected = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
    for encoding, body in bodies.items():
        r = tclient.post("/v1/train", json=body)
        assert r.status_code == 200, (encoding, r.text)
        fitted = r.json()
        np.testing.assert_allclose(fitted["coef"], [expected[:3]], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fitted["intercept"], [expected[3]], rtol=1e-8, atol=1e-10)
        Xq = X[:5]
        query = {
            "list": Xq.tolist(),
            "data": {"shape": [5, 3], "data": Xq.ravel().tolist()},
            "b64": {"shape": [5, 3], "b64": _b64(Xq)},
        }[encoding]
        p = tclient.post(f"/v1/models/{fitted['model_id']}/predict", json={"X": query})
        assert p.status_code == 200, (encoding, p.text)
        dec = p.json()["decision_function"]
        if encoding == "list":
            values = np.asarray(dec)
        elif encoding == "data":
            assert dec["shape"] == [5, 1]  # [n][n_outputs]
            values = np.asarray(dec["data"]).reshape(5, 1)
        else:
            assert dec["shape"] == [5, 1]
            values = np.frombuffer(base64.b64decode(dec["b64"]), dtype="<f8").reshape(5, 1)
        assert values.shape == (5, 1)
        np.testing.assert_allclose(values[:, 0], Xq @ expected[:3] + expected[3], rtol=1e-8)


def test_train_rejects_non_2d_and_bad_tensor_x(tclient: Client) -> None:
    base = {"task": "regression", "loss": {"name": "l2"}, "y": [1.0, 2.0]}
    r = tclient.post("/v1/train", json={**base, "X": [1.0, 2.0]})
    assert r.status_code == 422
    assert "X" in r.text and "2-d" in r.text
    r = tclient.post("/v1/train", json={**base, "X": {"shape": [2, 2], "data": [1.0, 2.0, 3.0]}})
    assert r.status_code == 422
    assert "X.data" in r.text
