"""The examples in examples/boosting: the Python script trains both libraries, and the
JavaScript client (Node, another language) gets gradient and Hessian from a live server's
``/v1/evaluate`` and takes one boosting step with them.

Without Node the client test skips, saying so; with ``LOSSCORE_REQUIRE_CLIENT_TESTS=1``
(CI) it fails instead, as the generated-client tests do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import losscore
from losscore.integrations import boosting_objective
from tests._live import ROOT, live_server

EXAMPLES = ROOT / "examples" / "boosting"
ROUNDS = ("--rounds", "20")


def require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("LOSSCORE_REQUIRE_CLIENT_TESTS") == "1":
        pytest.fail(f"required client test cannot run: {reason}")
    pytest.skip(reason)


def test_python_example_trains_both_libraries() -> None:
    pytest.importorskip("xgboost", reason="xgboost not installed: pip install -e '.[boost]'")
    pytest.importorskip("lightgbm", reason="lightgbm not installed: pip install -e '.[boost]'")
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "train_with_catalog_loss.py"),
            "smooth_l1",
            "beta=0.5",
            *ROUNDS,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("smooth_l1 {'beta': 0.5}: Hessian policy 'floor'")
    for lib in ("xgboost", "lightgbm"):
        line = next(x for x in lines if x.startswith(lib))
        first, last = (float(v) for v in line.split("train ")[1].split(",")[0].split(" -> "))
        assert last < first


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(shutil.which("node") is not None, "no Node.js (apt-get install nodejs)")
    with live_server(tmp_path_factory.mktemp("boosting-models")) as base:
        yield base


def _case(name: str) -> dict[str, Any]:
    rng = np.random.default_rng(len(name))
    x = rng.uniform(0, 1, size=60).round(3)
    if name == "log_loss":
        target = (x + rng.normal(scale=0.2, size=60) > 0.5).astype(float)
        return {
            "loss": {"name": "log_loss"},
            "x": x.tolist(),
            "prediction": rng.normal(scale=0.3, size=60).tolist(),
            "target": target.tolist(),
            "weight": rng.uniform(0.5, 2.0, size=60).tolist(),
            "lambda": 1.0,
        }
    target = 3.0 * (x > 0.4) + rng.standard_t(3, size=60) * 0.3
    case: dict[str, Any] = {
        "loss": {"name": name, "delta": 1.0},
        "x": x.tolist(),
        "prediction": np.zeros(60).tolist(),
        "target": target.tolist(),
        "lambda": 0.5,
    }
    return case


def _oracle_stump(
    x: np.ndarray, g: np.ndarray, h: np.ndarray, lam: float
) -> tuple[float | None, float, float]:
    """Brute force over every threshold between distinct x: the best (threshold, left,
    right) by the XGBoost gain, written independently of the client."""

    def score(gs: float, hs: float) -> float:
        return gs * gs / (hs + lam)

    G, H = g.sum(), h.sum()
    best: tuple[float, float | None, float, float] = (0.0, None, -G / (H + lam), -G / (H + lam))
    for t in np.unique(x)[:-1]:
        upper = np.unique(x)[np.unique(x) > t][0]
        left = x <= t
        gl, hl = g[left].sum(), h[left].sum()
        gain = score(gl, hl) + score(G - gl, H - hl) - score(G, H)
        if gain > best[0] + 1e-12:
            best = (gain, (t + upper) / 2, -gl / (hl + lam), -(G - gl) / (H - hl + lam))
    return best[1], best[2], best[3]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "max_step"),
    [("pseudo_huber", None), ("pseudo_huber", 1.0), ("huber", 1.0), ("log_loss", None)],
)
def test_javascript_client_gets_the_objective_over_http(
    name: str, max_step: float | None, server: str, tmp_path: Path
) -> None:
    case = _case(name)
    if max_step is not None:
        case["max_step"] = max_step  # the floor policy (huber's default, with delta = 1)
    path = tmp_path / "input.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    ran = subprocess.run(
        ["node", str(EXAMPLES / "objective_over_http.mjs"), server, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    params = {k: v for k, v in case["loss"].items() if k != "name"}
    weight = np.array(case["weight"]) if "weight" in case else None
    f, y = np.array(case["prediction"]), np.array(case["target"])
    want = losscore.evaluate(name, f, y, weight=weight, reduction="sum", hessian=True, **params)
    assert out["loss"] == {"name": name, **params}
    np.testing.assert_array_equal(out["gradient"], want.gradient)
    if "max_step" in case:
        policy = boosting_objective(
            name, hessian_policy="floor", max_step=case["max_step"], **params
        )
        g, h = policy.gradient_hessian(f, y, weight)
        np.testing.assert_array_equal(out["gradient"], g)
        np.testing.assert_allclose(out["hessian"], h, rtol=1e-15, atol=0)
        assert not np.array_equal(h, want.hessian)  # the floor changed something
    else:
        np.testing.assert_array_equal(out["hessian"], want.hessian)
    threshold, left, right = _oracle_stump(
        np.array(case["x"]), np.array(out["gradient"]), np.array(out["hessian"]), case["lambda"]
    )
    assert threshold is not None
    assert out["stump"]["threshold"] == pytest.approx(threshold, rel=1e-12)
    assert out["stump"]["left"] == pytest.approx(left, rel=1e-12)
    assert out["stump"]["right"] == pytest.approx(right, rel=1e-12)
    before, after = out["mean_loss_before"], out["mean_loss_after"]
    print(f"\n{name} max_step={max_step}: mean loss {before:.4f} -> {after:.4f}")
    if name == "pseudo_huber" and max_step is None:
        # residuals of 3 where delta = 1: the exact Hessian ≈ 0.03 makes the full Newton step
        # about 30, far past the targets (docs/BOOSTING.md); the floor does not
        assert after > before
    else:
        assert after < before


@pytest.mark.slow
def test_javascript_client_demo_runs(server: str) -> None:
    ran = subprocess.run(
        ["node", str(EXAMPLES / "objective_over_http.mjs"), server],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["stump"]["threshold"] == pytest.approx(0.5, abs=0.03)  # the step in the data
    assert out["mean_loss_after"] < out["mean_loss_before"]
