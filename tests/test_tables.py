"""losscore.tables: named columns read from CSV text and JSON records, selected by name or
index, and rows to predict in a model's feature order; every error names the column and the
line or record. Oracles: the columns picked out here by hand with NumPy / the csv module."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from losscore.errors import InvalidInputError
from losscore.tables import read_csv, records_table, rows_of_records, select, with_feature_names
from losscore.train import FitResult, fit

IRIS = (Path(__file__).resolve().parents[1] / "examples" / "iris.csv").read_bytes()


def _by_hand(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    rows = list(csv.DictReader(io.StringIO(IRIS.decode())))
    X = np.array([[float(r[n]) for n in names] for r in rows])
    return X, np.array([r["species"] for r in rows])


def test_features_by_name_and_index_in_the_order_given() -> None:
    table = read_csv(IRIS)
    by_name = select(table, target="species", features=["petal_width", "sepal_length"],
                     classification=True)  # fmt: skip
    by_index = select(table, target=4, features=[3, 0], classification=True)
    X, y = _by_hand(["petal_width", "sepal_length"])
    for sel in (by_name, by_index):
        np.testing.assert_array_equal(sel.X, X)
        np.testing.assert_array_equal(sel.y, y)
        assert sel.feature_names == ["petal_width", "sepal_length"]
        assert sel.sample_weight is None


def test_default_features_leave_out_the_target_and_the_weight() -> None:
    text = b"a,w,b,y\n1,0.5,2,3\n4,2,5,6.5\n"
    sel = select(read_csv(text), target="y", weight="w", classification=False)
    assert sel.feature_names == ["a", "b"]
    np.testing.assert_array_equal(sel.X, [[1.0, 2.0], [4.0, 5.0]])
    np.testing.assert_array_equal(sel.y, [3.0, 6.5])
    np.testing.assert_array_equal(sel.sample_weight, [0.5, 2.0])


def test_labels_are_integers_numbers_or_text() -> None:
    def labels(cells: list[str]) -> np.ndarray:
        text = "x,y\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells))
        return select(read_csv(text.encode()), target="y", classification=True).y

    assert labels(["0", "1", "1"]).dtype == np.int64
    assert labels(["0.5", "1", "1"]).dtype == np.float64
    np.testing.assert_array_equal(labels([" cat", "dog ", "cat"]), ["cat", "dog", "cat"])


@pytest.mark.parametrize(
    ("text", "kwargs", "field", "words"),
    [
        (b"a,y\n1,2\n", {"target": "z"}, "target", ["'z'", "columns: a, y"]),
        (b"a,y\n1,2\n", {"target": "y", "features": ["a", "b"]}, "features", ["'b'"]),
        (b"a,y\n1,2\n", {"target": 5}, "target", ["index 5", "2 columns"]),
        (b"a,y\n1,2\n", {"target": "y", "features": ["a", "a"]}, "features", ["twice"]),
        (b"a,y\n1,2\n", {"target": "y", "features": ["y"]}, "features", ["target"]),
        (b"a,y\n1,2\n", {"target": "y", "weight": "y"}, "weight", ["target"]),
        (b"a,y\nx,2\n", {"target": "y"}, "data", ["column 'a'", "line 2", "'x'"]),
        (b"a,y\n1,inf\n", {"target": "y"}, "data", ["column 'y'", "finite"]),
        (b"a,a,y\n1,2,3\n", {"target": "y"}, "data", ["twice"]),
        (b"a,y\n1,2,3\n", {"target": "y"}, "data", ["line 2", "3 cells"]),
        (b"a,y\n", {"target": "y"}, "data", ["no data rows"]),
        (b"\xff\xfe", {"target": "y"}, "data", ["UTF-8"]),
        (b"y\n1\n", {"target": "y"}, "data", ["d = 0"]),
    ],
)
def test_errors_name_the_field_and_the_column(
    text: bytes, kwargs: dict[str, object], field: str, words: list[str]
) -> None:
    with pytest.raises(InvalidInputError) as err:
        select(read_csv(text), classification=False, prefix="", **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    for word in words:
        assert word in err.value.reason, (word, err.value.reason)


def test_option_fields_carry_the_prefix() -> None:
    with pytest.raises(InvalidInputError) as err:
        select(read_csv(b"a,y\n1,2\n"), target="q", classification=False, prefix="request.")
    assert err.value.field == "request.target"


def test_records_train_like_the_same_csv() -> None:
    rows = list(csv.DictReader(io.StringIO(IRIS.decode())))
    records = [{k: (v if k == "species" else float(v)) for k, v in r.items()} for r in rows]
    from_records = select(records_table(records), target="species",
                          features=["sepal_length", "petal_width"], classification=True)  # fmt: skip
    from_csv = select(read_csv(IRIS), target="species",
                      features=["sepal_length", "petal_width"], classification=True)  # fmt: skip
    np.testing.assert_array_equal(from_records.X, from_csv.X)
    np.testing.assert_array_equal(from_records.y, from_csv.y)
    bad = [*records[:2], {"sepal_length": 1.0}]
    with pytest.raises(InvalidInputError) as err:
        records_table(bad)
    assert err.value.index == (2,) and "lacks column 'sepal_width'" in err.value.reason


def test_rows_of_records_follow_the_model_and_refuse_missing_or_extra_keys() -> None:
    names = ["sepal_length", "petal_width"]
    X = rows_of_records([{"petal_width": 0.2, "sepal_length": 5.1}, {"sepal_length": 7.0,
                         "petal_width": 1.4}], names)  # fmt: skip
    np.testing.assert_array_equal(X, [[5.1, 0.2], [7.0, 1.4]])
    cases = [
        ({"sepal_length": 5.1}, "lacks column 'petal_width'"),
        ({"sepal_length": 5.1, "petal_width": 0.2, "petal_length": 1.4}, "'petal_length'"),
        ({"sepal_length": "5.1", "petal_width": 0.2}, "not a number"),
        ({"sepal_length": True, "petal_width": 0.2}, "not a number"),
        ({"sepal_length": float("nan"), "petal_width": 0.2}, "not finite"),
    ]
    for record, words in cases:
        with pytest.raises(InvalidInputError) as err:
            rows_of_records([record], names)
        assert err.value.field == "records" and words in err.value.reason


def test_feature_names_round_trip_with_the_model() -> None:
    sel = select(read_csv(IRIS), target="species", features=["sepal_length", "petal_width"],
                 classification=True)  # fmt: skip
    model = fit(sel.X, sel.y, task="classification", loss="hinge", alpha=1e-3)
    named = with_feature_names(model, sel.feature_names)
    again = FitResult.from_dict(named.to_dict())
    assert again.feature_names == ("sepal_length", "petal_width")
    assert FitResult.from_dict(model.to_dict()).feature_names is None
    with pytest.raises(InvalidInputError):
        with_feature_names(model, ["only_one"])
