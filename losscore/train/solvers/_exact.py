"""Squared-error loss (ℓ = r², no ½) solved through its Gram matrix (private).

With Z₁ = [Z, 1] (the column of ones only when fitting an intercept), A = diag(aᵢ),
the data term is the quadratic  θᵀHθ − 2qᵀθ + c  with H = Z₁ᵀAZ₁, q = Z₁ᵀAy,
c = Σ aᵢyᵢ². One pass over the data (block by block) builds H, q, c; after that

* penalty l2 / none: the minimiser solves (H + ½Λ)θ = q, Λ = diag(λ2, 0) — a
  Cholesky solve when well conditioned, else a least-squares solve
  (``scipy.linalg.lstsq``, minimum-norm for singular H) on the factor;
* penalty l1 / elastic net: L-BFGS-B on the split problem with this cheap
  d-dimensional oracle (no further passes over the data).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from losscore._arrays import FloatArray
from losscore.train._problem import Problem
from losscore.train.solvers._lbfgs import kkt_residual, minimize_smooth
from losscore.train.solvers._monitor import Monitor, SolverOutput

__all__ = ["GramQuadratic", "solve_squared_error"]


class GramQuadratic:
    """The squared-error data term as a quadratic form (built in one blocked pass)."""

    def __init__(self, problem: Problem) -> None:
        d = problem.d
        m = d + 1 if problem.fit_intercept else d
        H = np.zeros((m, m))
        q = np.zeros(m)
        c = 0.0
        y = problem.target
        for sl in problem.blocks():
            Z = problem.rows(sl)
            a = problem.a[sl]
            Z1 = np.hstack([Z, np.ones((Z.shape[0], 1))]) if problem.fit_intercept else Z
            aZ = Z1 * a[:, None]
            H += Z1.T @ aZ
            q += aZ.T @ y[sl]
            c += float(a @ (y[sl] * y[sl]))
        self.H, self.q, self.c = H, q, c
        self.lam2 = np.concatenate([problem.lam2, np.zeros(m - d)])

    def value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Data term + ½Σλ2v² and its gradient, in O(d²)."""
        Ht = self.H @ theta
        val = float(theta @ Ht - 2 * self.q @ theta + self.c)
        val = max(val, 0.0) + 0.5 * float(self.lam2 @ (theta * theta))
        return val, 2 * Ht - 2 * self.q + self.lam2 * theta


def _solve_linear(M: FloatArray, rhs: FloatArray) -> FloatArray:
    try:
        factor = scipy.linalg.cho_factor(M, lower=True, check_finite=False)
        diag = np.diag(factor[0])
        if diag.min() > 1e-7 * diag.max():
            return np.asarray(scipy.linalg.cho_solve(factor, rhs, check_finite=False))
    except np.linalg.LinAlgError:
        pass
    # singular or ill-conditioned: minimum-norm least squares on the symmetric factor
    w, V = np.linalg.eigh(M)
    keep = w > w.max() * 1e-14
    return np.asarray(V[:, keep] @ ((V[:, keep].T @ rhs) / w[keep]))


def solve_squared_error(
    problem: Problem, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """Exact solve (l2 / none penalty) or Gram-based L-BFGS-B (l1 / elastic net)."""
    quad = GramQuadratic(problem)
    if not problem.lam1.any():
        M = quad.H + 0.5 * np.diag(quad.lam2)
        theta = _solve_linear(M, quad.q)
        # one step of iterative refinement against the exact normal equations
        theta = theta + _solve_linear(M, quad.q - M @ theta)
        _, grad = problem.smooth_value_grad(theta)
        opt = kkt_residual(grad, theta, problem.lam1)
        monitor.record(quad.value_grad(theta)[0], opt)
        return SolverOutput(theta, 1, True, "exact", opt, "normal_equations")
    out = minimize_smooth(
        quad.value_grad,
        np.zeros(problem.size),
        problem.lam1,
        tol=tol,
        max_iter=max_iter,
        monitor=monitor,
        solver_name="gram_lbfgs_b",
    )
    _, grad = problem.smooth_value_grad(out.theta)
    out.optimality = kkt_residual(grad, out.theta, problem.lam1)
    return out
