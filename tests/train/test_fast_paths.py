"""The small-fit fast paths give the general paths' results (bitwise where the operations are
the same, to rounding where only the evaluation order differs)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from losscore.train._options import resolve_options
from losscore.train._problem import Problem
from losscore.train._report import data_hash
from losscore.train.solvers._cd_kernel import cd_run, cd_sweeps
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
@pytest.mark.parametrize("n", [500, 9000])  # one block; several blocks and ranges
def test_moments_of_all_rows_minus_a_part_are_those_of_the_rest(gram, center, weighted, n):
    """Sums.without (a fold's training rows as all rows minus the held-out ones) gives the
    weighted moments of the remaining rows, computed here directly with NumPy."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, 7)) * 3.0 + 50.0
    y = rng.normal(size=n) + 20.0
    s = rng.uniform(0.1, 2.0, size=n) if weighted else np.ones(n)
    p = s / s.sum()
    held = rng.random(n) < 0.2
    kw = {"center": center, "gram": gram}
    total = scaling_module.Sums.of(X, p, y=y, **kw)
    part = scaling_module.Sums.of(X[held], p[held], y=y[held], **kw)
    rest = scaling_module.Moments.of_sums(total.without(part, **kw), gram=gram)
    keep = ~held
    w = s[keep] / s[keep].sum()
    Xk, yk = X[keep], y[keep]
    m = w @ Xk if center else np.zeros(7)
    ybar = float(w @ yk) if center else 0.0
    D = Xk - m
    np.testing.assert_allclose(rest.mean, m, rtol=1e-12)
    np.testing.assert_allclose(rest.var, w @ (D * D), rtol=1e-10)
    if gram:
        np.testing.assert_allclose(rest.gram, (D * w[:, None]).T @ D, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(rest.cross, (w * (yk - ybar)) @ D, rtol=1e-9, atol=1e-10)
    assert rest.target is not None
    assert rest.target[0] == pytest.approx(ybar, rel=1e-12, abs=1e-12)
    assert rest.target[1] == pytest.approx(float(w @ (yk * yk)), rel=1e-12)


@pytest.mark.parametrize("with_zero_column", [False, True])
def test_compiled_sweeps_equal_the_coordinate_update_written_out(with_zero_column):
    """The compiled sweeps equal cyclic coordinate descent written here in plain Python:
    θⱼ ← S(qⱼ − Σₖ≠ⱼ Hⱼₖθₖ, λ1ⱼ/2) / (Hⱼⱼ + λ2ⱼ/2), skipping coordinates with a zero
    denominator, Hθ recomputed from scratch for every coordinate (no rank-one updates)."""
    rng = np.random.default_rng(7)
    m = 9
    A = rng.normal(size=(40, m))
    if with_zero_column:
        A[:, 3] = 0.0
    H = A.T @ A / 40
    q = rng.normal(size=m)
    lam1 = np.abs(rng.normal(size=m)) * 3.0
    lam2 = np.where(rng.random(m) < 0.5, 0.0, 0.3)
    if with_zero_column:
        lam2[3] = 0.0
    theta0 = rng.normal(size=m)
    theta0[3] = 0.0
    theta, Ht = theta0.copy(), H @ theta0
    cd_sweeps(H, q, 0.5 * lam1, H.diagonal() + 0.5 * lam2, theta, Ht, 4)
    expected = theta0.copy()
    for _ in range(4):
        for j in range(m):
            den = H[j, j] + 0.5 * lam2[j]
            if den <= 0:
                continue
            rho = q[j] - sum(H[j, k] * expected[k] for k in range(m) if k != j)
            t = 0.5 * lam1[j]
            expected[j] = (np.sign(rho) * max(abs(rho) - t, 0.0)) / den
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Ht, H @ theta, rtol=1e-10, atol=1e-12)
    assert np.any(theta == 0) and np.any(theta != 0)  # both branches of S taken


@pytest.mark.parametrize("sweeps", [1, 7, 400])
def test_compiled_runs_report_the_kkt_residual_of_their_iterate(sweeps):
    """cd_run stops at the tolerance or after max_sweeps, and the residual it returns is
    kkt_residual of the gradient 2Hθ − 2q + λ2θ at the θ it leaves (intercept unpenalised)."""
    rng = np.random.default_rng(11)
    A = rng.normal(size=(60, 8))
    A[:, 1:] += 0.9 * A[:, :1]  # correlated: many sweeps
    H = A.T @ A / 60
    q = rng.normal(size=8)
    lam1 = np.r_[np.full(7, 0.2), 0.0]
    lam2 = np.r_[np.full(7, 0.05), 0.0]
    theta = np.zeros(8)
    ran, opt = cd_run(H, q, lam1, lam2, theta, 1e-13, sweeps, 5)
    assert ran == sweeps or opt <= 1e-13
    assert opt == pytest.approx(
        kkt_residual(2 * H @ theta - 2 * q + lam2 * theta, theta, lam1[:7]), rel=1e-9, abs=1e-13
    )


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
