"""A cancelled fit stops at its next iteration, whichever solver runs it (the service
cancels the fits of clients that went away, and of requests a shutdown cuts off).

``cancel()`` turns true after a few polls; the fit must raise :class:`FitCancelled`, poll only
a few times more and record at most one compiled chunk of iterations more (a solver that
ignored the flag would run on to its optimum, polling or recording at every iteration, or
return a model). Linear programs read the flag between HiGHS's time slices, made short here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from losscore.train import FitCancelled, fit, prepare_fit
from losscore.train.solvers import _highs
from losscore.train.solvers._ipm import CHUNK_STEPS

from ._oracle import assert_optimal, objective

POLLS_BEFORE = 3
POLLS_AFTER_AT_MOST = 3  # HiGHS's interrupt callback may ask again before it stops
ITERATIONS_AFTER_AT_MOST = CHUNK_STEPS  # the interior point checks between compiled chunks


class CancelAfter:
    """A cancel flag that turns true at the ``after``-th poll; counts the polls and the
    iterations (progress callbacks) that follow."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.polls = 0
        self.iterations = 0
        self.iterations_at_cancel: int | None = None

    def __call__(self) -> bool:
        self.polls += 1
        if self.polls > self.after and self.iterations_at_cancel is None:
            self.iterations_at_cancel = self.iterations
        return self.polls > self.after

    def progress(self, iteration: int, objective: float, optimality: float, elapsed: float) -> None:
        self.iterations += 1

    @property
    def polls_after(self) -> int:
        return max(0, self.polls - self.after - 1)

    @property
    def iterations_after(self) -> int:
        assert self.iterations_at_cancel is not None
        return self.iterations - self.iterations_at_cancel


def _classification(n: int, d: int, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d))
    scores = X @ rng.standard_normal((d, k)) + 2.0 * rng.standard_normal((n, k))
    y = scores.argmax(axis=1) if k > 2 else np.where(scores[:, 0] > scores[:, 1], 1, -1)
    return X, y


def _regression(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    X = rng.standard_normal((n, d))
    X[:, 1:] += 0.95 * X[:, :1]  # correlated columns: coordinate descent needs many sweeps
    y = X @ rng.standard_normal(d) + rng.standard_normal(n) ** 3
    return X, y


CASES: list[Any] = [
    # (id: the solver the table picks, task, loss, penalty, alpha, n, d, k)
    pytest.param("classification", "hinge", "l1", 1e-6, 4000, 30, 2, id="linprog_epigraph"),
    pytest.param("regression", "quantile", "l1", 1e-6, 4000, 30, 0, id="linprog_split"),
    pytest.param("classification", "hinge", "l2", 1e-4, 3000, 30, 2, id="interior_point"),
    pytest.param("classification", "hinge", "l2", 1e-6, 8000, 30, 2, id="smoothing_newton"),
    pytest.param("classification", "hinge", "elastic_net", 1e-4, 3000, 30, 2, id="smoothing_lbfgs"),
    pytest.param("regression", "l2", "l1", 1e-5, 3000, 60, 0, id="gram_coordinate_descent"),
    pytest.param("classification", "log_loss", "l2", 1e-6, 3000, 30, 2, id="lbfgs"),
    pytest.param("classification", "log_loss", "l1", 1e-6, 3000, 30, 2, id="lbfgs_split"),
    pytest.param("classification", "softmax_cross_entropy", "l2", 1e-6, 3000, 20, 5, id="softmax"),
    pytest.param("classification", "hinge", "l2", 1e-4, 3000, 20, 4, id="one_vs_rest"),
]


@pytest.mark.parametrize(("task", "loss", "penalty", "alpha", "n", "d", "k"), CASES)
def test_a_cancelled_fit_stops_at_its_next_iteration(
    task: str,
    loss: str,
    penalty: str,
    alpha: float,
    n: int,
    d: int,
    k: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_highs, "SLICE_S", 0.002)  # LPs check between slices: many here
    X, y = _classification(n, d, k) if task == "classification" else _regression(n, d)
    cancel = CancelAfter(POLLS_BEFORE)
    prepared = prepare_fit(X, y, task=task, loss=loss, penalty=penalty, alpha=alpha, tol=1e-14)
    with pytest.raises(FitCancelled):
        prepared.run(callback=cancel.progress, cancel=cancel)
    assert cancel.polls_after <= POLLS_AFTER_AT_MOST
    assert cancel.iterations_after <= ITERATIONS_AFTER_AT_MOST


def test_without_cancel_the_same_fits_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flag is what stops them: never true, the LP case runs to its optimum (through
    many slices)."""
    monkeypatch.setattr(_highs, "SLICE_S", 0.002)
    X, y = _classification(4000, 30)
    cancel = CancelAfter(10**9)
    prepared = prepare_fit(X, y, task="classification", loss="hinge", penalty="l1", alpha=1e-6)
    r = prepared.run(cancel=cancel)
    assert r.converged and r.stop_reason == "exact"
    assert cancel.polls > POLLS_BEFORE + POLLS_AFTER_AT_MOST + 1


def test_the_linprog_fallback_reaches_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without scipy's HiGHS callbacks (older scipy), the LP runs through linprog: the same
    optimum as scikit-learn's QuantileRegressor (itself HiGHS through linprog) and as the
    sliced path."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import QuantileRegressor

    X, y = load_diabetes(return_X_y=True)
    params = {"task": "regression", "loss": "quantile", "loss_params": {"q": 0.3}}
    sliced = fit(X, y, penalty="l1", alpha=0.1, **params)
    monkeypatch.setattr(_highs, "_SLICEABLE", False)
    fallback = fit(X, y, penalty="l1", alpha=0.1, **params)
    s = QuantileRegressor(quantile=0.3, alpha=0.1, solver="highs").fit(X, y)
    oracle = objective("quantile", X, y, s.coef_, s.intercept_, alpha=0.1, penalty="l1", q=0.3)
    for r in (sliced, fallback):
        assert r.converged and r.solver == "linprog_highs"
        assert_optimal(r.objective, oracle)
