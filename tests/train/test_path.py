"""Regularisation paths: every point is the cold fit at its α, the grid's top is the smallest
all-zero α (against scikit-learn's l1_min_c and LassoCV's alpha_max), bad grids are refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LassoCV
from sklearn.svm import l1_min_c

import losscore
import losscore.train as lt
from losscore.errors import InvalidParameterError

RNG = np.random.default_rng(11)
N, D = 120, 4
X = RNG.normal(size=(N, D)) * np.array([1.0, 3.0, 0.5, 1.0]) + np.array([0.0, 1.0, -2.0, 0.5])
W = np.array([1.5, -0.4, 0.0, 0.8])
Y_REG = X @ W + 0.5 * RNG.normal(size=N) + 2.0
Y_BIN = np.where(X @ W + 0.8 * RNG.normal(size=N) > 1.0, "yes", "no")
Y_3 = np.digitize(X @ W + 0.5 * RNG.normal(size=N), [0.0, 2.0]).astype(str)


def _trainable() -> list[Any]:
    cases = []
    for spec in losscore.list_losses():
        for task in spec.training.tasks:
            y = Y_REG if task == "regression" else (Y_3 if spec.training.multinomial else Y_BIN)
            for penalty in ("l2", "l1", "elastic_net"):
                cases.append(pytest.param(task, spec.name, penalty, y, id=f"{spec.name}-{penalty}"))
    cases.append(pytest.param("classification", "hinge", "l2", Y_3, id="hinge-ovr-l2"))
    return cases


@pytest.mark.parametrize(("task", "loss", "penalty", "y"), _trainable())
def test_every_point_is_the_cold_fit_at_its_alpha(
    task: str, loss: str, penalty: str, y: Any
) -> None:
    p = lt.path(X, y, task=task, loss=loss, penalty=penalty, n_alphas=4, alpha_min_ratio=1e-2)
    assert p.complete and len(p.fits) == 4
    assert np.all(np.diff(p.alphas) < 0) and p.alphas[0] == pytest.approx(p.alpha_zero)
    for alpha, warm in zip(p.alphas, p.fits, strict=True):
        cold = lt.fit(X, y, task=task, loss=loss, penalty=penalty, alpha=float(alpha))
        assert warm.alpha == pytest.approx(alpha, rel=1e-15)
        # equal objectives to within what the two certificates allow
        slack = 1e-7 * max(1.0, abs(cold.objective))
        if not (warm.converged and cold.converged):
            slack += warm.optimality + cold.optimality
        assert warm.objective == pytest.approx(cold.objective, abs=slack)
        if warm.solver == cold.solver == "normal_equations":  # exact both ways: one w
            np.testing.assert_allclose(warm.coef, cold.coef, rtol=1e-9, atol=1e-12)


SMOOTH_CASES = [
    ("regression", "l2", Y_REG),
    ("regression", "huber", Y_REG),
    ("regression", "log_cosh", Y_REG),
    ("classification", "log_loss", Y_BIN),
    ("classification", "squared_hinge", Y_BIN),
    ("classification", "softmax_cross_entropy", Y_3),
]


@pytest.mark.parametrize(("task", "loss", "y"), SMOOTH_CASES, ids=[c[1] for c in SMOOTH_CASES])
@pytest.mark.parametrize("penalty", ["l1", "elastic_net"])
def test_the_grid_starts_at_the_smallest_all_zero_alpha(
    task: str, loss: str, y: Any, penalty: str
) -> None:
    top = lt.path(X, y, task=task, loss=loss, penalty=penalty, n_alphas=1).alpha_zero
    assert top is not None
    above = lt.fit(X, y, task=task, loss=loss, penalty=penalty, alpha=top * (1 + 1e-6))
    below = lt.fit(X, y, task=task, loss=loss, penalty=penalty, alpha=top * (1 - 1e-2))
    assert np.max(np.abs(above.coef)) < 1e-10
    assert np.max(np.abs(below.coef)) > 1e-6


@pytest.mark.parametrize("loss", ["hinge", "quantile", "epsilon_insensitive"])
def test_piecewise_linear_losses_are_all_zero_at_the_top(loss: str) -> None:
    task = "regression" if losscore.get_loss(loss).spec.kind == "regression" else "classification"
    y = Y_REG if task == "regression" else Y_BIN
    top = lt.path(X, y, task=task, loss=loss, penalty="l1", n_alphas=1).alpha_zero
    assert top is not None and top > 0
    above = lt.fit(X, y, task=task, loss=loss, penalty="l1", alpha=top * (1 + 1e-6))
    below = lt.fit(X, y, task=task, loss=loss, penalty="l1", alpha=top * 0.9)
    assert np.max(np.abs(above.coef)) < 1e-9
    assert np.max(np.abs(below.coef)) > 1e-6


def test_top_matches_scikit_learns_l1_min_c() -> None:
    """scikit-learn: C·Σℓ + ‖w‖₁ (no intercept); here (1/n)Σℓ + α‖w‖₁: α₀ = 1 / (C_min·n)."""
    yb = np.where(Y_BIN == "yes", 1, -1)
    for loss, sk in (("log_loss", "log"), ("squared_hinge", "squared_hinge")):
        top = lt.path(X, yb, task="classification", loss=loss, penalty="l1", n_alphas=1,
                      fit_intercept=False).alpha_zero  # fmt: skip
        c_min = l1_min_c(X, yb, loss=sk, fit_intercept=False)
        assert top == pytest.approx(1.0 / (c_min * N), rel=1e-12)


def test_top_matches_lasso_cvs_alpha_max() -> None:
    """scikit-learn's Lasso minimises (1/2n)‖y − Xw − b‖² + α‖w‖₁; l2 here is (f − y)² (no ½):
    the same path at twice the α."""
    top = lt.path(X, Y_REG, task="regression", loss="l2", penalty="l1", n_alphas=1).alpha_zero
    sk = LassoCV(alphas=3, cv=3).fit(X, Y_REG)
    assert top == pytest.approx(2 * sk.alphas_[0], rel=1e-10)


@pytest.mark.parametrize(
    ("alphas", "reason"),
    [
        ([1.0, 0.0], "> 0"),
        ([1.0, -2.0], "> 0"),
        ([0.1, 1.0], "strictly decreasing"),
        ([1.0, 1.0], "strictly decreasing"),
        ([1.0, float("nan")], "finite"),
        (list(np.geomspace(1, 1e-3, 501)), "at most 500"),
        ([], "non-empty"),
    ],
)
def test_bad_grids_are_refused(alphas: list[float], reason: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        lt.path(X, Y_REG, task="regression", loss="l2", penalty="l1", alphas=alphas)
    assert err.value.field == "alphas" and reason in str(err.value)


def test_a_path_needs_a_penalty_and_a_sane_default_grid() -> None:
    with pytest.raises(InvalidParameterError) as err:
        lt.path(X, Y_REG, task="regression", loss="l2", penalty="none")
    assert err.value.field == "penalty"
    for field, kwargs in (
        ("n_alphas", {"n_alphas": 0}),
        ("n_alphas", {"n_alphas": 2.5}),
        ("alpha_min_ratio", {"alpha_min_ratio": 1.0}),
    ):
        with pytest.raises(InvalidParameterError) as err:
            lt.path(X, Y_REG, task="regression", loss="l2", penalty="l1", **kwargs)
        assert err.value.field == field


def test_a_given_grid_is_used_as_is() -> None:
    grid = [3.0, 0.3, 0.03]
    p = lt.path(X, Y_REG, task="regression", loss="huber", penalty="l2", alphas=grid)
    assert p.alphas.tolist() == grid and p.alpha_zero is None
    assert [f.alpha for f in p.fits] == grid
    assert p.coefs.shape == (3, D)


@pytest.mark.parametrize("penalty", ["l1", "elastic_net", "l2"])
def test_without_metrics_the_objective_comes_from_the_moments(penalty: str) -> None:
    """metrics=False (cross-validation folds): a Gram-based fit's objective from its moments
    equals the one computed over the rows."""
    full = lt.path(X, Y_REG, task="regression", loss="l2", penalty=penalty, n_alphas=5)
    lean = lt.path(X, Y_REG, task="regression", loss="l2", penalty=penalty, n_alphas=5,
                   metrics=False)  # fmt: skip
    for a, b in zip(full.fits, lean.fits, strict=True):
        assert b.metrics == {} and a.metrics["r2"] <= 1.0
        assert b.objective == pytest.approx(a.objective, rel=1e-12, abs=1e-14)
        np.testing.assert_array_equal(a.coef, b.coef)
