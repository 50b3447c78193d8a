"""Proximal operators against independent oracles.

* optimality: (x − p)/t ∈ ∂g(p), checked with the textbook characterisation of ∂g;
* direct minimisation of g(u) + ‖u − x‖²/(2t) with scipy.optimize on small inputs,
  and against random perturbations of the returned point;
* the Moreau decomposition x = prox_{tg}(x) + t·Π_{B*}(x/t) for the true norms;
* brute force over all supports for l0, and over 2×2 matrices for nuclear.
"""

from __future__ import annotations

import itertools
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from losscore import evaluate_norm

from . import _oracles as ref
from ._strategies import arrays, matrices, norm_and_input, steps, vectors


def _prox(name: str, x: np.ndarray, step: float, **params: float) -> np.ndarray:
    p = evaluate_norm(name, x, step=step, **params).prox
    assert p is not None
    assert p.shape == np.shape(x)
    return p


@settings(max_examples=250, deadline=None)
@given(norm_and_input(), steps)
def test_optimality_condition(case: tuple[str, np.ndarray, dict[str, float]], t: float) -> None:
    name, x, params = case
    p = _prox(name, x, t, **params)
    v = (x - p) / t
    assert ref.in_subdifferential(name, v, p, params, tol=1e-8)


@settings(max_examples=150, deadline=None)
@given(norm_and_input(ref.CONVEX), steps, st.integers(0, 2**32 - 1))
def test_no_random_perturbation_does_better(
    case: tuple[str, np.ndarray, dict[str, float]], t: float, seed: int
) -> None:
    """F(p) ≤ F(p + δ) − ‖δ‖²/(2t): the prox objective is (1/t)-strongly convex."""
    name, x, params = case
    p = _prox(name, x, t, **params)
    fp = ref.prox_objective(name, p, x, t, params)
    rng = np.random.default_rng(seed)
    for scale in (1e-5, 1e-2, 1.0):
        for _ in range(5):
            d = scale * rng.normal(size=x.shape)
            fu = ref.prox_objective(name, p + d, x, t, params)
            assert fp <= fu - float(np.sum(d * d)) / (2 * t) + 1e-9 * (1 + abs(fu))


def _scipy_prox(
    name: str, x: np.ndarray, t: float, params: dict[str, float], seed: int = 0
) -> np.ndarray:
    """Minimise the prox objective directly: Powell from several starts, each restarted
    from its own result (a fresh direction set gets it off a kink), then Nelder–Mead
    polishing of the best point (a simplex does not stall on the nuclear norm's kinks)."""

    def f(u: np.ndarray) -> float:
        return ref.prox_objective(name, u.reshape(x.shape), x, t, params)

    def run(method: str, point: np.ndarray, opts: dict[str, float]) -> optimize.OptimizeResult:
        for _ in range(2):
            res = optimize.minimize(f, point, method=method, options=opts)
            point = res.x
        return res

    rng = np.random.default_rng(seed)
    flat = x.reshape(-1)
    best = None
    for start in (flat, np.zeros(x.size), *rng.normal(size=(2, x.size))):
        res = run("Powell", start, {"xtol": 1e-10, "ftol": 1e-15, "maxfev": 20000})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    polished = run("Nelder-Mead", best.x, {"xatol": 1e-12, "fatol": 1e-15, "maxfev": 5000})
    if polished.fun < best.fun:
        best = polished
    assert best is not None
    return np.asarray(best.x).reshape(x.shape)


def _assert_no_better_than(
    name: str, p: np.ndarray, u: np.ndarray, x: np.ndarray, t: float, params: dict[str, float]
) -> None:
    """F(u) ≥ F(p) + ‖u − p‖²/(2t): holds for every u iff p is the minimiser of the
    (1/t)-strongly convex prox objective F. So a u found by scipy either certifies p or
    exposes it, wherever scipy stopped."""
    fp = ref.prox_objective(name, p, x, t, params)
    fu = ref.prox_objective(name, u, x, t, params)
    assert fp + float(np.sum((u - p) ** 2)) / (2 * t) <= fu + 1e-9 * (1 + abs(fu))


@settings(max_examples=40, deadline=None)
@given(norm_and_input(ref.CONVEX), steps, st.integers(0, 2**32 - 1))
def test_against_scipy_minimisation(
    case: tuple[str, np.ndarray, dict[str, float]], t: float, seed: int
) -> None:
    name, x, params = case
    x = x[:2, :2] if name == "nuclear" else x.reshape(-1)[:4]  # keep Powell's problem small
    p = _prox(name, x, t, **params)
    _assert_no_better_than(name, p, _scipy_prox(name, x, t, params, seed), x, t, params)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("l1", {}),
        ("l2", {}),
        ("squared_l2", {}),
        ("linf", {}),
        ("elastic_net", {"alpha": 1.5, "l1_ratio": 0.3}),
        ("nuclear", {}),
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_scipy_finds_the_same_point(name: str, params: dict[str, float], seed: int) -> None:
    """On generic inputs scipy converges, and lands on our point (the check is not vacuous)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(2, 2) if name == "nuclear" else (4,))
    t = float(rng.choice([0.1, 0.5, 1.0]))
    p = _prox(name, x, t, **params)
    u = _scipy_prox(name, x, t, params, seed)
    _assert_no_better_than(name, p, u, x, t, params)
    np.testing.assert_allclose(u, p, atol=1e-5)


TRUE_NORM_CASES = norm_and_input(ref.TRUE_NORMS)


@settings(max_examples=200, deadline=None)
@given(TRUE_NORM_CASES, steps)
def test_moreau_decomposition(case: tuple[str, np.ndarray, dict[str, float]], t: float) -> None:
    """x = prox_{t‖·‖}(x) + t·Π_{‖·‖_* ≤ 1}(x/t)."""
    name, x, _ = case
    p = _prox(name, x, t)
    q = t * ref.project_dual_ball(name, x / t)
    np.testing.assert_allclose(p + q, x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p, x - q, rtol=1e-9, atol=1e-9 * (1 + t))


@settings(max_examples=200, deadline=None)
@given(arrays(), steps)
def test_closed_forms(x: np.ndarray, t: float) -> None:
    np.testing.assert_allclose(_prox("l1", x, t), np.sign(x) * np.maximum(np.abs(x) - t, 0))
    np.testing.assert_allclose(_prox("squared_l2", x, t), x / (1 + 2 * t), rtol=1e-15)
    n = float(np.linalg.norm(x))
    l2 = np.zeros_like(x) if n <= t else (1 - t / n) * x
    np.testing.assert_allclose(_prox("l2", x, t), l2, rtol=1e-12, atol=1e-15)
    for a, rho in [(1.0, 0.5), (2.0, 0.0), (0.5, 1.0), (0.0, 0.3)]:
        soft = np.sign(x) * np.maximum(np.abs(x) - t * a * rho, 0)
        np.testing.assert_allclose(
            _prox("elastic_net", x, t, alpha=a, l1_ratio=rho),
            soft / (1 + t * a * (1 - rho)),
            rtol=1e-14,
        )


def test_elastic_net_limits() -> None:
    x = np.array([-3.0, 0.2, 1.5])
    t = 0.7
    np.testing.assert_allclose(
        _prox("elastic_net", x, t, alpha=1.0, l1_ratio=1.0), _prox("l1", x, t), rtol=1e-15
    )
    # l1_ratio = 0: α/2·‖x‖² = (α/2)·squared_l2, so prox_{t·g} = prox_{(tα/2)·squared_l2}.
    np.testing.assert_allclose(
        _prox("elastic_net", x, t, alpha=2.0, l1_ratio=0.0), _prox("squared_l2", x, t), rtol=1e-15
    )
    np.testing.assert_array_equal(_prox("elastic_net", x, t, alpha=0.0), x)


@settings(max_examples=150, deadline=None)
@given(vectors(6), steps)
def test_l0_brute_force(x: np.ndarray, t: float) -> None:
    """l0 is not convex; its prox is found by trying every support (u = x on S, 0 off S)."""
    p = _prox("l0", x, t)
    best = math.inf
    for mask in itertools.product([False, True], repeat=x.size):
        u = np.where(np.array(mask), x, 0.0)
        best = min(best, ref.prox_objective("l0", u, x, t))
    assert ref.prox_objective("l0", p, x, t) <= best + 1e-12
    # And p is one of those candidates: each entry is x_i or 0.
    assert np.all((p == x) | (p == 0))


def test_l0_hard_threshold_and_ties() -> None:
    # t = 2: threshold sqrt(4) = 2 exactly; the tie |x_i| = 2 goes to 0.
    x = np.array([2.0, -2.0, 2.0000000000000004, -1.9, 5.0, 0.0])
    np.testing.assert_array_equal(_prox("l0", x, 2.0), [0, 0, 2.0000000000000004, 0, 5.0, 0])
    # t = 0.5: threshold 1.
    np.testing.assert_array_equal(_prox("l0", np.array([1.0, -1.5, 0.99]), 0.5), [0, -1.5, 0])
    # sqrt(2·0.1) is irrational: the float just below it is dropped, the one just above kept.
    two_t = 2 * Fraction(0.1)
    c = math.sqrt(0.2)
    lo, hi = (c, math.nextafter(c, 2)) if Fraction(c) ** 2 < two_t else (math.nextafter(c, 0), c)
    assert Fraction(lo) ** 2 < two_t < Fraction(hi) ** 2
    np.testing.assert_array_equal(_prox("l0", np.array([lo, -hi]), 0.1), [0.0, -hi])


def test_linf_prox_examples() -> None:
    # ‖x‖₁ ≤ t: prox is 0.
    np.testing.assert_array_equal(_prox("linf", np.array([0.5, -0.25]), 1.0), [0.0, 0.0])
    # θ solves Σ max(|x_i| − θ, 0) = t: here (3 − θ) + (2 − θ) = 1 → θ = 2.
    np.testing.assert_allclose(_prox("linf", np.array([3.0, -2.0, 0.5]), 1.0), [2.0, -2.0, 0.5])
    # Ties: (4 − θ)·3 = 3 → θ = 3.
    np.testing.assert_allclose(_prox("linf", np.full((3,), -4.0), 3.0), [-3.0, -3.0, -3.0])


@settings(max_examples=100, deadline=None)
@given(vectors(30), steps)
def test_linf_prox_matches_bisection(x: np.ndarray, t: float) -> None:
    p = _prox("linf", x, t)
    np.testing.assert_allclose(p, x - ref.project_l1_ball_bisection(x, t), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices(), steps)
def test_nuclear_prox_is_svt(x: np.ndarray, t: float) -> None:
    """SVT, checked through the eigendecomposition of XᵀX rather than an SVD of X."""
    p = _prox("nuclear", x, t)
    # Both sides of the prox shrink every singular value by t (or to 0), so the
    # singular values of p are max(σ − t, 0).
    sig = np.linalg.svd(x, compute_uv=False)
    got = np.sort(np.linalg.svd(p, compute_uv=False))[::-1]
    np.testing.assert_allclose(got, np.maximum(sig - t, 0), atol=1e-9)
    assert ref.in_subdifferential("nuclear", (x - p) / t, p, tol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_nuclear_2x2_brute_force(seed: int) -> None:
    """Nelder–Mead restarts over all 2×2 matrices (no SVD), compared with SVT."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(2, 2))
    t = float(rng.choice([0.3, 1.0, 2.0]))

    def nuclear_2x2(u: np.ndarray) -> float:
        # σ1 + σ2 = sqrt(‖U‖_F² + 2|det U|) for 2×2 matrices: no SVD needed.
        a, b, c, d = u
        return math.sqrt(a * a + b * b + c * c + d * d + 2 * abs(a * d - b * c))

    def f(u: np.ndarray) -> float:
        return nuclear_2x2(u) + float(np.sum((u - x.reshape(-1)) ** 2)) / (2 * t)

    best = None
    for start in [x.reshape(-1), np.zeros(4), *rng.normal(size=(4, 4))]:
        res = optimize.minimize(
            f,
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-15, "maxfev": 20000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    p = _prox("nuclear", x, t)
    assert nuclear_2x2(p.reshape(-1)) == pytest.approx(ref.value("nuclear", p), abs=1e-12)
    assert f(p.reshape(-1)) <= best.fun + 1e-12
    np.testing.assert_allclose(p.reshape(-1), best.x, atol=1e-5)


def test_prox_with_extreme_values_and_steps() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = np.array([1e300, -1e300, 5e299])
        np.testing.assert_allclose(_prox("linf", big, 1e300), [5e299, -5e299, 5e299])
        np.testing.assert_array_equal(_prox("linf", big, 1e-300), big)  # θ rounds to max|x|
        np.testing.assert_allclose(_prox("l2", np.full(4, 1e200), 1e200), 0.5e200, rtol=1e-15)
        np.testing.assert_array_equal(_prox("l2", np.full(4, 1e-200), 1e300), np.zeros(4))
        # x / (1 + 2t) with 1 + 2t beyond the float range: exact rationals are the oracle
        for x, t in ((big, 1e308), (np.array([1e308, 3.0, -5e-300]), 1.7e308)):
            exact = [float(Fraction(v) / (1 + 2 * Fraction(t))) for v in x]
            np.testing.assert_allclose(_prox("squared_l2", x, t), exact, rtol=4e-16)
        for alpha, rho, t in ((1e308, 0.0, 10.0), (1e308, 0.25, 1e300), (2.0, 0.0, 1.7e308)):
            x = np.array([1e308, -7.0, 1e-300])
            tau = Fraction(t) * Fraction(alpha) * Fraction(rho)
            c = 1 + Fraction(t) * Fraction(alpha) * (1 - Fraction(rho))
            exact = [
                float(int(np.sign(v)) * max(abs(Fraction(v)) - tau, Fraction(0)) / c) for v in x
            ]
            np.testing.assert_allclose(
                _prox("elastic_net", x, t, alpha=alpha, l1_ratio=rho), exact, rtol=4e-16
            )
        for name in ("l1", "elastic_net", "linf"):
            assert not np.any(_prox(name, big, 1.7e308))
        # l0 keeps |x_i| > sqrt(2t) ≈ 1.8e154, even for the largest step.
        np.testing.assert_array_equal(_prox("l0", big, 1.7e308), big)
        np.testing.assert_array_equal(_prox("l0", np.array([1.9e154]), 1.7e308), [1.9e154])
        np.testing.assert_array_equal(_prox("l0", np.array([1.8e154]), 1.7e308), [0.0])
        np.testing.assert_array_equal(_prox("elastic_net", big, 1e308, l1_ratio=1.0), 0 * big)
        np.testing.assert_array_equal(
            _prox("elastic_net", np.array([3.0]), 1e308, alpha=1e10, l1_ratio=1.0), [0.0]
        )
        m = np.array([[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_allclose(
            _prox("nuclear", 1e300 * m, 1e300), 1e300 * _prox("nuclear", m, 1.0), rtol=1e-12
        )
        np.testing.assert_array_equal(_prox("nuclear", 1e-300 * m, 1.0), np.zeros((2, 2)))
        x32 = np.array([3e38, -1.0, 2.0], dtype=np.float32)
        p32 = _prox("linf", x32, 1.0)
        assert p32.dtype == np.float32
        np.testing.assert_allclose(p32, [3e38 - 1.0, -1.0, 2.0], rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(norm_and_input(ref.TRUE_NORMS), steps, st.sampled_from([1e-3, 4.0, 2.0**40]))
def test_positive_homogeneity(
    case: tuple[str, np.ndarray, dict[str, float]], t: float, c: float
) -> None:
    """For a norm, prox_{ct‖·‖}(cx) = c·prox_{t‖·‖}(x)."""
    name, x, _ = case
    np.testing.assert_allclose(
        _prox(name, c * x, c * t), c * _prox(name, x, t), rtol=1e-9, atol=1e-9 * c
    )
