"""Features and weights at the edges of float64: a finite, correct model or a clear error,
never a stored model with NaN in it (issue 10). Oracles: the invariances of F (scaling every
weight alike changes nothing; standardised fits do not depend on the features' units)."""

from __future__ import annotations

import numpy as np
import pytest

import losscore
from losscore.train import fit

RNG = np.random.default_rng(11)
X = RNG.normal(size=(40, 3))
Y_REG = X @ [1.0, -2.0, 0.5] + 0.3 + RNG.normal(size=40)
Y_CLS = np.where(X @ [1.0, 1.0, 0.0] + 0.5 * RNG.normal(size=40) > 0, 1, 0)
CASES = [
    ("regression", "l2", Y_REG),
    ("regression", "huber", Y_REG),
    ("classification", "hinge", Y_CLS),
    ("classification", "log_loss", Y_CLS),
]


@pytest.mark.parametrize(("task", "loss", "y"), CASES)
@pytest.mark.parametrize("factor", [1e300, 1e-300, 2.0**1000])
def test_standardised_fits_do_not_depend_on_the_units(task, loss, y, factor):
    ref = fit(X, y, task=task, loss=loss, standardize=True, alpha=1e-3, tol=1e-10)
    got = fit(X * factor, y, task=task, loss=loss, standardize=True, alpha=1e-3, tol=1e-10)
    assert np.isfinite(got.coef).all() and np.isfinite(got.objective)
    assert got.objective == pytest.approx(ref.objective, rel=1e-7, abs=1e-12)
    np.testing.assert_allclose(got.coef * factor, ref.coef, rtol=1e-5, atol=1e-8)
    assert got.intercept == pytest.approx(ref.intercept, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize(("task", "loss", "y"), CASES)
@pytest.mark.parametrize("weight", [1e308, 5e-324, 3.0])
def test_a_common_weight_factor_changes_nothing(task, loss, y, weight):
    ref = fit(X, y, task=task, loss=loss, alpha=1e-3, tol=1e-10)
    got = fit(X, y, task=task, loss=loss, alpha=1e-3, tol=1e-10, sample_weight=np.full(40, weight))
    assert got.objective == pytest.approx(ref.objective, rel=1e-12)
    np.testing.assert_allclose(got.coef, ref.coef, rtol=1e-9, atol=1e-12)


def test_huge_unstandardised_features_reach_the_unpenalised_optimum():
    """α/scale² underflows to 0 in solver coordinates: the LP runs (as for penalty none)."""
    Xh = X[:, :2] * 1e300
    got = fit(Xh, Y_CLS, task="classification", loss="hinge", alpha=1e-4)
    ref = fit(X[:, :2], Y_CLS, task="classification", loss="hinge", penalty="none")
    assert got.solver == "linprog_highs" and got.converged
    assert got.objective == pytest.approx(ref.objective, abs=1e-9)


def test_a_fit_that_cannot_be_finite_is_an_error_naming_the_targets():
    y = np.array([1e300, -1e300, 1e300, -1e300])
    with pytest.raises(losscore.InvalidInputError) as err:
        fit(np.array([[0.0], [1.0], [2.0], [3.0]]), y, task="regression", loss="l2")
    assert err.value.field == "y"
    assert "float64 range" in err.value.reason


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "smooth_l1"])
def test_bounded_gradient_losses_fit_targets_of_order_1e9(loss):
    """The gradient tolerance is relative to the gradient at 0, not to F(0, 0) ~ |y|: with
    targets ~1e9 these fits used to stop at w = 0 as "converged". At that scale the loss is
    |r| up to a constant, so the l1 regression (an exact LP) is the oracle."""
    rng = np.random.default_rng(5)
    Xl = rng.normal(size=(200, 3))
    y = 1e9 * (5 + Xl @ [1.0, 2.0, -1.0] + rng.normal(size=200))
    got = fit(Xl, y, task="regression", loss=loss, penalty="none")
    ref = fit(Xl, y, task="regression", loss="l1", penalty="none")
    assert ref.solver == "linprog_highs"
    np.testing.assert_allclose(got.coef, ref.coef, rtol=2e-3)
    assert (
        got.objective
        <= fit(Xl, y, task="regression", loss=loss, penalty="none", max_iter=1).objective
    )
