"""The smallest α at which the penalised fit is all-zero (the top of a regularisation path).

With w = 0 the model is intercepts only: b* minimises Σᵢ aᵢ ℓ(yᵢ, b) (aᵢ = sᵢcᵢ/Σs, the fit's
normalised weights). w = 0 stays optimal while the loss's gradient at (0, b*) is within the
l1 part of the penalty in every coordinate. In the user's units, with uⱼ the penalised unit
of feature j (σⱼ with ``standardize``, else 1):

    α₀ = maxⱼ |Σᵢ aᵢ gᵢ xᵢⱼ| / (l1_ratio · uⱼ),    gᵢ = ∂ℓ(yᵢ, f)/∂f at f = b*

(the l2 part and the solver's scaling cancel: its gradient vanishes at w = 0). This is
scikit-learn's ``l1_min_c`` / glmnet's λ_max, for any loss. At a kink of a piecewise-linear
loss gᵢ may be any value between its one-sided slopes: α₀ is then the optimum of a small
linear program over those rows (HiGHS), with Σᵢ aᵢgᵢ = 0 when there is an intercept. When b*
is not unique (a flat stretch of a piecewise-linear loss) the solver's b* is used, and α₀ is
exact for it; an LP not solved within ``LP_SECONDS`` falls back to the loss's own
subgradient convention (an upper bound). For a pure l2 penalty no finite α gives w = 0: glmnet's convention (the α₀ of
l1_ratio = 10⁻³) places the top of the grid.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.evaluate import evaluate
from losscore.train._problem import Problem

__all__ = ["RIDGE_L1_RATIO", "zero_alpha"]

RIDGE_L1_RATIO = 1e-3  # glmnet's stand-in l1 share for the top of a pure-l2 path
LP_SECONDS = 10.0  # the kink LP's time budget (hundreds of kink rows: milliseconds)
_SIDE = 1e-9  # relative offset at which one-sided slopes of a piecewise-linear loss are read


def _gradient(problem: Problem, f: FloatArray) -> FloatArray:
    """∂ℓ(yᵢ, fᵢ)/∂fᵢ (n,) or (n, k)."""
    out = evaluate(problem.loss, f, problem.target, reduction="none", **problem.params)  # type: ignore[arg-type]
    grad: FloatArray = out.gradient
    return grad


def _scores(problem: Problem, b: FloatArray) -> FloatArray:
    n = problem.n
    return np.full(n, float(b[0])) if problem.k == 1 else np.tile(b, (n, 1))


def _intercepts(problem: Problem) -> FloatArray:
    """b* of the intercept-only model (zeros without an intercept)."""
    from scipy.optimize import brentq, minimize  # ~0.6 s at first use: not at start-up (issue 16)

    k = problem.k
    if not problem.fit_intercept:
        return np.zeros(k)
    a = problem.a
    if k == 1:

        def slope(b: float) -> float:
            return float(a @ _gradient(problem, np.full(problem.n, b)))

        lo, hi = -1.0, 1.0
        while slope(lo) > 0:
            lo *= 4.0
        while slope(hi) < 0:
            hi *= 4.0
        return np.array([brentq(slope, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps)])

    def value_grad(b: FloatArray) -> tuple[float, FloatArray]:
        f = _scores(problem, b)
        out = evaluate(problem.loss, f, problem.target, reduction="none", **problem.params)  # type: ignore[arg-type]
        return float(a @ out.elementwise), a @ out.gradient

    res = minimize(value_grad, np.zeros(k), jac=True, method="L-BFGS-B", tol=1e-14)
    return np.asarray(res.x, dtype=np.float64)


def zero_alpha(problem: Problem, l1_ratio: float, unit: FloatArray, exact: bool = True) -> float:
    """α₀ of *problem* (see the module docstring); ``l1_ratio`` > 0. Without ``exact`` (the
    top of a pure-l2 grid, a convention anyway) kink rows keep the loss's own subgradient
    convention instead of the LP's choice."""
    b = _intercepts(problem)
    f = _scores(problem, b)
    g = _gradient(problem, f)
    X, a = problem.X, problem.a
    if problem.k > 1:
        G = (a[:, None] * g).T @ X  # (k, d)
        return float(np.max(np.abs(G) / unit)) / l1_ratio
    piecewise = getattr(problem.loss, "piecewise_linear", None)
    if not exact or piecewise is None or not piecewise(problem.params):  # g is exact (smooth)
        return float(np.max(np.abs((a * g) @ X) / unit)) / l1_ratio
    # piecewise linear: the gradient is constant on each piece, so the slopes just left and
    # right of f differ exactly at the rows sitting on a kink
    step = _SIDE * max(1.0, float(np.max(np.abs(f))))
    left, right = _gradient(problem, f - step), _gradient(problem, f + step)
    kink = left != right
    if not kink.any():
        return float(np.max(np.abs((a * g) @ X) / unit)) / l1_ratio
    low, high = np.minimum(left, right), np.maximum(left, right)
    return _lp_alpha(X, a, g, kink, low, high, unit, problem.fit_intercept) / l1_ratio


def _lp_alpha(
    X: FloatArray,
    a: FloatArray,
    g: FloatArray,
    kink: NDArray[np.bool_],
    low: FloatArray,
    high: FloatArray,
    unit: FloatArray,
    fit_intercept: bool,
) -> float:
    """min t over the kink rows' subgradients λᵢ ∈ [lowᵢ, highᵢ]:
    |cⱼ + Σ λᵢaᵢxᵢⱼ| ≤ t·uⱼ for every j, and c₀ + Σ λᵢaᵢ = 0 with an intercept."""
    from scipy.optimize import linprog  # ~0.6 s at first use: not at start-up (issue 16)

    fixed = ~kink
    c = (a[fixed] * g[fixed]) @ X[fixed]  # (d,)
    A = (a[kink][:, None] * X[kink]).T / unit[:, None]  # (d, m)
    c = c / unit
    m = A.shape[1]
    d = A.shape[0]
    # variables: λ (m), t; minimise t
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    ones = np.ones((d, 1))
    A_ub = np.vstack([np.hstack([A, -ones]), np.hstack([-A, -ones])])
    b_ub = np.concatenate([-c, c])
    A_eq = b_eq = None
    if fit_intercept:
        A_eq = np.concatenate([a[kink], [0.0]])[None, :]
        b_eq = np.array([-float(a[fixed] @ g[fixed])])
    bounds = [(float(lo), float(hi)) for lo, hi in zip(low[kink], high[kink], strict=True)]
    res = linprog(
        cost,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=[*bounds, (0, None)],
        options={"time_limit": LP_SECONDS},
    )
    # not solved (numerically infeasible, or over its time): the convention's own
    # subgradients, an upper bound of α₀ (w = 0 is still optimal there)
    if res.status != 0:
        return float(np.max(np.abs((a * g) @ X / unit)))
    return float(res.x[-1])
