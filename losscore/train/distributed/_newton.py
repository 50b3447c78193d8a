"""Proximal Newton from Gram-type block sums (private): the distributed fit's method for
one-score losses with a second derivative (smooth losses, and the smoothed stages of the
piecewise-linear ones).

Each pass returns the data term D, its gradient g and its Hessian H = Σ aᵢℓ''ᵢz̃ᵢz̃ᵢᵀ in
solver coordinates ((d + 1)² numbers, whatever the row count). The step minimises the model

    g·(u − θ) + ½(u − θ)ᵀH(u − θ) + ½Σλ2ⱼuⱼ² + Σλ1ⱼ|uⱼ|

exactly: a linear solve without an l1 part, else cyclic coordinate descent on the (d + 1)-
dimensional quadratic (the in-memory Gram solver); then a backtracking (Armijo) line search
on F, one pass per trial. A Newton method needs few passes where L-BFGS needs tens: passes,
not arithmetic, are what a distributed fit pays for.

The Hessian may come from a sample of the rows (``problem.hessian_stride``): the direction
is then an inexact Newton step, the gradient, the line search and the optimality measure
stay exact. Once steps stop shrinking the optimality measure (linear convergence: the
sample's curvature is not good enough here), need a short step, or a sampled model gives no
descent, later passes sum the Hessian over every row.

Optimality measure: the ∞-norm of the minimum-norm subgradient (as L-BFGS-B's), so ``tol``
means what it means in the in-memory fit.
"""

from __future__ import annotations

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.solvers._exact import GramQuadratic, solve_linear, solve_quadratic
from losscore.train.solvers._lbfgs import kkt_residual
from losscore.train.solvers._monitor import Monitor, SolverOutput

__all__ = ["proximal_newton"]

ARMIJO = 1e-4
# a sampled Hessian is dropped once two steps in a row each shrink the optimality measure less
# than SLOW-fold, after the first SLOW_AFTER steps (Newton's damped phase is slow too), or once
# a step is shorter than the shortest of FIRST_STEPS
SLOW, SLOW_AFTER = 4.0, 4
FIRST_STEPS = np.array([1.0, 0.5, 0.25, 0.0625])
ALL_STEPS = np.ldexp(1.0, -np.arange(2, 30))  # ¼, …, 2⁻²⁹ (1 and ½ were just tried)


def proximal_newton(
    problem: ChunkedProblem,
    theta: FloatArray,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
    solver_name: str = "newton",
) -> SolverOutput:
    m, p = problem.size, problem.n_coef
    lam1 = problem.lam1
    lam2 = np.concatenate([problem.lam2, np.zeros(m - p)])
    D, g, H = problem.newton_terms(theta)
    F = _objective(D, theta, lam1, lam2)
    it, last_opt, last_t, slow = 0, np.inf, 0.0, 0
    while True:
        G = g + lam2 * theta
        opt = kkt_residual(G, theta, lam1)
        if it and monitor.record(F, opt):
            return SolverOutput(theta, it, opt <= tol, "time_limit", opt, solver_name)
        if opt <= tol:
            return SolverOutput(theta, it, True, "tolerance", opt, solver_name)
        if it >= max_iter:
            return SolverOutput(theta, it, False, "max_iter", opt, solver_name)
        slow = (slow + 1) if opt * SLOW > last_opt else 0
        stalled = (slow >= 2 and it >= SLOW_AFTER) or 0 < last_t < FIRST_STEPS[-1]
        if problem.hessian_stride > 1 and stalled:
            D, g, H = _exact(problem, theta)
        last_opt = opt
        step, decrease = _newton_step(theta, g, H, lam1, lam2)
        if step is None and problem.hessian_stride > 1:  # the sample's curvature misleads
            D, g, H = _exact(problem, theta)
            step, decrease = _newton_step(theta, g, H, lam1, lam2)
        if step is None:  # no curvature along some direction: the caller falls back
            return SolverOutput(theta, it, False, "no_progress", opt, solver_name)
        # the full step and three shorter ones ride along with the Newton sums at the full
        # step (one pass when the full step is taken); 28 shorter ones otherwise (one more pass)
        values, at_full_step = problem.step_terms(theta, step, FIRST_STEPS)
        t = _line_search(theta, step, FIRST_STEPS, values, F, decrease, lam1, lam2)
        if t is None:
            values = problem.line_values(theta, step, ALL_STEPS)
            t = _line_search(theta, step, ALL_STEPS, values, F, decrease, lam1, lam2)
        if t is None and problem.hessian_stride > 1:
            D, g, H = _exact(problem, theta)
            last_t = 0.0
            continue
        if t is None:
            return SolverOutput(theta, it, False, "no_progress", opt, solver_name)
        theta, last_t = theta + t * step, t
        D, g, H = at_full_step if t == 1.0 else problem.newton_terms(theta)
        F = _objective(D, theta, lam1, lam2)
        it += 1


def _exact(problem: ChunkedProblem, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Newton terms at θ with the Hessian of every row (one pass), from now on."""
    problem.exact_hessian()
    return problem.newton_terms(theta)


def _newton_step(
    theta: FloatArray, g: FloatArray, H: FloatArray, lam1: FloatArray, lam2: FloatArray
) -> tuple[FloatArray | None, float]:
    """(the model minimiser − θ, the model's predicted decrease), or (None, 0) when the model
    has no finite minimiser or predicts no decrease."""
    with np.errstate(all="ignore"):
        u = _model_minimiser(theta, g, H, lam1, lam2)
    if not np.isfinite(u).all():
        return None, 0.0
    decrease = float(g @ (u - theta)) + _penalty(u, lam1, lam2) - _penalty(theta, lam1, lam2)
    if not decrease < 0:
        return None, 0.0
    return u - theta, decrease


def _line_search(
    theta: FloatArray,
    step: FloatArray,
    ts: FloatArray,
    values: FloatArray,
    F: float,
    decrease: float,
    lam1: FloatArray,
    lam2: FloatArray,
) -> float | None:
    """The step size among ``ts`` (their data terms ``values`` from one pass) with the lowest F
    that meets Armijo's condition (None: none decreases F enough)."""
    best: tuple[float, float] | None = None
    for t, D_t in zip(ts.tolist(), values.tolist(), strict=True):
        F_t = _objective(D_t, theta + t * step, lam1, lam2)
        if F_t <= F + ARMIJO * t * decrease and (best is None or F_t < best[1]):
            best = (t, F_t)
    return None if best is None else best[0]


def _penalty(theta: FloatArray, lam1: FloatArray, lam2: FloatArray) -> float:
    v = theta[: lam1.shape[0]]
    return float(lam1 @ np.abs(v)) + 0.5 * float(lam2 @ (theta * theta))


def _objective(D: float, theta: FloatArray, lam1: FloatArray, lam2: FloatArray) -> float:
    return D + _penalty(theta, lam1, lam2)


def _model_minimiser(
    theta: FloatArray, g: FloatArray, H: FloatArray, lam1: FloatArray, lam2: FloatArray
) -> FloatArray:
    """argmin_u of the model in the module docstring. H is damped by 1e-12 of its mean
    diagonal (a loss flat on every row, e.g. a smoothed hinge beyond its margins, leaves it
    singular)."""
    A = H.copy()
    A.flat[:: A.shape[0] + 1] += 1e-12 * max(float(np.trace(A)) / A.shape[0], 1e-300)
    b = A @ theta - g  # the model is ½uᵀAu − bᵀu + penalty(u) + const
    if not lam1.any():
        M = A.copy()
        M.flat[:: M.shape[0] + 1] += lam2
        return solve_linear(M, b)
    # the Gram solver minimises uᵀH'u − 2q'ᵀu + ½λ2u² + λ1|u|: H' = A/2, q' = b/2
    quad = GramQuadratic.of_sums(0.5 * A, 0.5 * b, 0.0, lam2[: lam1.shape[0]], None)
    quad.lam2 = lam2
    out = solve_quadratic(
        quad,
        lam1,
        tol=1e-13 * max(1.0, float(np.abs(b).max())),
        max_iter=10_000,
        monitor=Monitor(None),
    )
    return out.theta
