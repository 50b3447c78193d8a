"""POST /v1/evaluate and /v1/compare: numbers against losscore and closed forms, encodings."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

import losscore
from tests.service.conftest import Client

RNG = np.random.default_rng(7)
PRED = RNG.normal(size=(3, 4)) * 2
TARGET = RNG.normal(size=(3, 4))
LABELS = RNG.integers(0, 2, size=(3, 4)).astype(float)
WEIGHT = RNG.uniform(0.1, 2.0, size=(3, 4))


def b64(arr: np.ndarray) -> dict[str, Any]:
    return {
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "b64": base64.b64encode(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).decode(),
    }


def decode(obj: Any) -> np.ndarray:
    if isinstance(obj, dict):
        if "b64" in obj and obj["b64"] is not None:
            raw = base64.b64decode(obj["b64"])
            return np.frombuffer(raw, dtype=np.dtype(obj["dtype"]).newbyteorder("<")).reshape(
                obj["shape"]
            )
        return np.asarray(obj["data"], dtype=obj["dtype"]).reshape(obj["shape"])
    return np.asarray(obj, dtype=float)


def inputs_for(spec: losscore.LossSpec) -> tuple[np.ndarray, np.ndarray]:
    if spec.kind == "regression":
        return PRED, TARGET
    if spec.kind == "binary":
        if spec.name == "binary_cross_entropy":
            return 1 / (1 + np.exp(-PRED)), LABELS
        return PRED, LABELS
    return PRED, np.array([0.0, 3.0, 1.0])


@pytest.mark.parametrize("spec", losscore.list_losses(), ids=lambda s: s.name)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_loss_matches_losscore(
    client: Client, spec: losscore.LossSpec, reduction: str
) -> None:
    pred, target = inputs_for(spec)
    weight = None if spec.kind == "multiclass" else WEIGHT
    body = {
        "loss": {"name": spec.name},
        "prediction": pred.tolist(),
        "target": target.tolist(),
        "weight": None if weight is None else weight.tolist(),
        "reduction": reduction,
        "hessian": True,
    }
    r = client.post("/v1/evaluate", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    want = losscore.evaluate(
        spec.name, pred, target, weight=weight, reduction=reduction, hessian=True
    )
    assert got["loss"] == {"name": spec.name, **want.params}
    assert got["reduction"] == reduction
    if reduction == "none":
        assert got["value"] is None
    else:
        assert got["value"] == pytest.approx(want.value, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(decode(got["elementwise"]), want.elementwise, rtol=1e-12)
    np.testing.assert_allclose(decode(got["gradient"]), want.gradient, rtol=1e-12)
    assert want.hessian is not None
    np.testing.assert_allclose(decode(got["hessian"]), want.hessian, rtol=1e-12)
    assert got["shape"] == list(pred.shape)
    assert got["dtype"] == "float64"
    assert got["overflow"] is False


def test_huber_closed_form(client: Client) -> None:
    r = np.array([0.5, -3.0, 2.0])
    body = {"loss": {"name": "huber", "delta": 2.0}, "prediction": r.tolist(), "target": [0, 0, 0]}
    got = client.post("/v1/evaluate", json={**body, "reduction": "none"}).json()
    # 0.5 r^2 inside |r| <= delta, delta (|r| - delta / 2) outside
    assert got["elementwise"] == pytest.approx([0.125, 2.0 * (3.0 - 1.0), 2.0])
    assert got["gradient"] == pytest.approx([0.5, -2.0, 2.0])
    mean = client.post("/v1/evaluate", json=body).json()
    assert mean["value"] == pytest.approx((0.125 + 4.0 + 2.0) / 3)
    assert mean["gradient"] == pytest.approx([0.5 / 3, -2.0 / 3, 2.0 / 3])


def test_smooth_l1_and_l2_closed_forms(client: Client) -> None:
    body = {"prediction": [0.2, 3.0], "target": [0.0, 0.0], "reduction": "sum", "hessian": True}
    got = client.post("/v1/evaluate", json={**body, "loss": {"name": "smooth_l1"}}).json()
    assert got["value"] == pytest.approx(0.5 * 0.04 + 2.5)
    assert got["gradient"] == pytest.approx([0.2, 1.0])
    assert got["hessian"] == pytest.approx([1.0, 0.0])
    got = client.post("/v1/evaluate", json={**body, "loss": {"name": "mse"}}).json()
    assert got["loss"] == {"name": "l2"}
    assert got["value"] == pytest.approx(0.04 + 9.0)
    assert got["gradient"] == pytest.approx([0.4, 6.0])
    assert got["hessian"] == pytest.approx([2.0, 2.0])


def test_weighted_mean_is_sum_w_l_over_sum_w(client: Client) -> None:
    body = {
        "loss": {"name": "l1"},
        "prediction": [1.0, -2.0, 4.0],
        "target": [0, 0, 0],
        "weight": [1.0, 3.0, 0.0],
    }
    got = client.post("/v1/evaluate", json=body).json()
    assert got["value"] == pytest.approx((1 + 6) / 4)


@pytest.mark.parametrize("encoding", ["list", "data", "b64"])
def test_request_encoding_is_answered_in_kind(client: Client, encoding: str) -> None:
    arrays = {"prediction": PRED, "target": TARGET}
    if encoding == "list":
        enc = {k: v.tolist() for k, v in arrays.items()}
    elif encoding == "data":
        enc = {
            k: {"shape": list(v.shape), "dtype": "float64", "data": v.ravel().tolist()}
            for k, v in arrays.items()
        }
    else:
        enc = {k: b64(v) for k, v in arrays.items()}
    got = client.post("/v1/evaluate", json={"loss": {"name": "log_cosh"}, **enc}).json()
    want = losscore.evaluate("log_cosh", PRED, TARGET)
    grad = got["gradient"]
    if encoding == "list":
        assert isinstance(grad, list)
    else:
        assert set(grad) >= {"shape", "dtype", encoding}
    np.testing.assert_array_equal(decode(grad), want.gradient)
    assert got["value"] == want.value


def test_encoding_override(client: Client) -> None:
    body = {"loss": {"name": "l2"}, "prediction": [1.0, 2.0], "target": [0, 0], "encoding": "b64"}
    got = client.post("/v1/evaluate", json=body).json()
    np.testing.assert_array_equal(decode(got["gradient"]), [1.0, 2.0])
    assert "b64" in got["gradient"]


@pytest.mark.parametrize("kind", ["data", "b64"])
def test_float32_in_float32_out(client: Client, kind: str) -> None:
    pred = PRED.astype(np.float32)
    target = TARGET.astype(np.float32)
    if kind == "b64":
        p, t = b64(pred), b64(target)
    else:
        p = {"shape": [3, 4], "dtype": "float32", "data": pred.ravel().tolist()}
        t = target.tolist()  # a nested list follows the prediction's dtype
    got = client.post(
        "/v1/evaluate", json={"loss": {"name": "huber"}, "prediction": p, "target": t}
    )
    body = got.json()
    assert body["dtype"] == "float32"
    grad = decode(body["gradient"])
    want = losscore.evaluate("huber", pred, target)
    assert want.gradient.dtype == np.float32
    np.testing.assert_allclose(grad, want.gradient, rtol=1e-6)
    if kind == "b64":
        assert grad.dtype == np.float32
        np.testing.assert_array_equal(grad, want.gradient)


def test_scalar_and_empty_arrays(client: Client) -> None:
    got = client.post(
        "/v1/evaluate", json={"loss": {"name": "l2"}, "prediction": 3.0, "target": 1.0}
    ).json()
    assert got["value"] == 4.0
    assert got["gradient"] == 4.0
    assert got["shape"] == []
    got = client.post(
        "/v1/evaluate",
        json={"loss": {"name": "l2"}, "prediction": [], "target": [], "reduction": "sum"},
    ).json()
    assert got["value"] == 0.0
    assert got["elementwise"] == []


def test_multiclass_class_indices(client: Client) -> None:
    scores = [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]
    got = client.post(
        "/v1/evaluate",
        json={"loss": {"name": "cross_entropy"}, "prediction": scores, "target": [0, 2]},
    ).json()
    want = losscore.evaluate("softmax_cross_entropy", np.array(scores), np.array([0, 2]))
    assert got["value"] == pytest.approx(want.value)
    assert got["loss"]["name"] == "softmax_cross_entropy"
    assert np.asarray(got["gradient"]).shape == (2, 3)


def test_overflow_is_explicit_not_null(client: Client) -> None:
    body = {
        "loss": {"name": "exponential"},
        "prediction": [-1000.0, 0.0],
        "target": [1, 1],
        "reduction": "none",
    }
    got = client.post("/v1/evaluate", json=body).json()
    assert got["overflow"] is True
    # nested lists carry finite numbers only: with an overflow the array is a data tensor
    assert got["elementwise"] == {"shape": [2], "dtype": "float64", "data": ["Infinity", 1.0]}
    assert got["gradient"] == {"shape": [2], "dtype": "float64", "data": ["-Infinity", -1.0]}
    got = client.post("/v1/evaluate", json={**body, "reduction": "sum"}).json()
    assert got["value"] == "Infinity"
    got = client.post("/v1/evaluate", json={**body, "encoding": "b64"}).json()
    assert np.isposinf(decode(got["elementwise"])[0])


def test_compare_in_order(client: Client) -> None:
    body = {
        "losses": [{"name": "l1"}, {"name": "l2"}, {"name": "smooth_l1", "beta": 0.5}],
        "prediction": [0.2, -2.0],
        "target": [0.0, 0.0],
    }
    r = client.post("/v1/compare", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["loss"]["name"] for x in results] == ["l1", "l2", "smooth_l1"]
    assert results[0]["value"] == pytest.approx(1.1)
    assert results[1]["value"] == pytest.approx((0.04 + 4) / 2)
    assert results[2]["value"] == pytest.approx((0.5 * 0.04 / 0.5 + 2 - 0.25) / 2)
    assert results[2]["loss"] == {"name": "smooth_l1", "beta": 0.5}


def test_compare_names_the_failing_loss(client: Client) -> None:
    body = {
        "losses": [{"name": "l1"}, {"name": "hinge"}],
        "prediction": [0.2, -2.0],
        "target": [0.5, 0.0],
    }
    r = client.post("/v1/compare", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "target"
