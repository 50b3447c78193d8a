"""The gradient and Hessian handed to a booster, against finite differences of the closed
forms in ``_oracle.py``, for every one-score loss of the catalog and every Hessian policy;
the default policies; the errors; and that the boosting libraries stay optional."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import losscore
from losscore.errors import InvalidInputError, InvalidParameterError, UnknownNameError
from losscore.integrations import (
    boosting_objective,
    default_hessian_policy,
    lightgbm_objective,
    xgboost_metric,
    xgboost_objective,
)
from tests.integrations import _oracle

xgb = pytest.importorskip("xgboost", reason="xgboost not installed: pip install -e '.[boost]'")
lgb = pytest.importorskip("lightgbm", reason="lightgbm not installed: pip install -e '.[boost]'")

# the losses a booster can use: one score per sample (the catalog's data decides which)
BOOSTABLE = [
    s.name for s in losscore.list_losses() if s.kind != "multiclass" and s.prediction == "score"
]
PARAMS: dict[str, dict[str, float]] = {
    "smooth_l1": {"beta": 0.5},
    "huber": {"delta": 2.0},
    "pseudo_huber": {"delta": 1.5},
    "quantile": {"q": 0.8},
    "epsilon_insensitive": {"epsilon": 0.3},
    "squared_epsilon_insensitive": {"epsilon": 0.3},
    "hinge": {"threshold": 0.5},
    "squared_hinge": {"threshold": 1.5},
}
# what the catalog's data should make of each loss (docs/BOOSTING.md)
DEFAULT_POLICY = {
    "l1": "constant",
    "l2": "exact",
    "smooth_l1": "floor",
    "huber": "floor",
    "pseudo_huber": "exact",
    "log_cosh": "exact",
    "quantile": "constant",
    "epsilon_insensitive": "constant",
    "squared_epsilon_insensitive": "exact",
    "hinge": "constant",
    "squared_hinge": "exact",
    "modified_huber": "floor",
    "perceptron": "constant",
    "exponential": "exact",
    "log_loss": "exact",
}
STEP = 1e-3  # finite-difference step; points stay 0.05 away from every kink
KINK_GAP = 0.05


def test_every_boostable_loss_has_a_closed_form_and_a_default() -> None:
    assert set(BOOSTABLE) == set(_oracle.REGRESSION) | set(_oracle.BINARY)
    assert set(BOOSTABLE) == set(DEFAULT_POLICY)


@pytest.mark.parametrize("name", BOOSTABLE)
def test_default_policy_follows_the_catalog(name: str) -> None:
    assert default_hessian_policy(name, **PARAMS.get(name, {})) == DEFAULT_POLICY[name]


def test_smooth_l1_with_beta_zero_is_piecewise_linear_so_constant() -> None:
    assert default_hessian_policy("smooth_l1", beta=0.0) == "constant"
    with pytest.raises(InvalidParameterError) as err:
        boosting_objective("smooth_l1", hessian_policy="exact", beta=0.0)
    assert err.value.field == "hessian_policy"


def _inputs(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores and targets (or 0/1 labels) with the loss's variable away from its kinks."""
    rng = np.random.default_rng(seed)
    params = PARAMS.get(name, {})
    kinks = [x for x, _ in losscore.get_loss(name).kinks(params)]
    if name in _oracle.REGRESSION:
        y = rng.normal(size=4 * n)
        x = rng.normal(scale=2.0, size=4 * n)  # the residual
    else:
        y = rng.integers(0, 2, size=4 * n).astype(np.float64)
        x = rng.normal(scale=2.0, size=4 * n)  # the margin
    far = np.all([np.abs(x - k) > KINK_GAP for k in kinks], axis=0) if kinks else np.ones_like(x)
    x, y = x[far.astype(bool)][:n], y[far.astype(bool)][:n]
    assert x.size == n
    f = x + y if name in _oracle.REGRESSION else x * _oracle.signed(y)
    return f, y


def _finite_differences(name: str, f: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    params = PARAMS.get(name, {})

    def ell(x: np.ndarray) -> np.ndarray:
        return _oracle.elementwise(name, x, y, params)

    g = (ell(f + STEP) - ell(f - STEP)) / (2 * STEP)
    h = (ell(f + STEP) - 2 * ell(f) + ell(f - STEP)) / STEP**2
    return g, h


def _expected_h(policy: str, g: np.ndarray, h: np.ndarray, w: np.ndarray, **kw: float) -> Any:
    """hᵢ of *policy* from the unweighted derivatives g, h and the weights w."""
    if policy == "exact":
        return w * h
    if policy == "constant":
        return w * kw.get("hessian_constant", 1.0)
    return np.maximum(w * h, np.abs(w * g) / kw["max_step"])


def _policies(name: str) -> list[tuple[str, dict[str, float]]]:
    out: list[tuple[str, dict[str, float]]] = [
        ("constant", {}),
        ("constant", {"hessian_constant": 0.25}),
        ("floor", {"max_step": 0.7}),
    ]
    if DEFAULT_POLICY[name] != "constant":  # exact is refused for piecewise-linear losses
        out.append(("exact", {}))
    return out


@pytest.mark.parametrize("name", BOOSTABLE)
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_gradient_and_hessian_match_finite_differences(name: str, weighted: bool) -> None:
    """Through a real DMatrix (float32, as XGBoost passes scores) and every policy."""
    f, y = _inputs(name, 64, seed=1)
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=f.size) if weighted else np.ones(f.size)
    f32 = f.astype(np.float32)
    dtrain = xgb.DMatrix(np.zeros((f.size, 1)), label=y, weight=w if weighted else None)
    g_fd, h_fd = _finite_differences(name, f32.astype(np.float64), y)
    w32 = w.astype(np.float32).astype(np.float64)
    for policy, kw in _policies(name):
        obj = xgboost_objective(name, hessian_policy=policy, **kw, **PARAMS.get(name, {}))  # type: ignore[arg-type]
        g, h = obj(f32, dtrain)
        assert g.dtype == h.dtype == np.float32
        assert g.shape == h.shape == f.shape
        np.testing.assert_allclose(g, w32 * g_fd, rtol=2e-5, atol=2e-5, err_msg=policy)
        want = _expected_h(policy, g_fd, h_fd, w32, **kw)
        np.testing.assert_allclose(h, want, rtol=2e-5, atol=2e-5, err_msg=f"{policy} {kw}")


@pytest.mark.parametrize("name", BOOSTABLE)
def test_lightgbm_gradient_and_hessian_match_finite_differences(name: str) -> None:
    """Through a constructed Dataset with weights (LightGBM passes float64 scores)."""
    f, y = _inputs(name, 64, seed=3)
    w = np.random.default_rng(4).uniform(0.5, 2.0, size=f.size)
    data = lgb.Dataset(np.zeros((f.size, 1)), label=y, weight=w, params={"verbosity": -1})
    data.construct()
    labels = data.get_label()  # float32, as LightGBM stores them
    g_fd, h_fd = _finite_differences(name, f, labels)
    w32 = w.astype(np.float32).astype(np.float64)
    obj = lightgbm_objective(name, **PARAMS.get(name, {}))
    g, h = obj(f, data)
    assert g.dtype == h.dtype == np.float64
    np.testing.assert_allclose(g, w32 * g_fd, rtol=1e-6, atol=1e-6)
    policy = DEFAULT_POLICY[name]
    max_step = boosting_objective(name, **PARAMS.get(name, {})).max_step
    want = _expected_h(policy, g_fd, h_fd, w32, max_step=max_step or 1.0)
    np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("name", "params", "max_step"),
    [
        ("huber", {"delta": 2.0}, 2.0),
        ("smooth_l1", {"beta": 0.5}, 0.5),
        ("modified_huber", {}, 1.0),
        ("l1", {}, 1.0),
        ("log_cosh", {}, 1.0),
    ],
)
def test_default_max_step_is_where_the_curvature_changes(
    name: str, params: dict[str, float], max_step: float
) -> None:
    assert boosting_objective(name, hessian_policy="floor", **params).max_step == max_step


def test_floor_bounds_every_leaf_value_by_max_step() -> None:
    """|Σg / Σh| ≤ Δ for any subset of samples (a leaf), where exact would exceed it."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=400)
    f = y + rng.normal(scale=10.0, size=400)  # most residuals on huber's linear tails
    exact = boosting_objective("huber", hessian_policy="exact", delta=1.0)
    floor = boosting_objective("huber", hessian_policy="floor", delta=1.0, max_step=0.5)
    for _ in range(50):
        leaf = rng.choice(400, size=20, replace=False)
        g, h = floor.gradient_hessian(f[leaf], y[leaf])
        assert abs(g.sum() / h.sum()) <= 0.5 + 1e-12
    g, h = exact.gradient_hessian(f, y)
    assert np.count_nonzero(h) < 0.2 * h.size  # the exact Hessian is 0 on the tails


def test_exact_refuses_a_batch_on_linear_pieces_only() -> None:
    obj = boosting_objective("huber", hessian_policy="exact", delta=1.0)
    with pytest.raises(InvalidInputError) as err:
        obj.gradient_hessian(np.array([5.0, -7.0, 3.0]), np.zeros(3))
    assert err.value.field == "hessian_policy"
    assert "floor" in err.value.reason
    _, h = obj.gradient_hessian(np.array([5.0, 0.5]), np.zeros(2))  # one sample inside: fine
    assert h.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"loss": "l1", "hessian_policy": "exact"}, "hessian_policy"),
        ({"loss": "quantile", "hessian_policy": "exact", "q": 0.3}, "hessian_policy"),
        ({"loss": "hinge", "hessian_policy": "exact"}, "hessian_policy"),
        ({"loss": "l2", "hessian_policy": "newton"}, "hessian_policy"),
        ({"loss": "l2", "hessian_constant": 2.0}, "hessian_constant"),
        ({"loss": "l1", "hessian_constant": 0.0}, "hessian_constant"),
        ({"loss": "l1", "hessian_constant": float("nan")}, "hessian_constant"),
        ({"loss": "huber", "max_step": -1.0}, "max_step"),
        ({"loss": "l1", "max_step": 1.0}, "max_step"),
        ({"loss": "softmax_cross_entropy"}, "loss"),
        ({"loss": "multiclass_hinge"}, "loss"),
        ({"loss": "binary_cross_entropy"}, "loss"),
        ({"loss": "huber", "delta": 0.0}, "loss.delta"),
        ({"loss": "huber", "beta": 1.0}, "loss.beta"),
    ],
)
def test_policy_and_loss_errors_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    for make in (xgboost_objective, lightgbm_objective):
        with pytest.raises(InvalidParameterError) as err:
            make(**kwargs)
        assert err.value.field == field, err.value
        assert isinstance(err.value, ValueError)


def test_unknown_loss_and_api() -> None:
    with pytest.raises(UnknownNameError) as err:
        xgboost_objective("l3")
    assert err.value.field == "loss"
    with pytest.raises(InvalidParameterError) as bad:
        xgboost_metric("l2", api="r")  # type: ignore[arg-type]
    assert bad.value.field == "api"


def test_labels_outside_the_convention_are_refused_when_training() -> None:
    obj = xgboost_objective("log_loss")
    dtrain = xgb.DMatrix(np.zeros((3, 1)), label=[0.0, 2.0, 1.0])
    with pytest.raises(InvalidInputError) as err:
        obj(np.zeros(3, dtype=np.float32), dtrain)
    assert err.value.field == "target"
    assert err.value.index == (1,)


def test_import_losscore_imports_no_booster() -> None:
    code = (
        "import sys, losscore, losscore.integrations as li\n"
        "li.boosting_objective('huber')\n"
        "print(sorted(m for m in ('xgboost', 'lightgbm') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["xgboost", "lightgbm"])
def test_a_missing_booster_names_the_extra(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import of it now raises ImportError
    make = xgboost_objective if module == "xgboost" else lightgbm_objective
    with pytest.raises(ImportError, match=r"pip install 'losscore\[boost\]'"):
        make("l2")


@pytest.mark.parametrize("spec", losscore.list_losses(), ids=lambda s: s.name)
def test_linear_pieces_in_the_catalog_match_the_kernel(spec: losscore.LossSpec) -> None:
    """``training.linear_pieces`` (which picks the floor policy) says what the curve shows:
    a point where ℓ'' = 0 while ℓ' ≠ 0, on a grid reaching 3 past the outermost kink."""
    defaults = {p.name: p.default for p in spec.params}
    reach = max((abs(x) for x, _ in losscore.get_loss(spec.name).kinks(defaults)), default=0.0)
    lo, hi = (0.0, 1.0) if spec.prediction == "probability" else (-reach - 3, reach + 3)
    curve = losscore.loss_curve(spec.name, start=lo, stop=hi, num=2001)
    flat_slope = (curve.hessian == 0) & (curve.gradient != 0)
    assert bool(flat_slope.any()) == spec.training.linear_pieces
