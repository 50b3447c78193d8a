"""POST /v1/evaluate/binary: raw little-endian bytes and .npy multipart."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest

import losscore
from tests.service.conftest import Client, assert_error
from tests.service.test_evaluate import decode

RNG = np.random.default_rng(3)


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def octets(client: Client, header: dict[str, Any], raw: bytes) -> Any:
    return client.post(
        "/v1/evaluate/binary",
        content=raw,
        headers={
            "content-type": "application/octet-stream",
            "x-losscore-request": json.dumps(header),
        },
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_octet_stream(client: Client, dtype: str) -> None:
    pred = RNG.normal(size=(4, 5)).astype(dtype)
    target = RNG.normal(size=(4, 5)).astype(dtype)
    weight = RNG.uniform(size=(4, 5)).astype(dtype)
    header = {
        "loss": {"name": "huber", "delta": 0.5},
        "dtype": dtype,
        "prediction_shape": [4, 5],
        "weight_shape": [4, 5],
        "hessian": True,
    }
    raw = pred.astype("<" + pred.dtype.str[1:]).tobytes() + target.tobytes() + weight.tobytes()
    r = octets(client, header, raw)
    assert r.status_code == 200, r.text
    got = r.json()
    want = losscore.evaluate("huber", pred, target, weight=weight, delta=0.5, hessian=True)
    assert got["dtype"] == dtype
    assert got["value"] == pytest.approx(want.value, rel=1e-6)
    np.testing.assert_array_equal(decode(got["gradient"]), want.gradient)
    np.testing.assert_array_equal(decode(got["hessian"]), want.hessian)


def test_octet_stream_default_shapes_and_list_encoding(client: Client) -> None:
    raw = np.array([1.0, -2.0, 0.0, 0.0]).tobytes()
    got = octets(client, {"loss": {"name": "l1"}, "encoding": "list"}, raw).json()
    assert got["value"] == 1.5
    assert got["gradient"] == [0.5, -0.5]


def test_npy_multipart(client: Client) -> None:
    pred = RNG.normal(size=(6, 3))
    target = np.array([0, 2, 1, 1, 0, 2])
    files = {
        "prediction": ("p.npy", npy(pred), "application/octet-stream"),
        "target": ("t.npy", npy(target), "application/octet-stream"),
    }
    data = {"request": json.dumps({"loss": {"name": "softmax_cross_entropy"}, "reduction": "sum"})}
    r = client.post("/v1/evaluate/binary", files=files, data=data)
    assert r.status_code == 200, r.text
    got = r.json()
    want = losscore.evaluate("softmax_cross_entropy", pred, target, reduction="sum")
    assert got["value"] == pytest.approx(want.value)
    np.testing.assert_array_equal(decode(got["gradient"]), want.gradient)


def test_npy_refuses_pickles(client: Client) -> None:
    obj = np.array([{"a": 1}], dtype=object)
    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=True)
    files = {
        "prediction": ("p.npy", buf.getvalue(), "application/octet-stream"),
        "target": ("t.npy", npy(np.zeros(1)), "application/octet-stream"),
    }
    data = {"request": json.dumps({"loss": {"name": "l1"}})}
    assert_error(client.post("/v1/evaluate/binary", files=files, data=data), 422, "prediction")


@pytest.mark.parametrize(
    ("header", "raw", "field"),
    [
        (None, np.zeros(2).tobytes(), "X-Losscore-Request"),
        ({"loss": {"name": "nope"}}, np.zeros(2).tobytes(), "X-Losscore-Request.loss.name"),
        ({"loss": {"name": "l1"}}, b"\x00" * 12, "body"),
        ({"loss": {"name": "l1"}}, np.zeros(3).tobytes(), "body"),
        ({"loss": {"name": "l1"}, "prediction_shape": [2]}, np.zeros(3).tobytes(), "body"),
        ({"loss": {"name": "l1"}}, np.array([np.nan, 0.0]).tobytes(), "prediction"),
        (
            {"loss": {"name": "l1"}, "prediction_shape": [-1]},
            b"",
            "X-Losscore-Request.prediction_shape",
        ),
        # empty, but not representable by NumPy: was a 500 ("Maximum allowed dimension")
        (
            {"loss": {"name": "l1"}, "reduction": "sum", "prediction_shape": [0, 10**30]},
            b"",
            "prediction",
        ),
        (
            {"loss": {"name": "l1"}, "prediction_shape": [1], "target_shape": [1, 0, 10**20]},
            np.zeros(1).tobytes(),
            "target",
        ),
    ],
)
def test_octet_stream_errors(client: Client, header: Any, raw: bytes, field: str) -> None:
    headers = {"content-type": "application/octet-stream"}
    if header is not None:
        headers["x-losscore-request"] = json.dumps(header)
    r = client.post("/v1/evaluate/binary", content=raw, headers=headers)
    assert_error(r, 422, field)


def test_binary_bad_header_json_and_media_type(client: Client) -> None:
    r = client.post(
        "/v1/evaluate/binary",
        content=b"",
        headers={"content-type": "application/octet-stream", "x-losscore-request": "{"},
    )
    assert_error(r, 400)
    r = client.post("/v1/evaluate/binary", content=b"x", headers={"content-type": "text/csv"})
    assert_error(r, 415, code="unsupported_media_type")
    files = {"prediction": ("p.npy", b"not npy", "application/octet-stream")}
    data = {"request": json.dumps({"loss": {"name": "l1"}})}
    assert_error(client.post("/v1/evaluate/binary", files=files, data=data), 422, "target")
    files["target"] = ("t.npy", b"not npy", "application/octet-stream")
    assert_error(client.post("/v1/evaluate/binary", files=files, data=data), 422, "prediction")


def test_raw_binary_response(client: Client) -> None:
    pred = RNG.normal(size=(3, 2))
    target = RNG.normal(size=(3, 2))
    header = {"loss": {"name": "log_cosh"}, "prediction_shape": [3, 2], "hessian": True}
    r = client.post(
        "/v1/evaluate/binary",
        content=pred.tobytes() + target.tobytes(),
        headers={
            "content-type": "application/octet-stream",
            "accept": "application/octet-stream",
            "x-losscore-request": json.dumps(header),
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    meta = json.loads(r.headers["x-losscore-result"])
    want = losscore.evaluate("log_cosh", pred, target, hessian=True)
    assert meta["value"] == pytest.approx(want.value)
    assert [p["name"] for p in meta["parts"]] == ["elementwise", "gradient", "hessian"]
    parts = np.frombuffer(r.content, dtype="<f8").reshape(3, 3, 2)
    np.testing.assert_array_equal(parts[0], want.elementwise)
    np.testing.assert_array_equal(parts[1], want.gradient)
    np.testing.assert_array_equal(parts[2], want.hessian)
