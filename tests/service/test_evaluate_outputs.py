"""``outputs`` over HTTP: the service computes and returns only what a request names.

Oracle: ``losscore.evaluate`` with every output; the core's own call is observed to check
that the service asks it for nothing more than the response returns.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import losscore
import service.compute
from tests.service.conftest import Client, assert_error
from tests.service.test_evaluate import decode

RNG = np.random.default_rng(11)
PRED = RNG.normal(size=64)
TARGET = RNG.normal(size=64)


@pytest.fixture
def core_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``outputs`` of every call the service makes to ``losscore.evaluate``."""
    seen: list[Any] = []
    real = losscore.evaluate

    def spy(*args: Any, **kwargs: Any) -> losscore.Evaluation:
        seen.append(kwargs.get("outputs"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service.compute.losscore, "evaluate", spy)
    return seen


@pytest.mark.parametrize(
    "outputs",
    [["value"], ["gradient"], ["value", "gradient"], ["elementwise", "hessian"]],
)
def test_evaluate_returns_only_the_outputs_named(
    client: Client, core_calls: list[Any], outputs: list[str]
) -> None:
    body = {
        "loss": {"name": "huber", "delta": 0.7},
        "prediction": PRED.tolist(),
        "target": TARGET.tolist(),
        "outputs": outputs,
        "encoding": "b64",
    }
    r = client.post("/v1/evaluate", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert core_calls == [outputs]
    want = losscore.evaluate("huber", PRED, TARGET, delta=0.7, hessian=True)
    for name in ("elementwise", "gradient", "hessian"):
        if name in outputs:
            np.testing.assert_array_equal(decode(got[name]), want.arrays[name])
        else:
            assert got[name] is None
    if "value" in outputs:
        assert got["value"] == pytest.approx(want.value, rel=1e-15)
    else:
        assert got["value"] is None


def test_default_outputs_are_unchanged(client: Client, core_calls: list[Any]) -> None:
    body = {"loss": {"name": "l2"}, "prediction": [1.0, 2.0], "target": [0.0, 0.0]}
    got = client.post("/v1/evaluate", json=body).json()
    assert core_calls == [None]
    assert got["value"] == 2.5 and got["hessian"] is None
    assert decode(got["gradient"]).tolist() == [1.0, 2.0]  # 2r/N
    assert decode(got["elementwise"]).tolist() == [1.0, 4.0]


def test_compare_applies_outputs_to_every_loss(client: Client, core_calls: list[Any]) -> None:
    body = {
        "losses": [{"name": "l1"}, {"name": "l2"}],
        "prediction": PRED.tolist(),
        "target": TARGET.tolist(),
        "outputs": ["value"],
    }
    r = client.post("/v1/compare", json=body)
    assert r.status_code == 200, r.text
    assert core_calls == [["value"], ["value"]]
    for result, name in zip(r.json()["results"], ("l1", "l2"), strict=True):
        assert result["gradient"] is None and result["elementwise"] is None
        assert result["value"] == pytest.approx(losscore.evaluate(name, PRED, TARGET).value)


def test_raw_binary_response_carries_only_the_parts_asked_for(client: Client) -> None:
    header = {"loss": {"name": "l2"}, "outputs": ["value", "gradient"]}
    raw = PRED.astype("<f8").tobytes() + TARGET.astype("<f8").tobytes()
    r = client.post(
        "/v1/evaluate/binary",
        content=raw,
        headers={
            "content-type": "application/octet-stream",
            "accept": "application/octet-stream",
            "x-losscore-request": json.dumps(header),
        },
    )
    assert r.status_code == 200, r.text
    meta = json.loads(r.headers["x-losscore-result"])
    assert [p["name"] for p in meta["parts"]] == ["gradient"]
    assert len(r.content) == PRED.nbytes
    want = losscore.evaluate("l2", PRED, TARGET)
    np.testing.assert_array_equal(np.frombuffer(r.content, "<f8"), want.gradient)
    assert meta["value"] == pytest.approx(want.value, rel=1e-15)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"outputs": ["value", "grad"]}, "outputs", "outputs[1]: must be"),
        ({"outputs": []}, "outputs", "at least 1"),
        ({"outputs": "value"}, "outputs", "list"),
        ({"outputs": ["value"], "reduction": "none"}, "outputs", "needs reduction"),
    ],
)
def test_bad_outputs_are_a_422_naming_the_field(
    client: Client, extra: dict[str, Any], field: str, message: str
) -> None:
    body = {"loss": {"name": "l2"}, "prediction": [1.0], "target": [0.0], **extra}
    r = client.post("/v1/evaluate", json=body)
    assert_error(r, 422, field)
    assert message in r.text
