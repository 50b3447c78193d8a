"""The interior-point solver (piecewise-linear losses + l2, up to IPM_MAX_ROWS rows).

Oracles: libsvm's SVC at tol 1e-12 (hinge, unpenalised intercept, per-sample C for sample
weights), and the smoothing continuation + KKT crossover, an independent algorithm that the
same fit uses above IPM_MAX_ROWS rows. The certificate (``optimality`` = best F minus the
best dual bound) is checked against F − F* where the iteration limit stops the method early.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.svm import SVC

import losscore.train
from losscore.train import fit
from losscore.train.solvers import _piecewise, _table

from ._oracle import assert_optimal, objective

CASES = [
    ("classification", "hinge", {}),
    ("regression", "epsilon_insensitive", {"epsilon": 0.3}),
    ("regression", "l1", {}),
    ("regression", "quantile", {"q": 0.8}),
    ("regression", "smooth_l1", {"beta": 0.0}),
]


def _data(n: int, d: int, seed: int, task: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d) + rng.normal(size=d)
    score = X @ rng.normal(size=d)
    if task == "classification":
        return X, np.where(score + rng.normal(size=n) * score.std() > 0, 1, -1)
    return X, score + 2.0 + rng.standard_t(3, size=n)


def _continuation(monkeypatch, **kw):
    with monkeypatch.context() as m:
        m.setattr(_table, "IPM_MAX_ROWS", 0)
        return fit(**kw)


def test_solver_choice_by_rows():
    X, y = _data(400, 5, 0, "classification")
    assert fit(X, y, task="classification", loss="hinge").solver == "interior_point"
    X, y = _data(_table.IPM_MAX_ROWS + 1, 3, 0, "classification")
    assert fit(X, y, task="classification", loss="hinge").solver.startswith("smoothing_newton")
    # no l2 part: linear programming; elastic net: the continuation with L-BFGS-B
    assert fit(X[:200], y[:200], task="classification", loss="hinge", penalty="l1").solver == (
        "linprog_highs"
    )


@pytest.mark.parametrize(("task", "loss", "params"), CASES)
@pytest.mark.parametrize(
    "variant", ["plain", "weights_with_zeros", "no_intercept", "standardize", "strong_alpha"]
)
def test_matches_the_continuation(monkeypatch, task, loss, params, variant):
    X, y = _data(300, 6, 1, task)
    rng = np.random.default_rng(2)
    kw = {
        "X": X,
        "y": y,
        "task": task,
        "loss": loss,
        "loss_params": params,
        "penalty": "l2",
        "alpha": 1e-3,
        "tol": 1e-10,
    }
    if variant == "weights_with_zeros":
        w = rng.uniform(0.0, 3.0, size=len(y))
        w[::7] = 0.0
        kw["sample_weight"] = w
    elif variant == "no_intercept":
        kw["fit_intercept"] = False
    elif variant == "standardize":
        kw["standardize"] = True
    elif variant == "strong_alpha":
        kw["alpha"] = 1.0
    ours = fit(**kw)
    other = _continuation(monkeypatch, **kw)
    assert ours.solver == "interior_point"
    assert other.solver != "interior_point"
    assert ours.converged and ours.stop_reason == "tolerance"
    assert_optimal(ours.objective, other.objective, rtol=1e-9)
    assert_optimal(other.objective, ours.objective, rtol=1e-7)
    # the reported objective is F at the returned coefficients, evaluated independently
    # (with standardize the penalty is on the standardised coefficients w·σ)
    m, sd = (X.mean(axis=0), X.std(axis=0)) if variant == "standardize" else (0.0, 1.0)
    F = objective(
        loss,
        (X - m) / sd,
        y,
        ours.coef * sd,
        ours.intercept + float(ours.coef @ (np.zeros(X.shape[1]) + m)),
        alpha=float(kw["alpha"]),
        penalty="l2",
        sample_weight=kw.get("sample_weight"),
        **params,
    )
    assert ours.objective == pytest.approx(F, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hinge_with_sample_weights_vs_libsvm(seed):
    X, y = _data(250, 4, seed, "classification")
    s = np.random.default_rng(seed).uniform(0.2, 5.0, size=len(y))
    alpha = 1e-2
    r = fit(X, y, task="classification", loss="hinge", alpha=alpha, sample_weight=s, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # F = (1/Σs) Σ sᵢ hinge + α/2‖w‖²  ⇔  ½‖w‖² + Σ Cᵢ hinge with Cᵢ = sᵢ / (α Σs)
        svc = SVC(kernel="linear", C=1.0 / (alpha * s.sum()), tol=1e-12).fit(X, y, sample_weight=s)
    oracle = objective(
        "hinge", X, y, svc.coef_[0], svc.intercept_[0], alpha=alpha, penalty="l2", sample_weight=s
    )
    assert r.solver == "interior_point"
    assert_optimal(r.objective, oracle, rtol=1e-8)


@pytest.mark.parametrize(("task", "loss", "params"), CASES[:2])
@pytest.mark.parametrize("max_iter", [1, 3, 6])
def test_early_stop_certificate_bounds_the_true_gap(task, loss, params, max_iter):
    X, y = _data(500, 8, 3, task)
    kw = {"task": task, "loss": loss, "loss_params": params, "penalty": "l2", "alpha": 1e-4}
    best = fit(X, y, tol=1e-12, **kw)
    early = fit(X, y, tol=1e-12, max_iter=max_iter, **kw)
    assert early.n_iter == max_iter
    assert not early.converged and early.stop_reason == "max_iter"
    assert early.objective - best.objective <= early.optimality * (1 + 1e-9) + 1e-15
    assert len(early.history) == max_iter
    assert np.isfinite(early.coef).all()


def test_time_limit_returns_the_best_point_so_far():
    X, y = _data(2000, 10, 4, "classification")
    r = fit(X, y, task="classification", loss="hinge", alpha=1e-4, tol=1e-12, time_limit_s=1e-9)
    assert r.stop_reason == "time_limit" and not r.converged
    assert np.isfinite(r.objective) and np.isfinite(r.optimality)
    assert r.objective == pytest.approx(
        objective("hinge", X, y, r.coef, r.intercept, alpha=1e-4, penalty="l2"), rel=1e-12
    )


def test_progress_callback_sees_every_iteration():
    X, y = _data(300, 5, 5, "regression")
    seen: list[tuple[int, float, float]] = []
    r = fit(
        X,
        y,
        task="regression",
        loss="epsilon_insensitive",
        loss_params={"epsilon": 0.1},
        alpha=1e-3,
        callback=lambda it, F, opt, elapsed: seen.append((it, F, opt)),
    )
    assert [s[0] for s in seen] == list(range(1, r.n_iter + 1))
    assert all(opt >= -1e-12 for _, _, opt in seen)  # duality gaps are never negative
    # the returned bound (best F − best dual bound) is never worse than the last gap
    assert r.optimality <= seen[-1][2] + 1e-14


def test_warm_up_compiles_without_error():
    losscore.train.warm_up()


def _piecewise_cases() -> list[tuple[str, dict[str, float]]]:
    """Every catalog loss that is piecewise linear at its defaults or at a parameter's bound."""
    cases = []
    for spec in losscore.list_losses():
        loss = losscore.get_loss(spec.name)
        defaults = {p.name: p.default for p in spec.params}
        for p in spec.params:
            for bound in (p.interval.low, p.interval.high):
                if bound is not None and p.interval.contains(bound):
                    at_bound = {**defaults, p.name: bound}
                    if loss.piecewise_linear(at_bound):
                        cases.append((spec.name, at_bound))
        if loss.piecewise_linear(defaults):
            cases.append((spec.name, defaults))
    return cases


@pytest.mark.parametrize(("name", "params"), _piecewise_cases())
def test_ramps_and_pieces_give_the_catalog_loss(name, params):
    """Each loss's ramps (what the LP / interior-point / continuation solvers read) and the
    pieces derived from them reproduce losscore.evaluate, with sorted kinks and positive
    jumps; kink points and labels of either convention included."""
    loss = losscore.get_loss(name)
    rng = np.random.default_rng(6)
    y = rng.normal(size=60) * 3
    if loss.spec.target == "binary_label":
        y = np.sign(y)
    ramps = loss.ramps(y, params)
    assert (np.diff(ramps.kinks, axis=1) >= 0).all()
    assert (ramps.jumps > 0).all()
    f = rng.normal(size=60) * 2
    f[:6] = ramps.kinks[:6, 0]  # exactly at a kink
    expected = losscore.evaluate(name, f, y, reduction="none", **params).elementwise
    value, _, _ = _piecewise.PiecewiseLinear(loss, params).evaluate(f, ramps)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    slopes, offsets = _piecewise.pieces(ramps)
    assert (np.diff(slopes, axis=1) > 0).all()
    np.testing.assert_allclose(
        np.max(slopes * f[:, None] + offsets, axis=1), expected, rtol=1e-12, atol=1e-12
    )


def test_piecewise_cases_cover_the_known_ones():
    found = {name for name, _ in _piecewise_cases()}
    assert found >= {"hinge", "perceptron", "l1", "quantile", "epsilon_insensitive", "smooth_l1"}


def test_import_and_fit_without_a_writable_numba_cache():
    """numba raises at decoration time when no cache location is writable (read-only
    container or install); losscore must then compile in memory instead of failing."""
    import subprocess
    import sys

    code = (
        "import numba.core.caching as c\n"
        "c.CacheImpl._locator_classes = []\n"  # as if no location were writable
        "import losscore.train as t\n"
        "from losscore.train.solvers import _ipm_kernel as k\n"
        "assert k.run._cache.__class__.__name__ == 'NullCache'\n"
        "t.warm_up()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(("task", "loss", "params"), CASES)
@pytest.mark.parametrize("tol", [1e-2, 1e-3, 1e-4, 1e-6])
@pytest.mark.parametrize("variant", ["plain", "weights", "no_intercept"])
def test_certificate_at_every_tolerance_bounds_the_true_gap(task, loss, params, tol, variant):
    """The bound returned at stop (including the rounded-dual sharpening used near the end)
    is a valid upper bound on F − F*, never negative, and at most the tolerance."""
    X, y = _data(400, 7, 9, task)
    kw = {"task": task, "loss": loss, "loss_params": params, "penalty": "l2", "alpha": 1e-4}
    if variant == "weights":
        kw["sample_weight"] = np.random.default_rng(10).uniform(0.0, 2.0, size=len(y))
    elif variant == "no_intercept":
        kw["fit_intercept"] = False
    best = fit(X, y, tol=1e-12, **kw)
    r = fit(X, y, tol=tol, **kw)
    assert r.solver == "interior_point" and r.converged
    assert r.optimality >= 0.0
    assert r.objective - best.objective <= r.optimality + 1e-12 * abs(best.objective)
    F0 = objective(
        loss,
        X,
        y,
        np.zeros(X.shape[1]),
        0.0,
        alpha=1e-4,
        penalty="l2",
        sample_weight=kw.get("sample_weight"),
        **params,
    )
    assert r.optimality <= tol * max(1.0, F0)  # tol is relative to max(1, F(0, 0))


def test_extreme_quantile_start_keeps_the_equality_and_a_valid_certificate(monkeypatch):
    """q = 1e-8 makes the feasible constant start β̄ = q tiny; clipping it (as a first version
    did) broke Σ a_rβ_r = −Σ aᵢgᵢ and with it the bound (negative optimality)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 6))
    y = X @ rng.normal(size=6) + rng.laplace(size=400)
    kw = {"task": "regression", "loss": "quantile", "loss_params": {"q": 1e-8}, "alpha": 1e-4}
    r = fit(X, y, **kw)
    other = _continuation(monkeypatch, X=X, y=y, tol=1e-12, **kw)
    assert r.solver == "interior_point" and r.converged
    assert r.optimality >= 0.0
    assert r.objective - other.objective <= r.optimality + 1e-15


def test_tiny_l2_strength_goes_to_the_continuation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5))
    y = np.where(X @ rng.normal(size=5) + rng.normal(size=200) > 0, 1, -1)
    X[:, 0] *= 1e6  # λ in solver coordinates ≈ alpha / 1e12
    r = fit(X, y, task="classification", loss="hinge", alpha=1e-4, max_iter=50)
    assert r.solver.startswith("smoothing_newton")


def test_unconverged_ipm_falls_back_to_the_continuation(monkeypatch):
    real = _piecewise.solve_ipm
    calls = []

    def two_steps(problem, ramps, *, tol, max_iter, monitor):
        calls.append(max_iter)
        return real(problem, ramps, tol=tol, max_iter=2, monitor=monitor)

    # the IPM stops at its own step cap (here 2) without converging: a stall
    monkeypatch.setattr(_piecewise, "IPM_MAX_STEPS", 2)
    monkeypatch.setattr(_piecewise, "solve_ipm", two_steps)
    X, y = _data(300, 6, 11, "classification")
    r = fit(X, y, task="classification", loss="hinge", alpha=1e-3, tol=1e-9)
    assert calls == [2]
    assert r.converged and r.solver != "interior_point"
    best = _continuation(monkeypatch, X=X, y=y, task="classification", loss="hinge", alpha=1e-3)
    assert_optimal(r.objective, best.objective, rtol=1e-8)
