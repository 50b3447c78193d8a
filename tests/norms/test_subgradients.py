"""Subgradients: membership in the subdifferential, the subgradient inequality,
finite differences where g is differentiable, and the documented kink conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscore import evaluate_norm

from . import _oracles as ref
from ._strategies import arrays, elastic_params, matrices, norm_and_input

CONVEX_CASES = norm_and_input(ref.CONVEX)


@settings(max_examples=200, deadline=None)
@given(CONVEX_CASES)
def test_subgradient_is_in_the_subdifferential(
    case: tuple[str, np.ndarray, dict[str, float]],
) -> None:
    name, x, params = case
    s = evaluate_norm(name, x, **params).subgradient
    assert s.shape == x.shape
    assert ref.in_subdifferential(name, s, x, params)


@settings(max_examples=150, deadline=None)
@given(CONVEX_CASES, st.integers(0, 2**32 - 1))
def test_subgradient_inequality(case: tuple[str, np.ndarray, dict[str, float]], seed: int) -> None:
    """g(y) ≥ g(x) + ⟨s, y − x⟩ for random y near and far from x."""
    name, x, params = case
    s = evaluate_norm(name, x, **params).subgradient
    gx = ref.value(name, x, params)
    rng = np.random.default_rng(seed)
    for scale in (1e-6, 1e-2, 1.0, 10.0):
        for _ in range(5):
            y = x + scale * rng.normal(size=x.shape)
            lhs = ref.value(name, y, params)
            rhs = gx + float(np.sum(s * (y - x)))
            assert lhs >= rhs - 1e-9 * (1 + abs(lhs))


@settings(max_examples=100, deadline=None)
@given(arrays(), st.integers(0, 2**32 - 1))
def test_l0_zero_is_a_local_subgradient(x: np.ndarray, seed: int) -> None:
    """l0 is not convex: 0 is a regular subgradient, i.e. l0(y) ≥ l0(x) for y near x."""
    r = evaluate_norm("l0", x)
    assert np.all(r.subgradient == 0)
    nz = np.abs(x[x != 0])
    radius = 0.5 * float(nz.min()) if nz.size else 1.0
    rng = np.random.default_rng(seed)
    for _ in range(10):
        y = x + rng.uniform(-radius, radius, size=x.shape)
        assert np.count_nonzero(y) >= np.count_nonzero(x)


def _central_difference(name: str, x: np.ndarray, params: dict[str, float], h: float) -> np.ndarray:
    grad = np.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        flat[i] = (ref.value(name, x + e, params) - ref.value(name, x - e, params)) / (2 * h)
    return grad


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("l1", {}),
        ("l2", {}),
        ("squared_l2", {}),
        ("linf", {}),
        ("elastic_net", {}),
        ("elastic_net", {"alpha": 0.7, "l1_ratio": 0.2}),
        ("nuclear", {}),
    ],
)
@pytest.mark.parametrize("seed", range(5))
def test_finite_differences_where_differentiable(
    name: str, params: dict[str, float], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Generic random points: no zero entries, a unique max, distinct non-zero singular values.
    x = rng.normal(size=(3, 4)) if name == "nuclear" else rng.normal(size=(2, 3))
    s = evaluate_norm(name, x, **params).subgradient
    fd = _central_difference(name, x, params, h=1e-6)
    np.testing.assert_allclose(s, fd, rtol=1e-6, atol=1e-7)


def test_kink_conventions() -> None:
    # l1: sign with 0 at 0.
    s = evaluate_norm("l1", [-2.0, 0.0, 3.0, -0.0]).subgradient
    assert s.tolist() == [-1.0, 0.0, 1.0, 0.0]
    assert not np.signbit(s[1]) and not np.signbit(s[3])
    # l2 at 0: the zero vector.
    assert evaluate_norm("l2", np.zeros(3)).subgradient.tolist() == [0.0, 0.0, 0.0]
    # linf: sign/m over the m entries attaining the max.
    assert evaluate_norm("linf", [3.0, -3.0, 1.0, 3.0]).subgradient.tolist() == pytest.approx(
        [1 / 3, -1 / 3, 0.0, 1 / 3]
    )
    assert evaluate_norm("linf", [0.5, -2.0]).subgradient.tolist() == [0.0, -1.0]
    assert evaluate_norm("linf", np.zeros((2, 2))).subgradient.tolist() == [[0.0, 0.0]] * 2
    # elastic net at 0: 0 (sign(0) = 0).
    assert evaluate_norm("elastic_net", [0.0, 2.0], alpha=2, l1_ratio=0.5).subgradient.tolist() == [
        0.0,
        2 * (0.5 + 0.5 * 2.0),
    ]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_linf_subgradient_has_minimum_norm(m: int, seed: int) -> None:
    """Every other subgradient (a convex combination of the tied signed basis vectors) is longer."""
    rng = np.random.default_rng(seed)
    n = m + 3
    x = rng.uniform(-0.9, 0.9, size=n)
    tied = rng.choice(n, size=m, replace=False)
    x[tied] = rng.choice([-1.0, 1.0], size=m)
    s = evaluate_norm("linf", x).subgradient
    assert ref.in_subdifferential("linf", s, x)
    for _ in range(20):
        w = rng.dirichlet(np.ones(m))
        other = np.zeros(n)
        other[tied] = w * np.sign(x[tied])
        assert ref.in_subdifferential("linf", other, x)
        assert np.linalg.norm(s) <= np.linalg.norm(other) + 1e-15


@settings(max_examples=60, deadline=None)
@given(elastic_params, arrays())
def test_elastic_net_subgradient_closed_form(params: dict[str, float], x: np.ndarray) -> None:
    a, rho = params["alpha"], params["l1_ratio"]
    s = evaluate_norm("elastic_net", x, **params).subgradient
    np.testing.assert_allclose(s, a * (rho * np.sign(x) + (1 - rho) * x), rtol=1e-15, atol=0)


def test_nuclear_subgradient_full_rank_is_the_polar_factor() -> None:
    """For full-column-rank X, U Vᵀ = X (XᵀX)^{-1/2} (computed here through eigh, not SVD)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 3))
    w, q = np.linalg.eigh(x.T @ x)
    polar = x @ (q / np.sqrt(w)) @ q.T
    np.testing.assert_allclose(evaluate_norm("nuclear", x).subgradient, polar, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nuclear_subgradient_rank_deficient(dtype: type) -> None:
    """Rank one: S = u vᵀ for unit u, v — the rank tolerance drops the round-off singular values."""
    rng = np.random.default_rng(4)
    u = rng.normal(size=4)
    v = rng.normal(size=3)
    x = (7.0 * np.outer(u, v)).astype(dtype)
    s = evaluate_norm("nuclear", x).subgradient
    assert s.dtype == dtype
    expected = np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    np.testing.assert_allclose(s, expected, atol=1e-5 if dtype == np.float32 else 1e-12)
    assert ref.in_subdifferential("nuclear", s.astype(np.float64), x.astype(np.float64), tol=1e-5)
    # Rank 2 of 3 with a zero block.
    d = np.diag([5.0, 2.0, 0.0])
    np.testing.assert_array_equal(
        np.abs(evaluate_norm("nuclear", d).subgradient), np.diag([1.0, 1.0, 0.0])
    )


@settings(max_examples=60, deadline=None)
@given(matrices())
def test_nuclear_subgradient_has_unit_spectral_norm(x: np.ndarray) -> None:
    s = evaluate_norm("nuclear", x).subgradient
    if not np.any(x):
        assert not np.any(s)
        return
    sig = np.linalg.svd(s, compute_uv=False)
    # Singular values of U_r V_rᵀ are exactly r ones and zeros.
    assert np.all((np.abs(sig - 1) < 1e-9) | (sig < 1e-9))
