"""The calls every generated client makes, their inputs, and the oracle for their answers.

Each client driver (Python: ``test_python_clients.py``; TypeScript: ``scenario.ts``) calls every
endpoint with the inputs of :data:`INPUTS` and reports what it parsed, turned back into plain
JSON by the client's own serialiser (``to_dict`` / ``...ToJSON``): data that a generated model
drops or mangles on the way in shows up here. :func:`check` compares those results with
``losscore`` computed in this process (evaluate, fit, the closed forms of predict), never with
the service's own output.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import losscore
from losscore.train import fit

HERE = Path(__file__).resolve().parent


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode()


def _npy(a: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


def _inputs() -> dict[str, Any]:
    rng = np.random.default_rng(42)
    Xc = rng.normal(size=(30, 2))
    yc = np.where(Xc @ [1.5, -1.0] + 0.3 * rng.normal(size=30) > 0, "yes", "no")
    Xm = np.vstack([rng.normal(loc=c, size=(12, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    ym = np.repeat([0, 1, 2], 12)
    Xr = rng.normal(size=(40, 3))
    yr = Xr @ [1.0, -2.0, 0.5] + 0.7 + rng.standard_t(3, size=40)
    csv = "a,b,target\n" + "".join(
        f"{a!r},{b!r},{t!r}\n" for (a, b), t in zip(Xr[:, :2].tolist(), yr.tolist(), strict=True)
    )
    p32 = np.array([0.5, -1.25, 3.0, 0.0], dtype=np.float32)
    return {
        "Xc": Xc.tolist(),
        "yc": yc.tolist(),
        "Xm": Xm.tolist(),
        "ym": ym.tolist(),
        "Xr": Xr.tolist(),
        "yr": yr.tolist(),
        "Xr_b64": _b64(Xr),
        "csv": csv,
        "p32": p32.tolist(),
        "binary_octets": _b64(np.array([1.0, -2.0, 0.5, 0.0, 0.0, 0.0])),
        "npy_prediction": _npy(np.array([[0.5, 3.0], [-2.0, 0.1]])),
        "npy_target": _npy(np.zeros((2, 2))),
        "b64_prediction": _b64(np.array([0.2, -1.5, 4.0])),
        "b64_weight": _b64(np.array([1.0, 2.0, 0.5])),
    }


INPUTS = _inputs()


def write_inputs(path: Path) -> None:
    path.write_text(json.dumps(INPUTS), encoding="utf-8")


# -- what the drivers send (JSON bodies; typed drivers build the same objects) ---------------

EVALUATE_LIST = {
    "loss": {"name": "huber", "delta": 1.0},
    "prediction": [[0.5, 3.0], [-2.0, 0.1]],
    "target": [[0.0, 0.0], [0.0, 0.0]],
    "reduction": "mean",
    "hessian": True,
}
EVALUATE_DATA32 = {
    "loss": {"name": "smooth_l1", "beta": 0.5},
    "prediction": {"shape": [2, 2], "dtype": "float32", "data": INPUTS["p32"]},
    "target": [[0.0, 0.0], [0.0, 0.0]],
    "reduction": "sum",
}
EVALUATE_B64 = {
    "loss": {"name": "l2"},
    "prediction": {"shape": [3], "dtype": "float64", "b64": INPUTS["b64_prediction"]},
    "target": [0.0, 1.0, 2.0],
    "weight": {"shape": [3], "dtype": "float64", "b64": INPUTS["b64_weight"]},
}
EVALUATE_SCALAR = {"loss": {"name": "mse"}, "prediction": 2.0, "target": 0.5, "reduction": "none"}
EVALUATE_OVERFLOW = {
    "loss": {"name": "exponential"},
    "prediction": [-1000.0, 0.0],
    "target": [1.0, 1.0],
    "reduction": "sum",
}
COMPARE = {
    "losses": [{"name": "l1"}, {"name": "l2"}, {"name": "smooth_l1", "beta": 0.5}],
    "prediction": [0.2, -2.0],
    "target": [0.0, 0.0],
}
# a dataset the server reads from its LOSSCORE_DATASET_ROOTS (written by the server fixture)
DATASET_ROWS = [(0.5, 0.0), (-1.0, 0.5), (2.0, 2.5), (0.25, -0.75)]
DATASET_CSV = "p,t\n" + "".join(f"{p!r},{t!r}\n" for p, t in DATASET_ROWS)
EVALUATE_DATASET = {
    "loss": {"name": "l2"},
    "dataset": {"format": "csv", "path": "preds.csv", "prediction": ["p"], "target": "t"},
    "reduction": "sum",
}
NORM = {"norm": {"name": "l1"}, "x": [3.0, -0.5], "step": 1.0}
BINARY_HEADER = {"loss": {"name": "l1"}, "encoding": "list", "prediction_shape": [3]}
NPY_HEADER = {"loss": {"name": "huber", "delta": 1.0}, "encoding": "list"}

TRAIN_CLASSIFICATION = {
    "task": "classification",
    "loss": {"name": "svm"},  # an alias of hinge
    "penalty": {"name": "l2", "alpha": 0.01},
    "X": INPUTS["Xc"],
    "y": INPUTS["yc"],
}
TRAIN_MULTICLASS = {
    "task": "classification",
    "loss": {"name": "softmax_cross_entropy", "label_smoothing": 0.1},
    "penalty": {"name": "l2", "alpha": 0.001},
    "X": INPUTS["Xm"],
    "y": INPUTS["ym"],
}
TRAIN_REGRESSION = {
    "task": "regression",
    "loss": {"name": "huber", "delta": 1.5},
    "penalty": {"name": "elastic_net", "alpha": 0.01, "l1_ratio": 0.3},
    "X": INPUTS["Xr"],
    "y": INPUTS["yr"],
}
TRAIN_TENSORS = {
    "task": "regression",
    "loss": {"name": "quantile", "q": 0.3},
    "penalty": {"name": "l1", "alpha": 0.01},
    "X": {"shape": [40, 3], "dtype": "float64", "b64": INPUTS["Xr_b64"]},
    "y": {"shape": [40], "dtype": "float64", "data": INPUTS["yr"]},
}
TRAIN_UPLOAD = {"task": "regression", "loss": {"name": "l2"}, "target": "target"}

# -- the oracle ------------------------------------------------------------------------------


def _approx(got: Any, expected: Any, rel: float = 1e-12, abs_: float = 1e-12) -> None:
    np.testing.assert_allclose(
        np.asarray(got, dtype=float), np.asarray(expected), rtol=rel, atol=abs_
    )


def _array(value: Any) -> np.ndarray:
    """An ArrayOut as a client turned it back into JSON: a number, a nested list, or a tensor
    object (data with "Infinity" strings, or b64)."""
    if isinstance(value, dict):
        shape = value["shape"]
        if value.get("b64") is not None:
            dt = np.dtype(value["dtype"]).newbyteorder("<")
            return np.frombuffer(base64.b64decode(value["b64"]), dtype=dt).reshape(shape)
        data = [
            float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf"))
            for v in value["data"]
        ]
        return np.asarray(data, dtype=value["dtype"]).reshape(shape)
    return np.asarray(value, dtype=float)


def _check_evaluation(got: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    loss = dict(body["loss"])
    name = loss.pop("name")

    def arr(v: Any) -> Any:
        return _array(v) if isinstance(v, dict | list | float | int) else v

    prediction = arr(body["prediction"])
    target = arr(body["target"])
    weight = None if body.get("weight") is None else arr(body["weight"])
    if np.asarray(prediction).dtype == np.float32 and isinstance(body["target"], list):
        target = np.asarray(target, dtype=np.float32)  # lists follow the prediction's dtype
    ev = losscore.evaluate(
        name,
        prediction,
        target,
        weight=weight,
        reduction=body.get("reduction", "mean"),
        hessian=bool(body.get("hessian", False)),
        **loss,
    )
    assert got["loss"]["name"] == ev.loss
    if ev.value is None:
        assert got["value"] is None
    elif math.isfinite(ev.value):
        assert got["value"] == pytest.approx(
            ev.value, rel=1e-6 if ev.dtype == np.float32 else 1e-13
        )
    else:
        assert got["value"] == ("Infinity" if ev.value > 0 else "-Infinity")
    for key in ("elementwise", "gradient"):
        np.testing.assert_allclose(_array(got[key]), getattr(ev, key), rtol=1e-6, atol=0)
    if ev.hessian is not None:
        np.testing.assert_allclose(_array(got["hessian"]), ev.hessian, rtol=1e-13)
    assert got["dtype"] == str(ev.dtype)
    assert got["shape"] == list(ev.shape)


def _fit_of(body: Mapping[str, Any], X: Any = None, y: Any = None) -> losscore.FitResult:
    loss = dict(body["loss"])
    name = loss.pop("name")
    penalty = dict(body["penalty"]) if "penalty" in body else {"name": "l2"}
    return fit(
        np.asarray(X if X is not None else body["X"], dtype=float),
        np.asarray(y if y is not None else body["y"]),
        task=body["task"],
        loss=name,
        loss_params=loss,
        penalty=penalty.pop("name"),
        alpha=penalty.get("alpha", 1e-4),
        l1_ratio=penalty.get("l1_ratio", 0.5),
    )


def _check_model(got: Mapping[str, Any], ref: losscore.FitResult) -> None:
    """A Model against a fit computed here: one shape per concept, the same optimum."""
    coef = np.atleast_2d(ref.coef)
    assert np.asarray(got["coef"]).shape == coef.shape  # always [n_outputs][n_features]
    assert np.asarray(got["intercept"]).shape == (coef.shape[0],)
    _approx(got["coef"], coef, rel=1e-7, abs_=1e-9)
    _approx(got["intercept"], np.atleast_1d(ref.intercept), rel=1e-7, abs_=1e-9)
    assert got["objective"] == pytest.approx(ref.objective, rel=1e-10)
    assert got["loss"] == {"name": ref.loss, **ref.loss_params}
    assert got["penalty"] == {"name": ref.penalty, **ref.penalty_params()}
    assert got["n_outputs"] == coef.shape[0] and got["n_features"] == coef.shape[1]
    expected_classes = None if ref.classes is None else ref.classes.tolist()
    if expected_classes is not None and isinstance(expected_classes[0], int):
        assert [float(c) for c in got["classes"]] == [float(c) for c in expected_classes]
    else:
        assert got["classes"] == expected_classes
    assert got["converged"] is True
    created = got["created_at"]  # RFC 3339 text, or the client's parsed datetime
    if isinstance(created, datetime):
        assert created.utcoffset() == timedelta(0)
    else:
        assert isinstance(created, str) and created.endswith(("Z", "+00:00"))
        datetime.fromisoformat(created)


def _scores(model: Mapping[str, Any], X: Any) -> np.ndarray:
    return np.asarray(X, dtype=float) @ np.asarray(model["coef"]).T + np.asarray(model["intercept"])


def check(results: Mapping[str, Any]) -> None:
    """Every result of a driver against its oracle."""
    assert results["healthz"] == {"status": "ok"}
    assert results["keyless"] == 401  # the server needs the key the client was configured with
    assert results["readyz"]["losses"] == len(losscore.loss_names())
    assert results["metrics"] is True
    assert results["list_losses"] == list(losscore.loss_names())
    assert results["get_loss"]["name"] == "l2"
    curve = losscore.loss_curve("huber", start=-3, stop=3, num=5, delta=2.0)
    _approx(_array(results["curve"]["value"]), curve.value)
    _approx(_array(results["curve"]["gradient"]), curve.gradient)
    assert [(k["x"], k["order"]) for k in results["curve"]["kinks"]] == [(-2.0, 2), (2.0, 2)]
    assert "<svg" in results["plot"] and "</svg>" in results["plot"]
    assert results["list_norms"] == list(losscore.norm_names())
    prox = losscore.evaluate_norm("l1", [3.0, -0.5], step=1.0).prox
    _approx(_array(results["evaluate_norm"]["prox"]), prox)

    _check_evaluation(results["evaluate_list"], EVALUATE_LIST)
    _check_evaluation(results["evaluate_data32"], EVALUATE_DATA32)
    assert results["evaluate_data32"]["elementwise"]["dtype"] == "float32"
    _check_evaluation(results["evaluate_b64"], EVALUATE_B64)
    assert results["evaluate_b64"]["gradient"]["b64"]
    _check_evaluation(results["evaluate_scalar"], EVALUATE_SCALAR)
    _check_evaluation(results["evaluate_overflow"], EVALUATE_OVERFLOW)
    assert results["evaluate_overflow"]["elementwise"]["data"][0] == "Infinity"
    assert results["evaluate_overflow"]["overflow"] is True
    for got, loss in zip(results["compare"]["results"], COMPARE["losses"], strict=True):
        _check_evaluation(got, {**COMPARE, "loss": loss})
    # Σ (p − t)² over the dataset's rows, by hand
    ds = results["evaluate_dataset"]
    assert ds["value"] == pytest.approx(sum((p - t) ** 2 for p, t in DATASET_ROWS), rel=1e-12)
    assert ds["rows"] == len(DATASET_ROWS) and ds["files"] == []
    assert ds["loss"] == {"name": "l2"} and ds["reduction"] == "sum"
    raw = np.frombuffer(base64.b64decode(INPUTS["binary_octets"]), dtype="<f8")
    _check_evaluation(
        results["evaluate_binary"],
        {"loss": {"name": "l1"}, "prediction": raw[:3], "target": raw[3:]},
    )
    _check_evaluation(
        results["evaluate_npy"],
        {
            "loss": {"name": "huber", "delta": 1.0},
            "prediction": [[0.5, 3.0], [-2.0, 0.1]],
            "target": [[0, 0], [0, 0]],
        },
    )

    _check_model(results["train_classification"], _fit_of(TRAIN_CLASSIFICATION))
    _check_model(results["train_multiclass"], _fit_of(TRAIN_MULTICLASS))
    _check_model(results["train_regression"], _fit_of(TRAIN_REGRESSION))
    _check_model(results["train_tensors"], _fit_of(TRAIN_TENSORS, INPUTS["Xr"], INPUTS["yr"]))
    Xr = np.asarray(INPUTS["Xr"])
    upload = _fit_of({**TRAIN_UPLOAD, "X": Xr[:, :2], "y": INPUTS["yr"]})
    _check_model(results["train_upload"], upload)
    stream = results["train_stream"]
    assert stream["events"][0] == "progress" and stream["events"][-1] == "model"
    assert stream["first_progress"]["iteration"] == 1
    _check_model(stream["model"], _fit_of(TRAIN_CLASSIFICATION))

    trained = [
        results[k]["model_id"]
        for k in (
            "train_classification",
            "train_multiclass",
            "train_regression",
            "train_tensors",
            "train_upload",
        )
    ] + [stream["model"]["model_id"]]
    listed = results["list_models"]
    assert len(listed) == len(set(listed))  # cursor pages neither repeat nor skip
    assert set(trained) <= set(listed)
    assert results["get_model"] == results["train_classification"]

    cls = results["train_classification"]
    pred = results["predict_list"]
    scores = _scores(cls, INPUTS["Xc"][:5])
    _approx(_array(pred["decision_function"]), scores, rel=1e-12, abs_=1e-12)
    assert pred["prediction"] == [cls["classes"][int(s > 0)] for s in scores[:, 0]]
    assert pred["probability"] is None  # hinge has no probability link
    multi = results["train_multiclass"]
    pred = results["predict_b64"]
    scores = _scores(multi, INPUTS["Xm"][:5])
    _approx(_array(pred["decision_function"]), scores, rel=1e-12, abs_=1e-12)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    _approx(_array(pred["probability"]), e / e.sum(axis=1, keepdims=True), rel=1e-12, abs_=1e-15)
    assert [float(p) for p in pred["prediction"]] == [float(np.argmax(s)) for s in scores]
    assert results["delete"] == {"deleted": 204, "then": 404}
