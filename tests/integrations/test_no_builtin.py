"""Losses that neither XGBoost nor LightGBM has built in, trained as custom objectives with
their default Hessian policy: the training loss (the closed form of ``_oracle.py``, not
losscore) falls from the start to the last round, the metric the booster reports is that
loss, and the held-out loss beats the best constant prediction. The figures are printed
(``pytest -s``) and recorded in bench/RESULTS.md (``bench/boosting.py``)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from losscore.integrations import (
    default_hessian_policy,
    lightgbm_metric,
    lightgbm_objective,
    xgboost_metric,
    xgboost_objective,
)
from tests.integrations import _oracle

xgb = pytest.importorskip("xgboost", reason="xgboost not installed: pip install -e '.[boost]'")
lgb = pytest.importorskip("lightgbm", reason="lightgbm not installed: pip install -e '.[boost]'")

ROUNDS = 60
CASES = [
    ("smooth_l1", {"beta": 1.0}),
    ("log_cosh", {}),
    ("epsilon_insensitive", {"epsilon": 0.3}),
    ("modified_huber", {}),
    ("squared_hinge", {}),
]


def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Train and test sets, and the shared starting score (median target, or margin 0)."""
    if name in _oracle.REGRESSION:
        X, y, Xt, yt = _oracle.regression_data(seed=21)
        return X, y, Xt, yt, float(np.median(y))
    X, y, Xt, yt = _oracle.binary_data(seed=22)
    return X, y, Xt, yt, 0.0


def best_constant(name: str, y: np.ndarray, params: dict[str, float]) -> float:
    """argmin_c of the mean training loss of the constant score c (scipy, closed form)."""
    lo, hi = (float(y.min()), float(y.max())) if name in _oracle.REGRESSION else (-5.0, 5.0)
    res = minimize_scalar(
        lambda c: _oracle.mean_loss(name, np.full(y.size, c), y, params),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-8},
    )
    return float(res.x)


def _check(
    lib: str,
    name: str,
    params: dict[str, float],
    train_path: list[float],
    reported: list[float],
    test_scores: np.ndarray,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float],
) -> None:
    _, y, _, yt, base = data
    start = _oracle.mean_loss(name, np.full(y.size, base), y, params)
    # the booster's metric is the loss itself, round by round
    np.testing.assert_allclose(reported, train_path, rtol=2e-5, atol=1e-7)
    # first vs last round, and the start; the first round itself may overshoot (LightGBM's
    # default lambda_l2 = 0 with log_cosh's exact Hessian, which is small far from r = 0)
    assert train_path[-1] < min(train_path[0], start), (start, train_path[:3], train_path[-1])
    rises = sum(b > a * (1 + 1e-6) for a, b in itertools.pairwise(train_path))
    held = _oracle.mean_loss(name, test_scores, yt, params)
    const = _oracle.mean_loss(name, np.full(yt.size, best_constant(name, y, params)), yt, params)
    extra = ""
    if name in _oracle.BINARY:
        extra = f", accuracy {np.mean((test_scores > 0) == (yt > 0)):.3f}"
    print(
        f"\n{lib} {name} {params} ({default_hessian_policy(name, **params)}): train "
        f"{start:.4f} -> {train_path[0]:.4f} -> {train_path[-1]:.4f} ({rises} rises in "
        f"{len(train_path)} rounds); held-out {held:.4f} vs best constant {const:.4f}{extra}"
    )
    assert rises <= len(train_path) // 10
    assert held < 0.9 * const


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_xgboost_trains_a_loss_it_does_not_have(name: str, params: dict[str, float]) -> None:
    data = X, y, Xt, yt, base = _data(name)
    dtrain = xgb.DMatrix(X, label=y, base_margin=np.full(y.size, base))
    dtest = xgb.DMatrix(Xt, base_margin=np.full(yt.size, base))
    history: dict[str, Any] = {}
    booster = xgb.train(
        {"tree_method": "hist", "max_bin": 64, "nthread": 1, "max_depth": 3, "eta": 0.1},
        dtrain,
        ROUNDS,
        obj=xgboost_objective(name, **params),
        custom_metric=xgboost_metric(name, **params),
        evals=[(dtrain, "train")],
        evals_result=history,
        verbose_eval=False,
    )
    path = [
        _oracle.mean_loss(
            name, booster.predict(dtrain, output_margin=True, iteration_range=(0, k)), y, params
        )
        for k in range(1, ROUNDS + 1)
    ]
    test_scores = booster.predict(dtest, output_margin=True).astype(np.float64)
    _check("xgboost", name, params, path, history["train"][name], test_scores, data)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_lightgbm_trains_a_loss_it_does_not_have(name: str, params: dict[str, float]) -> None:
    data = X, y, Xt, _, base = _data(name)
    train = lgb.Dataset(X, label=y, init_score=np.full(y.size, base))
    history: dict[str, Any] = {}
    booster = lgb.train(
        {
            "objective": lightgbm_objective(name, **params),
            "metric": "None",
            "num_threads": 1,
            "num_leaves": 8,
            "learning_rate": 0.1,
            "verbosity": -1,
            "deterministic": True,
            "force_row_wise": True,
        },
        train,
        ROUNDS,
        valid_sets=[train],
        valid_names=["train"],
        feval=lightgbm_metric(name, **params),
        callbacks=[lgb.record_evaluation(history)],
    )
    path = [
        _oracle.mean_loss(
            name, booster.predict(X, raw_score=True, num_iteration=k) + base, y, params
        )
        for k in range(1, ROUNDS + 1)
    ]
    test_scores = booster.predict(Xt, raw_score=True) + base
    _check("lightgbm", name, params, path, history["train"][name], test_scores, data)


@pytest.mark.parametrize("policy", ["exact", "floor", "constant"])
def test_every_policy_trains_smooth_l1(policy: str) -> None:
    """Each policy is a working objective on the same data (the exact one with XGBoost's
    default lambda = 1 and min_child_weight = 1 keeping its leaves finite)."""
    name, params = "smooth_l1", {"beta": 1.0}
    X, y, _, _, base = _data(name)
    dtrain = xgb.DMatrix(X, label=y, base_margin=np.full(y.size, base))
    booster = xgb.train(
        {"tree_method": "hist", "max_bin": 64, "nthread": 1, "max_depth": 3, "eta": 0.1},
        dtrain,
        ROUNDS,
        obj=xgboost_objective(name, hessian_policy=policy, **params),  # type: ignore[arg-type]
    )
    first = booster.predict(dtrain, output_margin=True, iteration_range=(0, 1))
    last = booster.predict(dtrain, output_margin=True)
    start = _oracle.mean_loss(name, np.full(y.size, base), y, params)
    path = [_oracle.mean_loss(name, s, y, params) for s in (first, last)]
    print(
        f"\nxgboost smooth_l1 policy {policy}: train {start:.4f} -> {path[0]:.4f} -> {path[1]:.4f}"
    )
    assert path[1] < path[0] < start


def test_lightgbm_log_cosh_exact_newton_needs_lambda_or_the_floor() -> None:
    """docs/BOOSTING.md: with LightGBM's default lambda_l2 = 0 the exact Hessian of log_cosh
    (sech², small far from r = 0) gives overshooting leaves; lambda_l2 = 1 or the floor
    policy do better on held-out data."""
    X, y, Xt, yt, base = _data("log_cosh")
    held = {}
    for label, policy, extra in [
        ("exact, lambda_l2 0", "exact", {}),
        ("exact, lambda_l2 1", "exact", {"lambda_l2": 1.0}),
        ("floor, lambda_l2 0", "floor", {}),
    ]:
        booster = lgb.train(
            {
                "objective": lightgbm_objective("log_cosh", hessian_policy=policy),  # type: ignore[arg-type]
                "num_threads": 1,
                "num_leaves": 8,
                "learning_rate": 0.1,
                "verbosity": -1,
                "deterministic": True,
                "force_row_wise": True,
                **extra,
            },
            lgb.Dataset(X, label=y, init_score=np.full(y.size, base)),
            ROUNDS,
        )
        scores = booster.predict(Xt, raw_score=True) + base
        held[label] = _oracle.mean_loss("log_cosh", scores, yt, {})
        print(f"\nlightgbm log_cosh {label}: held-out {held[label]:.4f}")
    assert held["exact, lambda_l2 1"] < 0.75 * held["exact, lambda_l2 0"]
    assert held["floor, lambda_l2 0"] < 0.75 * held["exact, lambda_l2 0"]
