"""The small-fit fast paths give the general paths' results (bitwise where the operations are
the same, to rounding where only the evaluation order differs)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from losscore.train import fit
from losscore.train._options import resolve_options
from losscore.train._problem import Problem
from losscore.train._report import data_hash
from losscore.train.solvers import _exact
from losscore.train.solvers._lbfgs import kkt_residual
from losscore.train.solvers._monitor import inf_norm

scaling_module = sys.modules["losscore.train._scaling"]


def _problem(loss: str, k: int, *, fit_intercept: bool, n: int = 300, d: int = 6) -> Problem:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + 1.0
    if k > 1:
        target: np.ndarray = rng.integers(0, k, size=n)
    elif loss == "huber":
        target = rng.normal(size=n)
    else:
        target = np.where(rng.normal(size=n) > 0, 1.0, -1.0)
    opts = resolve_options(
        task="regression" if loss == "huber" else "classification",
        loss=loss,
        loss_params=None,
        penalty="l2",
        alpha=1e-3,
        l1_ratio=0.0,
        fit_intercept=fit_intercept,
        standardize=False,
        max_iter=10,
        tol=1e-8,
        time_limit_s=None,
    )
    return Problem(
        X=X,
        mean=X.mean(axis=0),
        scale=X.std(axis=0),
        target=target,
        sample_weight=rng.uniform(0.2, 2.0, size=n),
        class_factor=rng.uniform(0.5, 1.5, size=n),
        loss=opts.loss,
        params=opts.loss_params,
        k=k,
        fit_intercept=fit_intercept,
        lam1=np.zeros(k * d),
        lam2=np.full(k * d, 1e-3),
    )


@pytest.mark.parametrize(
    ("loss", "k"), [("log_loss", 1), ("squared_hinge", 1), ("huber", 1), ("softmax", 3)]
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_block_data_term_equals_blocked(loss, k, fit_intercept):
    name = "softmax_cross_entropy" if loss == "softmax" else loss
    prob = _problem(name, k, fit_intercept=fit_intercept)
    assert prob._single
    theta = np.random.default_rng(4).normal(size=prob.size) * 0.3
    buf_fast = np.empty((prob.n,) if k == 1 else (prob.n, k))
    buf_ref = np.empty_like(buf_fast)
    v_fast, g_fast = prob._one_block(theta, buf_fast)
    v_ref, g_ref = prob._blocked(theta, buf_ref)
    assert v_fast == v_ref
    np.testing.assert_array_equal(g_fast, g_ref)
    np.testing.assert_array_equal(buf_fast, buf_ref)
    if k == 1:
        np.testing.assert_array_equal(prob.scores(theta), buf_ref)


@pytest.mark.parametrize("gram", [True, False])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_one_block_moments_equal_the_merge_loop(monkeypatch, gram, center, weighted):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 7)) * 3.0 + 2.0
    y = rng.normal(size=500)
    s = rng.uniform(0.1, 2.0, size=500) if weighted else np.ones(500)
    p = s / s.sum()
    fast = scaling_module.Moments.of(X, p, center=center, gram=gram, y=y)
    monkeypatch.setattr(scaling_module.Moments, "_one_block", classmethod(lambda *a, **k: None))
    loop = scaling_module.Moments.of(X, p, center=center, gram=gram, y=y)
    for a, b in [(fast.mean, loop.mean), (fast.var, loop.var), (fast.gram, loop.gram)]:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast.cross, loop.cross)


@pytest.mark.parametrize("penalty", ["l1", "elastic_net"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_block_sweeps_follow_the_scalar_sweeps(monkeypatch, penalty, fit_intercept):
    """Coordinate descent with triangular-solve sweeps has the scalar sweeps' iterates (to
    rounding): same sweep count, same support, coefficients within rounding."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 12)) + rng.normal(size=12)
    w = np.where(rng.random(12) < 0.5, 0.0, rng.normal(size=12))
    y = X @ w + 0.3 * rng.normal(size=400)
    kw = {"task": "regression", "loss": "l2", "penalty": penalty, "alpha": 0.05, "tol": 1e-10}
    taken = []
    sweep = _exact._BlockSweep.sweep

    def spy(self, b, theta):
        out = sweep(self, b, theta)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(_exact._BlockSweep, "sweep", spy)
    fast = fit(X, y, fit_intercept=fit_intercept, **kw)
    assert sum(taken) >= 3  # most sweeps were triangular solves
    monkeypatch.setattr(_exact._BlockSweep, "sweep", lambda self, b, theta: None)
    slow = fit(X, y, fit_intercept=fit_intercept, **kw)
    assert fast.solver == slow.solver == "gram_coordinate_descent"
    assert fast.n_iter == slow.n_iter
    np.testing.assert_array_equal(fast.coef == 0, slow.coef == 0)
    assert np.any(fast.coef == 0)  # the zero branch is exercised
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-11, atol=1e-14)
    assert fast.objective == pytest.approx(slow.objective, rel=1e-14)


def test_kkt_residual_matches_its_definition():
    rng = np.random.default_rng(8)
    for _ in range(2000):
        p, q = int(rng.integers(0, 6)), int(rng.integers(0, 3))
        g = rng.normal(size=p + q) * rng.choice([1e-3, 1.0, 1e3])
        theta = rng.normal(size=p + q)
        theta[:p][rng.random(p) < 0.5] = 0.0
        lam1 = np.abs(rng.normal(size=p)) * rng.choice([0.0, 1e-3, 1.0, 10.0])
        ref = g.copy()
        if p and lam1.any():
            v, gv = theta[:p], g[:p]
            shrunk = np.sign(gv) * np.maximum(np.abs(gv) - lam1, 0.0)
            ref[:p] = np.where(v != 0, gv + lam1 * np.sign(v), shrunk)
        assert kkt_residual(g, theta, lam1) == inf_norm(ref)


def test_data_hash_is_xxh3_and_covers_all_inputs():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(20, 3))
    y = rng.normal(size=20)
    h = data_hash(X, y, None)
    assert h.startswith("xxh3_128:") and len(h) == len("xxh3_128:") + 32
    assert data_hash(X.copy(), y.copy(), None) == h
    X2 = X.copy()
    X2[3, 1] += 1e-12
    assert data_hash(X2, y, None) != h
    assert data_hash(X.reshape(60, 1), y, None) != h  # the shape is hashed
    assert data_hash(X, y.astype(np.float32), None) != h  # the dtype is hashed
    assert data_hash(X, y, np.ones(20)) != h
    assert data_hash(X, np.array(["a", "b"] * 10), None).startswith("xxh3_128:")
    assert data_hash(X, ["a", 1] * 10, None).startswith("xxh3_128:")


@pytest.mark.parametrize("gram", [True, False])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("weights", ["uniform", "with_zeros"])
def test_parallel_moments_equal_the_direct_formulas(gram, center, weights):
    """Above PARALLEL_MOMENTS_MIN the moments pass runs row ranges on the thread pool and
    merges them; compare with the two-pass textbook formulas (mean first, then centred sums)."""
    from losscore.train._scaling import PARALLEL_MOMENTS_MIN
    from losscore.train._scaling import Moments as _Moments

    rng = np.random.default_rng(8)
    n, d = 40_000, 30
    assert n * d >= PARALLEL_MOMENTS_MIN
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 5, size=d) + rng.uniform(-1e3, 1e3, size=d)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    s = np.ones(n) if weights == "uniform" else rng.uniform(0, 2, size=n) * (rng.random(n) > 0.3)
    p = s / s.sum()
    mom = _Moments.of(X, p, center=center, gram=gram, y=y)
    m = p @ X if center else np.zeros(d)
    D = X - m
    ybar = float(p @ y) if center else 0.0
    np.testing.assert_allclose(mom.mean, m, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(mom.var, p @ (D * D), rtol=1e-11)
    if gram:
        np.testing.assert_allclose(mom.gram, (D * p[:, None]).T @ D, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(mom.cross, (p * (y - ybar)) @ D, rtol=1e-10, atol=1e-8)
