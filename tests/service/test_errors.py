"""Hostile inputs: every one is a 4xx in the common shape naming the field; never a 500."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.service.conftest import Client, assert_error

OK: dict[str, Any] = {"loss": {"name": "l1"}, "prediction": [1.0, 2.0], "target": [0.0, 1.0]}


def body(**changes: Any) -> dict[str, Any]:
    out = dict(OK)
    out.update(changes)
    return out


# (case id, JSON body or raw bytes, expected status, field named in the error)
JSON_CASES: list[tuple[str, Any, int, str]] = [
    ("ragged", body(prediction=[[1.0, 2.0], [3.0]]), 422, "prediction"),
    ("ragged-deep", body(prediction=[[[1.0], [2.0]], [[3.0], 4.0]]), 422, "prediction"),
    ("bool-in-list", body(prediction=[1.0, True]), 422, "prediction"),
    ("string-in-list", body(target=[1.0, "2"]), 422, "target"),
    ("null-in-list", body(target=[1.0, None]), 422, "target"),
    ("object-array", body(prediction={"a": 1}), 422, "prediction.shape"),
    ("string-array", body(prediction="abc"), 422, "prediction"),
    ("null-array", body(prediction=None), 422, "prediction"),
    ("shape-mismatch", body(target=[0.0, 1.0, 2.0]), 422, "target"),
    (
        "tensor-length",
        body(prediction={"shape": [3], "dtype": "float64", "data": [1, 2]}),
        422,
        "prediction.data",
    ),
    (
        "tensor-bad-dtype",
        body(prediction={"shape": [2], "dtype": "int8", "data": [1, 2]}),
        422,
        "prediction.dtype",
    ),
    (
        "tensor-both",
        body(prediction={"shape": [2], "data": [1, 2], "b64": "AAAA"}),
        422,
        "prediction",
    ),
    ("tensor-b64-bad", body(prediction={"shape": [2], "b64": "@@@"}), 422, "prediction.b64"),
    (
        "tensor-b64-length",
        body(prediction={"shape": [2], "b64": "AAAAAAAAAAA="}),
        422,
        "prediction.b64",
    ),
    (
        "tensor-b64-nan",
        body(
            prediction={
                "shape": [2],
                "b64": __import__("base64").b64encode(np.array([1.0, np.nan]).tobytes()).decode(),
            }
        ),
        422,
        "prediction",
    ),
    (
        "tensor-negative-shape",
        body(prediction={"shape": [-2], "data": [1, 2]}),
        422,
        "prediction.shape",
    ),
    (  # empty, but NumPy cannot represent the shape: was a 500
        "tensor-empty-huge-dim",
        body(
            prediction={"shape": [0, 10**30], "data": []},
            target={"shape": [0, 10**30], "b64": ""},
            reduction="sum",
        ),
        422,
        "prediction",
    ),
    (
        "float32-overflow",
        body(prediction={"shape": [2], "dtype": "float32", "data": [1e39, 0]}),
        422,
        "prediction.data",
    ),
    ("unknown-loss", body(loss={"name": "nope"}), 422, "loss.name"),
    ("missing-loss-name", body(loss={"delta": 1.0}), 422, "loss.name"),
    ("unknown-param", body(loss={"name": "huber", "gamma": 1.0}), 422, "loss.gamma"),
    ("param-out-of-bounds", body(loss={"name": "huber", "delta": 0.0}), 422, "loss.delta"),
    ("param-negative-beta", body(loss={"name": "smooth_l1", "beta": -1}), 422, "loss.beta"),
    ("param-string", body(loss={"name": "huber", "delta": "1"}), 422, "loss.delta"),
    ("quantile-above-1", body(loss={"name": "quantile", "q": 1.5}), 422, "loss.q"),
    ("labels", body(loss={"name": "hinge"}, target=[0.0, 2.0]), 422, "target"),
    ("labels-mixed", body(loss={"name": "hinge"}, target=[0.0, -1.0]), 422, "target"),
    (
        "bce-probability",
        body(loss={"name": "binary_cross_entropy"}, prediction=[0.5, 1.5]),
        422,
        "prediction",
    ),
    (
        "class-index",
        body(loss={"name": "softmax_cross_entropy"}, prediction=[[1.0, 2.0]], target=[2]),
        422,
        "target",
    ),
    ("empty-mean", body(prediction=[], target=[]), 422, "prediction"),
    ("negative-weight", body(weight=[1.0, -1.0]), 422, "weight"),
    ("zero-weights-mean", body(weight=[0.0, 0.0]), 422, "weight"),
    ("weight-shape", body(weight=[1.0]), 422, "weight"),
    ("bad-reduction", body(reduction="max"), 422, "reduction"),
    ("bad-encoding", body(encoding="xml"), 422, "encoding"),
    ("hessian-not-bool", body(hessian="yes"), 422, "hessian"),
    ("extra-field", body(extra=1), 422, "extra"),
    ("missing-target", {"loss": {"name": "l1"}, "prediction": [1.0]}, 422, "target"),
    ("not-an-object", [1, 2, 3], 422, "body"),
]

RAW_CASES: list[tuple[str, bytes, int, str]] = [
    (
        "nan-literal",
        b'{"loss":{"name":"l1"},"prediction":[1.0,NaN],"target":[0,0]}',
        422,
        "prediction",
    ),
    (
        "inf-literal",
        b'{"loss":{"name":"l1"},"prediction":[1.0,2.0],"target":[0,-Infinity]}',
        422,
        "target",
    ),
    (
        "nan-param",
        b'{"loss":{"name":"huber","delta":NaN},"prediction":[1.0],"target":[0]}',
        422,
        "loss.delta",
    ),
    ("truncated", b'{"loss": {"name": "l1"}, "prediction": [1.0', 400, "body"),
    ("not-json", b"hello", 400, "body"),
    ("empty-body", b"", 400, "body"),
    ("invalid-utf8", b'{"loss": "\xff\xfe"}', 400, "body"),
    ("deep-nesting", b'{"prediction":' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "body"),
]


@pytest.mark.parametrize(
    ("case", "payload", "status", "field"), JSON_CASES, ids=[c[0] for c in JSON_CASES]
)
def test_hostile_json(client: Client, case: str, payload: Any, status: int, field: str) -> None:
    r = client.post("/v1/evaluate", json=payload)
    assert_error(r, status, field)


@pytest.mark.parametrize(
    ("case", "raw", "status", "field"), RAW_CASES, ids=[c[0] for c in RAW_CASES]
)
def test_hostile_bytes(client: Client, case: str, raw: bytes, status: int, field: str) -> None:
    r = client.post("/v1/evaluate", content=raw, headers={"content-type": "application/json"})
    assert_error(r, status, field)


def test_nan_reports_index(client: Client) -> None:
    raw = b'{"loss":{"name":"l1"},"prediction":[[1.0,2.0],[3.0,NaN]],"target":[[0,0],[0,0]]}'
    err = assert_error(client.post("/v1/evaluate", content=raw), 422, "prediction")
    assert err["details"][0]["index"] == [1, 1]
    assert err["details"][0]["reason"] == "must be finite, found NaN"
    raw = b'{"loss":{"name":"l1"},"prediction":[1.0],"target":[-Infinity]}'
    err = assert_error(client.post("/v1/evaluate", content=raw), 422, "target")
    assert err["details"][0] == {
        "field": "target",
        "index": [0],
        "reason": "must be finite, found -Infinity",
    }


def test_label_error_reports_index(client: Client) -> None:
    err = assert_error(
        client.post("/v1/evaluate", json=body(loss={"name": "hinge"}, target=[1.0, 7.0])),
        422,
        "target",
    )
    assert err["details"][0]["index"] == [1]
    assert "7" in err["details"][0]["reason"]


def test_compare_errors_name_the_list_position(client: Client) -> None:
    base = {"prediction": [1.0], "target": [0.0]}
    bad_param = {**base, "losses": [{"name": "l1"}, {"name": "huber", "delta": -1}]}
    assert_error(client.post("/v1/compare", json=bad_param), 422, "losses[1].delta")
    bad_name = {**base, "losses": [{"name": "l1"}, {"name": "zzz"}]}
    assert_error(client.post("/v1/compare", json=bad_name), 422, "losses[1].name", "unknown_name")
    assert_error(client.post("/v1/compare", json={**base, "losses": []}), 422, "losses")


def test_unknown_loss_lists_valid_names(client: Client) -> None:
    err = assert_error(
        client.post("/v1/evaluate", json=body(loss={"name": "nope"})), 422, "loss.name"
    )
    assert err["code"] == "unknown_name"
    for name in ("l1", "huber", "log_loss", "softmax_cross_entropy"):
        assert name in err["message"]


def test_body_too_large(small_client: Client) -> None:
    big = body(prediction=[1.0] * 3000, target=[0.0] * 3000)
    assert_error(small_client.post("/v1/evaluate", json=big), 413, code="body_too_large")


def test_body_too_large_without_content_length(small_client: Client) -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1000

    r = small_client.post("/v1/evaluate", content=chunks())
    assert_error(r, 413, code="body_too_large")


def test_too_many_elements(small_client: Client) -> None:
    many = body(prediction=[1.0] * 60, target=[0.0] * 60)
    assert_error(small_client.post("/v1/evaluate", json=many), 422, "prediction")
    per_request = body(prediction=[1.0] * 45, target=[0.0] * 45, weight=[1.0] * 45)
    assert_error(small_client.post("/v1/evaluate", json=per_request), 422, "body")
    tensor = body(prediction={"shape": [10**12], "b64": ""})
    assert_error(small_client.post("/v1/evaluate", json=tensor), 422, "prediction")


def test_too_many_compare_losses(small_client: Client) -> None:
    many = {**body(), "losses": [{"name": "l1"}] * 3}
    many.pop("loss")
    assert_error(small_client.post("/v1/compare", json=many), 422, "losses")


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/v1/losses/huber/curve?start=nan", 422, "start"),
        ("/v1/losses/huber/curve?stop=inf", 422, "stop"),
        ("/v1/losses/huber/curve?start=2&stop=1", 422, "stop"),
        ("/v1/losses/huber/curve?num=1", 422, "num"),
        ("/v1/losses/huber/curve?num=abc", 422, "num"),
        ("/v1/losses/huber/curve?delta=-1", 422, "delta"),
        ("/v1/losses/l1/curve?delta=1", 422, "delta"),
        ("/v1/losses/huber/curve?bogus=1", 422, "bogus"),
        ("/v1/losses/binary_cross_entropy/curve?start=-1&stop=1", 422, "start"),
        ("/v1/plots/losses.svg?names=l1,nope", 422, "names"),
        ("/v1/plots/losses.svg?names=", 422, "names"),
        ("/v1/plots/losses.svg?names=l1&delta=2", 422, "delta"),
        ("/v1/plots/losses.svg?names=huber&delta=nan", 422, "delta"),
        # ticks beyond the float range: the chart cannot be drawn (was a 500)
        ("/v1/plots/losses.svg?names=l1&start=1e308&stop=1.7e308", 422, "start"),
        ("/v1/plots/losses.svg?names=l1&start=1e308&stop=1.7e308", 422, "stop"),
    ],
)
def test_hostile_queries(client: Client, url: str, status: int, field: str) -> None:
    assert_error(client.get(url), status, field)


def test_curve_points_limit(small_client: Client) -> None:
    assert_error(small_client.get("/v1/losses/l1/curve?num=101"), 422, "num")


def test_unknown_loss_path_is_404_listing_names(client: Client) -> None:
    err = assert_error(client.get("/v1/losses/nope"), 404, code="unknown_name")
    assert "huber" in err["message"]
    assert_error(client.get("/v1/losses/nope/curve"), 404)


def test_unknown_route_and_method(client: Client) -> None:
    assert_error(client.get("/v1/nothing"), 404, code="not_found")
    assert_error(client.get("/v1/evaluate"), 405, code="method_not_allowed")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"norm": {"name": "nope"}, "x": [1.0]}, "norm.name"),
        ({"norm": {"name": "elastic_net", "l1_ratio": 2.0}, "x": [1.0]}, "norm.l1_ratio"),
        ({"norm": {"name": "l1"}, "x": [1.0], "step": 0}, "step"),
        ({"norm": {"name": "l1"}, "x": [1.0], "step": -1}, "step"),
        # were silently coerced to 1.0, unlike every other number in the API
        ({"norm": {"name": "l1"}, "x": [1.0], "step": True}, "step"),
        ({"norm": {"name": "l1"}, "x": [1.0], "step": "1"}, "step"),
        ({"norm": {"name": "l1"}, "x": [1.0, "a"]}, "x"),
        ({"norm": {"name": "nuclear"}, "x": [1.0, 2.0]}, "x"),
    ],
)
def test_hostile_norms(client: Client, payload: Any, field: str) -> None:
    assert_error(client.post("/v1/norms/evaluate", json=payload), 422, field)


def test_norm_integer_step_is_a_number(client: Client) -> None:
    r = client.post("/v1/norms/evaluate", json={"norm": {"name": "l1"}, "x": [3.0], "step": 1})
    assert r.status_code == 200, r.text
    assert r.json()["prox"] == [2.0]


def test_norm_nan_literal(client: Client) -> None:
    raw = b'{"norm": {"name": "l2"}, "x": [1.0, Infinity]}'
    assert_error(client.post("/v1/norms/evaluate", content=raw), 422, "x")


def test_curve_over_a_range_wider_than_the_float_range(client: Client) -> None:
    """stop - start overflows float64: the curve is still exact (it was a 422 naming
    'prediction', a field the request does not have, from np.linspace's NaN)."""
    r = client.get("/v1/losses/l1/curve", params={"start": -1.5e308, "stop": 1.5e308, "num": 3})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["x"] == [-1.5e308, 0.0, 1.5e308]
    assert got["value"] == [1.5e308, 0.0, 1.5e308]
    assert got["gradient"] == [-1.0, 0.0, 1.0]
