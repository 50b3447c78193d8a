"""Training reads the catalog: a loss added as one class trains wherever its capabilities
allow, with no edit elsewhere; the solver follows capabilities, not names.

Oracles: scipy.optimize minimising the objective written out in this file (Nelder–Mead on
tiny problems for the non-smooth losses, L-BFGS on the smooth one), never the code under
test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import minimize

import losscore
from losscore.losses import Loss, Ramps, register_loss, unregister_loss
from losscore.spec import Interval, KinkSpec, LossSpec, ParamSpec, TrainingSpec
from losscore.train import fit, predict
from losscore.train.solvers._table import SOLVERS

# -- two throwaway losses, declared only here ---------------------------------------------------


class PseudoHuber(Loss):
    """δ²(√(1 + (r/δ)²) − 1): smooth, so training must pick L-BFGS for it."""

    spec = LossSpec(
        name="test_pseudo_huber",
        aliases=("test_charbonnier",),
        kind="regression",
        title="Pseudo-Huber (test only)",
        params=(ParamSpec("delta", 1.0, Interval(0.0, None, low_inclusive=False), "scale"),),
        label_convention="real targets",
        prediction_domain="reals",
        target_domain="reals",
        formula=r"\delta^2(\sqrt{1 + (r/\delta)^2} - 1)",
        derivative=r"r / \sqrt{1 + (r/\delta)^2}",
        second_derivative=r"(1 + (r/\delta)^2)^{-3/2}",
        kinks="None.",
        reference="Charbonnier et al. (1994)",
        target="real",
        training=TrainingSpec(tasks=("regression",)),
    )

    def kernel(
        self,
        prediction: NDArray[Any],
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: NDArray[Any],
        grad_out: NDArray[Any],
        hess_out: NDArray[Any] | None,
    ) -> None:
        d = params["delta"]
        r = prediction - target
        root = np.sqrt(1 + (r / d) ** 2)
        loss_out[...] = d * d * (root - 1)
        grad_out[...] = r / root
        if hess_out is not None:
            hess_out[...] = root**-3


class DoubleHinge(Loss):
    """max(0, 1 − z) + max(0, −z) of the margin z = y·f: piecewise linear with two kinks, so
    training must pick the LP (no l2 part) or the interior-point method (l2)."""

    spec = LossSpec(
        name="test_double_hinge",
        aliases=(),
        kind="binary",
        title="Double hinge (test only)",
        params=(),
        label_convention="y in {-1, +1}",
        prediction_domain="scores",
        target_domain="binary labels",
        formula=r"\max(0, 1 - z) + \max(0, -z)",
        derivative=r"-y([z < 1] + [z < 0])",
        second_derivative="0",
        kinks="0 at the kinks.",
        reference="test",
        smooth=False,
        target="binary_label",
        kink_points=(KinkSpec(0.0), KinkSpec(1.0)),
        training=TrainingSpec(tasks=("classification",)),
    )

    def kernel(
        self,
        prediction: NDArray[Any],
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: NDArray[Any],
        grad_out: NDArray[Any],
        hess_out: NDArray[Any] | None,
    ) -> None:
        y = np.where(target > 0, 1.0, -1.0)
        z = prediction * y
        loss_out[...] = np.maximum(0, 1 - z) + np.maximum(0, -z)
        grad_out[...] = -y * ((z < 1).astype(float) + (z < 0))
        if hess_out is not None:
            hess_out.fill(0)

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        return True

    def ramps(self, target: NDArray[Any], params: Mapping[str, float]) -> Ramps:
        n = target.shape[0]
        pos = target > 0
        # y = +1: 1 − 2f + max(0, f) + max(0, f − 1);  y = −1: max(0, f + 1) + max(0, f)
        kinks = np.asfortranarray(np.where(pos[:, None], [[0.0, 1.0]], [[-1.0, 0.0]]))
        return Ramps(
            np.where(pos, 1.0, 0.0),
            np.where(pos, -2.0, 0.0),
            kinks,
            np.ones((n, 2), order="F"),
        )


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    register_loss(PseudoHuber())
    register_loss(DoubleHinge())
    try:
        yield
    finally:
        unregister_loss("test_pseudo_huber")
        unregister_loss("test_double_hinge")


def _objective(ell: Any, X: Any, y: Any, w: Any, b: float, alpha: float, penalty: str) -> float:
    f = X @ w + b
    R = 0.5 * w @ w if penalty == "l2" else np.abs(w).sum() if penalty == "l1" else 0.0
    return float(np.mean(ell(f, y)) + alpha * R)


def _pseudo_huber(f: Any, y: Any, d: float = 0.7) -> Any:
    return d * d * (np.sqrt(1 + ((f - y) / d) ** 2) - 1)


def _double_hinge(f: Any, y: Any) -> Any:
    z = f * np.where(y > 0, 1.0, -1.0)
    return np.maximum(0, 1 - z) + np.maximum(0, -z)


def test_a_registered_smooth_loss_trains_by_capability() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.standard_t(2, size=200)
    r = fit(
        X,
        y,
        task="regression",
        loss="test_charbonnier",
        loss_params={"delta": 0.7},
        penalty="l2",
        alpha=0.01,
        tol=1e-10,
    )
    assert r.loss == "test_pseudo_huber" and r.solver == "lbfgs" and r.converged

    def F(theta: Any) -> float:
        return _objective(_pseudo_huber, X, y, theta[:3], theta[3], 0.01, "l2")

    ref = minimize(F, np.zeros(4), method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
    assert r.objective == pytest.approx(ref.fun, rel=1e-9)
    np.testing.assert_allclose(r.coef, ref.x[:3], atol=1e-5)
    assert predict(r, X[:2]).prediction == pytest.approx(X[:2] @ r.coef + r.intercept)
    # and the rest of the library sees it too: evaluate, curves (its gradient against the
    # closed form r/√(1 + (r/δ)²))
    curve = losscore.loss_curve("test_pseudo_huber", start=-2, stop=2, num=5, delta=0.7)
    x = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(curve.gradient, x / np.sqrt(1 + (x / 0.7) ** 2), rtol=1e-12)


@pytest.mark.parametrize(
    ("penalty", "solver"),
    [("none", "linprog_highs"), ("l1", "linprog_highs"), ("l2", "interior_point")],
)
def test_a_registered_piecewise_linear_loss_trains_by_capability(penalty: str, solver: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    y = np.where(X @ np.array([1.0, 1.0]) + 0.8 * rng.normal(size=40) > 0, 1, -1)
    alpha = 0.05
    r = fit(
        X,
        y,
        task="classification",
        loss="test_double_hinge",
        penalty=penalty,
        alpha=alpha,
        tol=1e-10,
    )
    assert r.solver == solver and r.converged

    def F(theta: Any) -> float:
        return _objective(_double_hinge, X, y, theta[:2], theta[2], alpha, penalty)

    # Nelder–Mead in three variables from several starts: an independent, derivative-free
    # minimiser of the objective written out above
    best = min(
        (
            minimize(
                F,
                x0,
                method="Nelder-Mead",
                options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 40_000, "maxfev": 40_000},
            )
            for x0 in (np.zeros(3), np.array([1.0, 1.0, 0.0]), np.array([-0.5, 2.0, 0.5]))
        ),
        key=lambda res: res.fun,
    )
    ours = F(np.concatenate([r.coef, [r.intercept]]))
    assert ours == pytest.approx(r.objective, rel=1e-12)
    assert ours <= best.fun + 1e-9
    assert ours == pytest.approx(best.fun, abs=1e-6)
    curve = losscore.loss_curve("test_double_hinge", start=-2, stop=2, num=9)
    assert curve.kinks == [(0.0, 1), (1.0, 1)]


def test_the_solver_table_routes_by_capability() -> None:
    """Spot checks of the capability routing, and one row per method."""
    methods = [rule.method for rule in SOLVERS]
    assert len(methods) == len(set(methods))
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    yr = X @ np.array([1.0, 2.0]) + rng.normal(size=60)
    assert fit(X, yr, task="regression", loss="mse", penalty="l2").solver == "normal_equations"
    assert fit(X, yr, task="regression", loss="l2", penalty="l1", alpha=0.1).solver == (
        "gram_coordinate_descent"
    )
    yc = np.where(yr > 0, 1, 0)
    assert fit(X, yc, task="classification", loss="perceptron").solver == "closed_form_zero"


def test_an_evaluate_only_loss_is_refused_for_training() -> None:
    X = np.zeros((4, 1))
    with pytest.raises(losscore.InvalidParameterError) as err:
        fit(X, [0, 1, 0, 1], task="classification", loss="binary_cross_entropy")
    assert err.value.field == "loss.name"
    assert "cannot be trained" in err.value.reason
    assert "test_double_hinge" in err.value.reason  # the registered loss is offered
