"""``losscore train`` and ``losscore predict`` in-process, against scikit-learn on the iris
table (docs/TRAINING.md, "Mapping to scikit-learn": C = 1/(alpha·n))."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC

from losscore.train import FitResult, predict
from tests.cli._cli import EXAMPLES, run

IRIS = str(EXAMPLES / "iris.csv")
OUTLIERS = str(EXAMPLES / "outliers.csv")


def _iris(columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    with open(IRIS, newline="") as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r[c]) for c in columns] for r in rows])
    return X, np.array([r["species"] for r in rows])


@pytest.fixture(scope="module")
def hinge_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The issue's command: hinge on two named iris columns, saved as a model file."""
    path = tmp_path_factory.mktemp("models") / "hinge.json"
    got = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--features",
        "sepal_length,petal_width",
        "--loss",
        "hinge",
        "--alpha",
        "1e-3",
        "--output",
        str(path),
        "--json",
    ).json()
    return path, got


def test_log_loss_matches_scikit_learn(tmp_path: Path) -> None:
    alpha = 1e-2
    got = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--loss",
        "log_loss",
        "--alpha",
        str(alpha),
        "--tol",
        "1e-10",
        "--json",
    ).json()
    model = got["model"]
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert model["feature_names"] == names and got["model_id"] is None
    X, y = _iris(names)
    C = 1.0 / (alpha * len(y))
    ovr = OneVsRestClassifier(LogisticRegression(C=C, tol=1e-12, max_iter=100_000)).fit(X, y)
    assert model["classes"] == ovr.classes_.tolist()
    coef = np.array([e.coef_[0] for e in ovr.estimators_])
    intercept = np.array([e.intercept_[0] for e in ovr.estimators_])
    np.testing.assert_allclose(np.array(model["coef"]), coef, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.array(model["intercept"]), intercept, rtol=1e-4, atol=1e-5)
    assert model["converged"] and model["multiclass"] == "ovr"


def test_hinge_one_vs_rest_matches_svc(hinge_model: tuple[Path, dict[str, Any]]) -> None:
    path, got = hinge_model
    model = got["model"]
    assert got["output"] == str(path)
    assert model["feature_names"] == ["sepal_length", "petal_width"]
    assert model["loss"] == {"name": "hinge", "threshold": 1.0}
    assert model["penalty"] == {"name": "l2", "alpha": 1e-3}
    X, y = _iris(["sepal_length", "petal_width"])
    k = model["classes"].index("setosa")
    svc = SVC(kernel="linear", C=1.0 / (1e-3 * len(y)), tol=1e-10).fit(X, y == "setosa")
    np.testing.assert_allclose(np.array(model["coef"][k]), svc.coef_[0], atol=1e-4)
    # the setosa score separates setosa from the rest
    scores = X @ np.array(model["coef"][k]) + model["intercept"][k]
    assert np.all((scores > 0) == (y == "setosa"))
    # the saved file is the same model
    assert (
        FitResult.from_dict(json.loads(path.read_text())).to_dict()
        == FitResult.from_dict(model).to_dict()
    )


def test_summary_names_the_coefficients() -> None:
    r = run(
        "train",
        OUTLIERS,
        "--target",
        "y",
        "--loss",
        "huber",
        "--param",
        "delta=0.5",
        "--penalty",
        "none",
    )
    assert r.code == 0, r.err
    fields = dict(line.split(None, 1) for line in r.out.splitlines() if line and " " in line)
    assert fields["loss"] == "huber(delta=0.5)" and fields["penalty"] == "none"
    assert fields["converged"].startswith("yes") and "r2" in fields
    assert any(line.split()[0] == "x" for line in r.out.splitlines() if line.strip())
    assert "(intercept)" in r.out


def test_json_records_and_parquet_fit_as_the_csv(tmp_path: Path) -> None:
    with open(OUTLIERS, newline="") as f:
        records = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    (tmp_path / "o.json").write_text(json.dumps(records))
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "o.parquet")
    args = ["--target", "y", "--loss", "huber", "--penalty", "none", "--json"]
    fits = [
        run("train", str(p), *args).json()["model"]
        for p in (OUTLIERS, tmp_path / "o.json", tmp_path / "o.parquet")
    ]
    for other in fits[1:]:
        assert other["coef"] == pytest.approx(fits[0]["coef"], rel=1e-12)
        assert other["intercept"] == pytest.approx(fits[0]["intercept"], rel=1e-12)


def test_column_errors_name_the_column() -> None:
    r = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--features",
        "sepal_length,petal_widht",
        "--loss",
        "hinge",
    )
    assert r.code == 1
    assert r.err.startswith(
        "error: --features[1]: column 'petal_widht' is not in the table "
        "(columns: sepal_length, sepal_width, petal_length, petal_width, species)"
    )
    r = run("train", IRIS, "--target", "specie", "--loss", "hinge")
    assert r.code == 1 and r.err.startswith("error: --target: column 'specie' is not in the table")
    r = run("train", IRIS, "--target", "9", "--loss", "hinge")
    assert r.code == 1 and "column index 9 is out of range" in r.err


def test_option_errors() -> None:
    r = run(
        "train", OUTLIERS, "--target", "y", "--loss", "huber", "--penalty", "none", "--alpha", "1"
    )
    assert r.code == 1 and r.err.startswith(
        "error: --alpha: the penalty 'none' has no parameter alpha"
    )
    r = run("train", OUTLIERS, "--target", "y", "--loss", "huber", "--penalty", "l3")
    assert r.code == 1 and r.err.startswith("error: --penalty: unknown name 'l3'")
    r = run("train", IRIS, "--target", "species", "--loss", "huber")  # a regression loss
    assert r.code == 1 and "column 'species', line 2: 'setosa' is not a finite number" in r.err
    r = run("train", str(EXAMPLES / "X.npy"), "--target", "0", "--loss", "huber")
    assert r.code == 1 and "unknown file type '.npy'" in r.err


def test_predict_with_the_saved_model(
    hinge_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, _ = hinge_model
    got = run("predict", "--model", str(path), IRIS, "--ignore-extra", "--json").json()
    X, y = _iris(["sepal_length", "petal_width"])
    expected = predict(FitResult.from_dict(json.loads(path.read_text())), X)
    assert got["prediction"] == expected.prediction.tolist()
    np.testing.assert_array_equal(np.array(got["decision_function"]), expected.decision_function)
    assert got["feature_names"] == ["sepal_length", "petal_width"] and got["n"] == len(y)
    assert all(p == "setosa" for p, t in zip(got["prediction"], y, strict=True) if t == "setosa")
    # rows as .npy, and the predictions written as CSV
    np.save(tmp_path / "rows.npy", X)
    out = tmp_path / "preds.csv"
    r = run("predict", "--model", str(path), str(tmp_path / "rows.npy"), "--output", str(out))
    assert r.code == 0, r.err
    with out.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction", "score_setosa", "score_versicolor", "score_virginica"]
    assert [r[0] for r in rows[1:]] == expected.prediction.tolist()
    np.testing.assert_array_equal(
        np.array(rows[1:])[:, 1:].astype(float), expected.decision_function
    )


def test_predict_column_errors(hinge_model: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, _ = hinge_model
    r = run("predict", "--model", str(path), IRIS)
    assert r.code == 1
    assert "has column 'sepal_width', which is not one of the model's features" in r.err
    assert "--ignore-extra" in r.err
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("sepal_length,petal_wdth\n5.1,0.2\n")
    r = run("predict", "--model", str(path), str(lacking), "--ignore-extra")
    assert r.code == 1 and "lacks column 'petal_width'" in r.err
    r = run("predict", "--model", str(EXAMPLES / "iris.csv"), IRIS)
    assert r.code == 1 and "not a model file" in r.err
