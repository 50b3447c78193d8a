"""Named columns over HTTP: CSV, Parquet and JSON-records training choose `features`,
`target` and `weight`; the stored model keeps its feature names; predict takes records keyed
by them (a missing or extra key is a 422 naming it). Oracles: fits on the same columns picked
out by hand with the csv module, and the classic soft-margin SVM on iris (setosa against the
rest on sepal length and petal width) separating the two classes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import Client

IRIS = (Path(__file__).resolve().parents[2] / "examples" / "iris.csv").read_bytes()
ROWS = list(csv.DictReader(io.StringIO(IRIS.decode())))
FEATURES = ["sepal_length", "petal_width"]
SVM = {
    "task": "classification",
    "loss": {"name": "hinge"},
    "penalty": {"name": "l2", "alpha": 1e-3},
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    c = Client(create_app(Settings(data_dir=tmp_path, database_url=None)))
    yield c
    c.close()


def _setosa_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*ROWS[0].keys()])
    for r in ROWS:
        writer.writerow([*list(r.values())[:4], "setosa" if r["species"] == "setosa" else "other"])
    return out.getvalue().encode()


def _upload(client: Client, data: bytes, name: str = "iris.csv", **options: Any) -> Any:
    return client.post(
        "/v1/train/upload",
        data={"request": json.dumps({**SVM, **options})},
        files={"data": (name, data, "application/octet-stream")},
    )


def _by_hand(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[float(r[n]) for n in names] for r in ROWS])
    y = np.array(["setosa" if r["species"] == "setosa" else "other" for r in ROWS])
    return X, y


def test_the_soft_margin_svm_on_named_iris_columns(client: Client) -> None:
    r = _upload(client, _setosa_csv(), target="species", features=FEATURES)
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["feature_names"] == FEATURES and model["classes"] == ["other", "setosa"]
    X, y = _by_hand(FEATURES)
    by_hand = client.post("/v1/train", json={**SVM, "X": X.tolist(), "y": y.tolist()}).json()
    np.testing.assert_allclose(model["coef"], by_hand["coef"], rtol=1e-9)
    f = X @ np.asarray(model["coef"][0]) + model["intercept"][0]
    assert np.all((f > 0) == (y == "setosa"))  # setosa is linearly separable from the rest
    listed = {m["model_id"]: m for m in client.get("/v1/models").json()["models"]}
    assert listed[model["model_id"]]["feature_names"] == FEATURES
    assert listed[by_hand["model_id"]]["feature_names"] is None


def test_predict_takes_records_by_name_in_any_key_order(client: Client) -> None:
    model = _upload(client, _setosa_csv(), target="species", features=FEATURES).json()
    X, _ = _by_hand(FEATURES)
    records = [{"petal_width": row[1], "sepal_length": row[0]} for row in X[:20]]
    url = f"/v1/models/{model['model_id']}/predict"
    by_records = client.post(url, json={"records": records}).json()
    by_rows = client.post(url, json={"X": X[:20].tolist()}).json()
    assert by_records == by_rows
    for record, words in [
        ({"sepal_length": 5.1}, "lacks column 'petal_width'"),
        ({"sepal_length": 5.1, "petal_width": 0.2, "petal_length": 1.4}, "'petal_length'"),
        ({"sepal_length": "x", "petal_width": 0.2}, "not a number"),
    ]:
        err = client.post(url, json={"records": [record]}).json()["error"]
        assert err["details"][0]["field"] == "records", err
        assert words in err["message"], err
    both = client.post(url, json={"records": records, "X": X[:20].tolist()})
    assert both.status_code == 422 and "exactly one" in both.json()["error"]["message"]


def test_records_need_a_model_with_feature_names(client: Client) -> None:
    X, y = _by_hand(FEATURES)
    model = client.post("/v1/train", json={**SVM, "X": X.tolist(), "y": y.tolist()}).json()
    assert model["feature_names"] is None
    r = client.post(f"/v1/models/{model['model_id']}/predict", json={"records": [{"a": 1.0}]})
    assert r.status_code == 422 and "no feature names" in r.json()["error"]["message"]


def test_json_records_and_parquet_train_as_the_csv(client: Client) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    csv_model = _upload(client, _setosa_csv(), target="species", features=FEATURES).json()
    X, y = _by_hand(["sepal_length", "sepal_width", "petal_length", "petal_width"])
    records = [
        {"sepal_length": a, "sepal_width": b, "petal_length": c, "petal_width": d, "species": s}
        for (a, b, c, d), s in zip(X.tolist(), y.tolist(), strict=True)
    ]
    table = {"records": records, "target": "species", "features": FEATURES}
    from_json = client.post("/v1/train", json={**SVM, "table": table}).json()
    buf = io.BytesIO()
    columns = {n: X[:, j] for j, n in enumerate(records[0]) if n != "species"}
    pq.write_table(pa.table({**columns, "species": y}), buf)
    from_parquet = _upload(client, buf.getvalue(), "iris.parquet", target="species",
                           features=[0, 3]).json()  # fmt: skip
    for other in (from_json, from_parquet):
        assert other["feature_names"] == FEATURES, other
        np.testing.assert_allclose(other["coef"], csv_model["coef"], rtol=1e-12)
        np.testing.assert_allclose(other["intercept"], csv_model["intercept"], rtol=1e-12)


def test_a_weight_column_weighs_like_the_sample_weight_part(client: Client) -> None:
    w = np.linspace(0.5, 2.0, len(ROWS))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["w", *ROWS[0].keys()])
    for wi, r in zip(w, ROWS, strict=True):
        writer.writerow([repr(float(wi)), *r.values()])
    with_column = _upload(client, out.getvalue().encode(), target="species", weight="w",
                          features=FEATURES).json()  # fmt: skip
    npy = io.BytesIO()
    np.save(npy, w)
    with_part = client.post(
        "/v1/train/upload",
        data={"request": json.dumps({**SVM, "target": "species", "features": FEATURES})},
        files={"data": ("iris.csv", IRIS, "text/csv"), "sample_weight": ("w.npy", npy.getvalue())},
    ).json()
    np.testing.assert_allclose(with_column["coef"], with_part["coef"], rtol=1e-10)
    unweighted = _upload(client, IRIS, target="species", features=FEATURES).json()
    assert not np.allclose(unweighted["coef"], with_part["coef"], rtol=1e-6)


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"target": "species", "features": ["sepal_length", "petal_widht"]},
         "request.features", ["'petal_widht'", "columns: sepal_length"]),
        ({"target": "kind"}, "request.target", ["'kind'"]),
        ({"target": "species", "features": [9]}, "request.features", ["index 9", "5 columns"]),
        ({"target": "species", "weight": "species"}, "request.weight", ["target"]),
        ({"features": FEATURES}, "request.target", ["required"]),
    ],
)  # fmt: skip
def test_column_errors_name_the_option(
    client: Client, options: dict[str, Any], field: str, words: list[str]
) -> None:
    r = _upload(client, IRIS, **options)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["details"][0]["field"] == field, err
    for word in words:
        assert word in err["message"], (word, err["message"])


def test_table_errors_name_the_table_field(client: Client) -> None:
    records = [{"a": 1.0, "y": 0}, {"a": 2.0, "y": 1}]
    r = client.post("/v1/train", json={**SVM, "table": {"records": records, "target": "z"}})
    assert r.json()["error"]["details"][0]["field"] == "table.target"
    r = client.post(
        "/v1/train",
        json={**SVM, "table": {"records": records, "target": "y"}, "X": [[1.0]], "y": [0]},
    )
    assert r.status_code == 422 and "not both" in r.json()["error"]["message"]
