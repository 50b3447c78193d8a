"""The exact crossover of the smoothing continuation, from block sums and a few gathered rows
(private): the distributed form of ``solvers._piecewise._crossover`` (l2 penalty, one score).

At a smoothed solution every ramp term of a piecewise-linear loss is off, on, or at its kink.
Fixing that partition the optimality conditions of the exact problem are linear (see
``solvers/_piecewise.py``); they need only Σ aᵢgfixᵢzᵢ over all rows (a block sum) and the
rows of the terms at a kink, which are few (at most ``2(d + 1) + 10`` are gathered; more and
the crossover is not tried). One pass gathers them, the (|E| + 1)-system is solved on the
driver, and one more pass checks that no fixed term crossed its kink at the new point and
evaluates the exact objective there. If it holds, the point satisfies every KKT condition: the
exact optimum, as the in-memory crossover finds it.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from losscore._arrays import FloatArray
from losscore.train.distributed._blocks import kink_check, kink_terms, merge_kinks
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.solvers._monitor import inf_norm
from losscore.train.solvers._piecewise import PiecewiseLinear

__all__ = ["crossover"]


def crossover(
    problem: ChunkedProblem, pl: PiecewiseLinear, theta: FloatArray, tol: float
) -> tuple[FloatArray, float, float] | None:
    """(θ*, KKT residual, F(θ*)) for the partition read at θ (smoothing width ``pl.mu``), or
    None when it does not give the exact optimum (the continuation then goes on)."""
    lam2 = problem.lam2
    if problem.k != 1 or problem.lam1.any() or not (lam2 > 0).all():
        return None
    d = problem.d
    limit = 2 * (d + 1) + 10
    w_raw, b_raw = problem.raw(theta)
    r0, r0b, W, peak, count, xs, ws, ks, ds = problem.source.run(
        kink_terms, merge_kinks, problem.target, pl, w_raw, b_raw, limit
    )
    if xs is None or count > limit:
        return None
    XE = np.vstack(xs) if xs else np.zeros((0, d))
    aE = np.concatenate(ws) / W if ws else np.zeros(0)
    KE = np.concatenate(ks) if ks else np.zeros(0)
    DE = np.concatenate(ds) if ds else np.zeros(0)
    ZE = (XE - problem.mean) / problem.scale
    r0z = (r0 / W - problem.mean * (r0b / W)) / problem.scale
    r0b = r0b / W
    if problem.linear is not None:  # a band problem's fixed rows
        r0z = r0z + problem.linear[:d]
        r0b = r0b + (float(problem.linear[d]) if problem.fit_intercept else 0.0)
    solved = _solve_kkt(ZE, aE, KE, DE, r0z, r0b, lam2, problem.fit_intercept)
    if solved is None:
        return None
    v, b_new, kink_g = solved
    theta_new = np.concatenate([v, [b_new]]) if problem.fit_intercept else v
    # the gradient at θ_new for the partition: λ2v + Zᵀ(a·g), Σ a·g (by construction ≈ 0)
    grad_v = lam2 * v + r0z + ZE.T @ (aE * kink_g)
    grad_b = r0b + float(aE @ kink_g) if problem.fit_intercept else 0.0
    resid = max(inf_norm(grad_v), abs(grad_b))
    if resid > tol:
        return None
    ftol = 1e-9 * (1.0 + peak)
    new_raw = problem.raw(theta_new)
    crossed, kink_resid, loss_sum, weight_sum = problem.source.run(
        kink_check, _add4, problem.target, pl, (w_raw, b_raw), new_raw, ftol
    )
    if crossed or kink_resid > 10 * ftol:
        return None
    linear = 0.0 if problem.linear is None else float(problem.linear @ theta_new)
    return theta_new, resid, loss_sum / weight_sum + linear + problem.penalty(theta_new)


def _add4(*parts: tuple[int, float, float, float]) -> tuple[int, float, float, float]:
    crossed, resid, loss, weight = parts[0]
    for c, r, lo, w in parts[1:]:
        crossed, resid, loss, weight = crossed + c, max(resid, r), loss + lo, weight + w
    return crossed, resid, loss, weight


def _solve_kkt(
    ZE: FloatArray,
    aE: FloatArray,
    KE: FloatArray,
    DE: FloatArray,
    r0z: FloatArray,
    r0b: float,
    lam2: FloatArray,
    fit_intercept: bool,
) -> tuple[FloatArray, float, FloatArray] | None:
    """v, b and the kink terms' slopes Δβ with every kink term exactly at its kink:
    zₑ·v + b = κₑ, v = −(r0z + Σₑ aₑΔₑβₑzₑ)/λ2, Σ a·g = 0 (with an intercept); None when a β
    leaves [0, 1]."""
    inv = 1.0 / lam2
    m = ZE.shape[0]
    M = (ZE * inv) @ ZE.T
    rhs_top = KE + ZE @ (r0z * inv)
    if fit_intercept:
        sys_ = np.zeros((m + 1, m + 1))
        sys_[:m, :m] = -M
        sys_[:m, m] = 1.0
        sys_[m, :m] = 1.0
        rhs = np.concatenate([rhs_top, [-r0b]])
    else:
        sys_, rhs = -M, rhs_top
    if sys_.size == 0:
        sol = np.zeros(0)
    else:
        sol = scipy.linalg.lstsq(sys_, rhs, check_finite=False, lapack_driver="gelsd")[0]
    b_new = float(sol[m]) if fit_intercept else 0.0
    beta = sol[:m] / (aE * DE) if m else np.zeros(0)
    if m and (beta.min() < -1e-9 or beta.max() > 1 + 1e-9):
        return None
    kink_g = DE * np.clip(beta, 0.0, 1.0)
    v = -(r0z + ZE.T @ (aE * kink_g)) * inv
    return v, b_new, kink_g
