"""Catalog, curves, plots and norms."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import losscore
from losscore.norms import evaluate_norm, list_norms
from tests.service.conftest import Client


def test_list_losses_is_the_library_catalog(client: Client) -> None:
    r = client.get("/v1/losses")
    assert r.status_code == 200
    assert r.json() == {"losses": [s.as_dict() for s in losscore.list_losses()]}


def test_get_loss_resolves_aliases(client: Client) -> None:
    r = client.get("/v1/losses/mse")
    assert r.status_code == 200
    assert r.json() == losscore.get_loss("l2").spec.as_dict()
    huber = client.get("/v1/losses/huber").json()
    assert huber["parameters"][0]["name"] == "delta"
    assert huber["parameters"][0]["default"] == 1.0


def test_curve_matches_library(client: Client) -> None:
    r = client.get(
        "/v1/losses/huber/curve", params={"start": -2, "stop": 2, "num": 9, "delta": 0.5}
    )
    assert r.status_code == 200, r.text
    got = r.json()
    want = losscore.loss_curve("huber", start=-2, stop=2, num=9, delta=0.5)
    assert got["loss"] == {"name": "huber", "delta": 0.5}
    np.testing.assert_allclose(got["x"], want.x)
    np.testing.assert_allclose(got["value"], want.value)
    np.testing.assert_allclose(got["gradient"], want.gradient)
    assert got["x_label"] == want.x_label
    # closed forms: huber'' is 1 inside [-delta, delta] and 0 outside
    x = np.asarray(got["x"])
    np.testing.assert_array_equal(got["hessian"], np.where(np.abs(x) <= 0.5, 1.0, 0.0))
    # closed form at x = 2: delta (|x| - delta / 2)
    assert got["value"][-1] == pytest.approx(0.5 * (2 - 0.25))


def test_curve_defaults(client: Client) -> None:
    got = client.get("/v1/losses/smooth_l1/curve").json()
    assert len(got["x"]) == 201
    assert got["x"][0] == -3.0 and got["x"][-1] == 3.0
    assert got["loss"] == {"name": "smooth_l1", "beta": 1.0}


def test_plot_is_a_real_svg_chart(client: Client) -> None:
    r = client.get("/v1/plots/losses.svg", params={"names": "l1,l2,smooth_l1", "beta": 0.5})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)
    assert root.tag.endswith("svg")
    text = r.text
    # two panels with axes/ticks (matplotlib's SVG ids), legend entries for each loss
    assert text.count('id="axes_') >= 2
    assert 'id="xtick_' in text and 'id="ytick_' in text
    assert 'id="legend_' in text
    for label in ("l1", "l2", "smooth_l1(beta=0.5)", "derivative"):
        assert label in text


def test_list_norms(client: Client) -> None:
    r = client.get("/v1/norms")
    assert r.status_code == 200
    assert r.json() == {"norms": [s.as_dict() for s in list_norms()]}


def test_norm_matches_library_and_closed_form(client: Client) -> None:
    x = [3.0, -0.5, 0.0, 1.0]
    body = {"norm": {"name": "elastic_net", "alpha": 2.0, "l1_ratio": 0.5}, "x": x, "step": 0.25}
    r = client.post("/v1/norms/evaluate", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    want = evaluate_norm("elastic_net", np.array(x), step=0.25, alpha=2.0, l1_ratio=0.5)
    assert got["value"] == pytest.approx(want.value)
    assert want.prox is not None
    np.testing.assert_allclose(got["subgradient"], want.subgradient)
    np.testing.assert_allclose(got["prox"], want.prox)
    assert got["norm"] == {"name": "elastic_net", "alpha": 2.0, "l1_ratio": 0.5}
    # l1 prox is soft thresholding: sign(x) max(|x| - t, 0)
    l1 = client.post(
        "/v1/norms/evaluate", json={"norm": {"name": "l1"}, "x": x, "step": 1.0}
    ).json()
    assert l1["value"] == pytest.approx(4.5)
    assert l1["prox"] == pytest.approx([2.0, 0.0, 0.0, 0.0])
    no_step = client.post("/v1/norms/evaluate", json={"norm": {"name": "l2"}, "x": [3, 4]}).json()
    assert no_step["value"] == pytest.approx(5.0)
    assert no_step["prox"] is None
    assert no_step["subgradient"] == pytest.approx([0.6, 0.8])


def test_norm_b64_float32(client: Client) -> None:
    import base64

    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    body = {
        "norm": {"name": "nuclear"},
        "x": {"shape": [2, 2], "dtype": "float32", "b64": base64.b64encode(x.tobytes()).decode()},
        "step": 0.1,
    }
    got = client.post("/v1/norms/evaluate", json=body).json()
    assert got["dtype"] == "float32"
    assert got["value"] == pytest.approx(
        np.linalg.svd(x.astype(float), compute_uv=False).sum(), rel=1e-6
    )
    assert "b64" in got["subgradient"]


def test_norm_overflow_flag(client: Client) -> None:
    """Like /v1/evaluate: ±Infinity is spelled out and flagged; finite results near the float
    maximum are not flagged (a naive finiteness check by summation would overflow)."""
    big = {"norm": {"name": "squared_l2"}, "x": [1e200, 1e200]}  # ½‖x‖² = 1e400: beyond float64
    got = client.post("/v1/norms/evaluate", json=big).json()
    assert got["value"] == "Infinity" and got["overflow"] is True
    near_max = {"norm": {"name": "linf"}, "x": [1.5e308, -1.5e308, 1.0]}
    got = client.post("/v1/norms/evaluate", json=near_max).json()
    assert got["value"] == pytest.approx(1.5e308) and got["overflow"] is False
    assert (
        client.post("/v1/norms/evaluate", json={"norm": {"name": "l1"}, "x": [1, 2]}).json()[
            "overflow"
        ]
        is False
    )


def test_evaluate_values_near_the_float_maximum_are_not_flagged(client: Client) -> None:
    body = {"loss": {"name": "l1"}, "prediction": [1.5e308, 1.5e308], "target": [0, 0]}
    got = client.post("/v1/evaluate", json={**body, "reduction": "mean"}).json()
    assert got["value"] == pytest.approx(1.5e308)
    assert got["overflow"] is False  # elementwise 1.5e308 twice: finite, though their sum is not
