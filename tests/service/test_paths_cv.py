"""``POST /v1/train/path`` and ``penalty.alpha: {"cv": ...}`` over HTTP: the same numbers as
the library, the CV table stored with the model, ``cv`` events on the stream, the SVG plots,
and 422s naming the field for bad grids and too few samples."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

import losscore.train as lt
from tests.service.conftest import Client, assert_error

RNG = np.random.default_rng(21)
X = RNG.normal(size=(60, 3))
Y = X @ np.array([1.5, 0.0, -1.0]) + 0.4 * RNG.normal(size=60) + 0.5
LABELS = np.where(X @ np.array([1.0, -1.0, 0.5]) + 0.5 * RNG.normal(size=60) > 0, "up", "down")


def _body(**extra: Any) -> dict[str, Any]:
    body = {"task": "regression", "loss": {"name": "huber"}, "X": X.tolist(), "y": Y.tolist()}
    return body | extra


def test_path_equals_the_library(client: Client) -> None:
    r = client.post("/v1/train/path", json=_body(penalty={"name": "l1"}, n_alphas=6))
    assert r.status_code == 200, r.text
    got = r.json()
    want = lt.path(X, Y, task="regression", loss="huber", penalty="l1", n_alphas=6)
    assert got["alpha_zero"] == pytest.approx(want.alpha_zero, rel=1e-12)
    assert [p["alpha"] for p in got["points"]] == pytest.approx(want.alphas.tolist(), rel=1e-15)
    for point, fit in zip(got["points"], want.fits, strict=True):
        np.testing.assert_allclose(point["coef"][0], fit.coef, rtol=1e-9, atol=1e-12)
        assert point["objective"] == pytest.approx(fit.objective, rel=1e-12)
        assert point["converged"] and point["nonzero"] == int(np.count_nonzero(fit.coef))
    assert got["points"][0]["nonzero"] == 0 and got["points"][-1]["nonzero"] > 0
    assert got["complete"] and got["penalty"]["name"] == "l1"


def test_path_over_a_given_grid_with_classes(client: Client) -> None:
    body = {"task": "classification", "loss": {"name": "log_loss"}, "X": X.tolist(),
            "y": LABELS.tolist(), "penalty": {"name": "l2"}, "alphas": [1.0, 0.1, 0.01]}  # fmt: skip
    got = client.post("/v1/train/path", json=body).json()
    assert got["classes"] == ["down", "up"] and got["alpha_zero"] is None
    for point, alpha in zip(got["points"], [1.0, 0.1, 0.01], strict=True):
        cold = lt.fit(X, LABELS, task="classification", loss="log_loss", alpha=alpha)
        assert point["objective"] == pytest.approx(cold.objective, rel=1e-7)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"alphas": [0.1, 1.0]}, "alphas"),
        ({"alphas": [1.0, 0.0]}, "alphas"),
        ({"alphas": [1.0, -1.0]}, "alphas"),
        ({"n_alphas": 101}, "n_alphas"),
        ({"alphas": list(np.geomspace(1, 1e-3, 101))}, "alphas"),
        ({"n_alphas": 0}, "n_alphas"),
        ({"alpha_min_ratio": 1.5}, "alpha_min_ratio"),
        ({"penalty": {"name": "none"}}, "penalty"),
        ({"penalty": {"name": "l1", "alpha": {"cv": {}}}}, "penalty.alpha"),
    ],
)
def test_bad_path_requests_are_422s(client: Client, extra: dict[str, Any], field: str) -> None:
    body = _body(penalty={"name": "l1"}) | extra
    assert_error(client.post("/v1/train/path", json=body), 422, field=field)


def test_cross_validated_alpha_is_stored_with_its_table(client: Client) -> None:
    cv = {"folds": 4, "n_alphas": 8, "scoring": "accuracy", "random_state": 3, "select": "one_se"}
    body = {"task": "classification", "loss": {"name": "log_loss"}, "X": X.tolist(),
            "y": LABELS.tolist(), "penalty": {"name": "l1", "alpha": {"cv": cv}}}  # fmt: skip
    r = client.post("/v1/train", json=body)
    assert r.status_code == 200, r.text
    model = r.json()
    want = lt.cross_validate(X, LABELS, task="classification", loss="log_loss", penalty="l1",
                             cv=4, n_alphas=8, scoring="accuracy", random_state=3,
                             select="one_se")  # fmt: skip
    table = model["cv"]
    assert table["kind"] == "stratified" and table["select"] == "one_se"
    sk = np.full(60, -1)
    for j, (_, test) in enumerate(
        StratifiedKFold(4, shuffle=True, random_state=3).split(X, LABELS)
    ):
        sk[test] = j
    assert table["folds"] == sk.tolist()
    np.testing.assert_allclose(table["scores"], want.scores, rtol=1e-12)
    assert table["alpha"] == pytest.approx(want.alpha_one_se) == model["penalty"]["alpha"]
    np.testing.assert_allclose(model["coef"][0], want.model.coef, rtol=1e-9, atol=1e-12)
    # stored: the same table comes back
    again = client.get(f"/v1/models/{model['model_id']}").json()
    assert again["cv"] == table
    marks = {
        "path": ["Regularisation path", f"chosen α = {table['alpha']:.3g}", "x0", "x2"],
        "cv": ["held-out accuracy", f"α_min = {table['alpha_min']:.3g}", "α_1se ="],
    }
    for name, texts in marks.items():
        svg = client.get(f"/v1/models/{model['model_id']}/plots/{name}.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert "<svg" in svg.text
        for text in texts:
            assert text in svg.text, (name, text)


def test_plots_of_a_model_without_cv_are_404(client: Client) -> None:
    model = client.post("/v1/train", json=_body(penalty={"name": "l2", "alpha": 0.1})).json()
    for name in ("path", "cv"):
        err = assert_error(client.get(f"/v1/models/{model['model_id']}/plots/{name}.svg"), 404)
        assert err["code"] == "no_cv"
    assert model["cv"] is None


def test_the_stream_reports_every_fold_and_alpha(client: Client) -> None:
    body = _body(penalty={"name": "elastic_net", "alpha": {"cv": {"folds": 3, "n_alphas": 4}}})
    r = client.post("/v1/train/stream", json=body)
    assert r.status_code == 200, r.text
    events = [
        (block.split("\n")[0][7:], json.loads(block.split("\n")[1][6:]))
        for block in r.text.strip().split("\n\n")
    ]
    cv = [data for name, data in events if name == "cv"]
    assert [(e["fold"], e["index"]) for e in cv] == [
        *((f, i) for f in range(3) for i in range(4)),
        *((None, i) for i in range(4)),
    ]
    assert all(e["score"] is not None for e in cv if e["fold"] is not None)
    assert events[-1][0] == "model" and events[-1][1]["cv"]["kind"] == "kfold"


@pytest.mark.parametrize(
    ("cv", "field"),
    [
        ({"alphas": [0.1, 1.0]}, "penalty.alpha.cv.alphas"),
        ({"n_alphas": 101}, "penalty.alpha.cv.n_alphas"),
        ({"folds": 1}, "penalty.alpha.cv.folds"),
        ({"folds": 3, "groups": [1, 2] * 30}, "penalty.alpha.cv.groups"),
        ({"groups": [1, 2, 3]}, "penalty.alpha.cv.groups"),
        ({"scoring": "accuracy"}, "penalty.alpha.cv.scoring"),
        ({"folds": "5"}, "penalty.alpha.cv.folds"),
    ],
)
def test_bad_cross_validation_requests_are_422s(
    client: Client, cv: dict[str, Any], field: str
) -> None:
    body = _body(penalty={"name": "l1", "alpha": {"cv": cv}})
    assert_error(client.post("/v1/train", json=body), 422, field=field)


def test_too_few_members_of_a_class_is_a_422(client: Client) -> None:
    y = LABELS.copy()
    y[:2] = "rare"
    body = {"task": "classification", "loss": {"name": "hinge"}, "X": X.tolist(),
            "y": y.tolist(), "penalty": {"name": "l2", "alpha": {"cv": {"folds": 5}}}}  # fmt: skip
    err = assert_error(client.post("/v1/train", json=body), 422, field="penalty.alpha.cv.folds")
    assert "only 2 samples" in err["message"]


def test_a_negative_alpha_still_names_the_field(client: Client) -> None:
    err = assert_error(client.post("/v1/train", json=_body(penalty={"name": "l1", "alpha": -1})),
                       422, field="penalty.alpha")  # fmt: skip
    assert "greater than or equal to 0" in err["message"]


def test_the_size_of_a_path_is_checked_before_it_runs(tmp_path: Any) -> None:
    from service.app import create_app
    from service.settings import Settings

    small = Client(create_app(Settings(data_dir=tmp_path, database_url=None,
                                       train_max_elements=1000, warm_up=False)))  # fmt: skip
    try:
        Xb = RNG.normal(size=(100, 5))
        yb = np.arange(100) % 5
        body = {"task": "classification", "loss": {"name": "hinge"}, "X": Xb.tolist(),
                "y": yb.tolist(), "penalty": {"name": "l2"}, "n_alphas": 3}  # fmt: skip
        err = assert_error(small.post("/v1/train/path", json=body), 413)
        assert err["code"] == "too_many_elements"
        bad = body | {"loss": {"name": "huber"}}  # a regression loss for a classification
        assert_error(small.post("/v1/train/path", json=bad), 422, field="loss.name")
    finally:
        small.close()


def test_zero_weight_fold_and_bad_groups_are_422s_before_fitting(client: Client) -> None:
    groups = np.repeat(np.arange(6), 10)
    w = np.ones(60)
    w[groups == 1] = 0.0
    cv = {"folds": 6, "groups": groups.tolist()}
    body = _body(penalty={"name": "l1", "alpha": {"cv": cv}}, sample_weight=w.tolist())
    err = assert_error(client.post("/v1/train", json=body), 422, field="sample_weight")
    assert "zero total weight" in err["message"]
