"""Squared-error loss (ℓ = r², no ½) solved through its Gram matrix (private).

With Z₁ = [Z, 1] (the column of ones only when fitting an intercept), A = diag(aᵢ),
the data term is the quadratic  θᵀHθ − 2qᵀθ + c  with H = Z₁ᵀAZ₁, q = Z₁ᵀAy,
c = Σ aᵢyᵢ². One pass over the data (block by block) builds H, q, c; after that

* penalty l2 / none: the minimiser solves (H + ½Λ)θ = q, Λ = diag(λ2, 0) — a
  Cholesky solve when well conditioned, else a least-squares solve
  (``scipy.linalg.lstsq``, minimum-norm for singular H) on the factor;
* penalty l1 / elastic net: cyclic coordinate descent on the quadratic (the "covariance"
  form of glmnet): coordinate j solves
  θⱼ ← S(qⱼ − Σₖ≠ⱼ Hⱼₖθₖ, λ1ⱼ/2) / (Hⱼⱼ + λ2ⱼ/2),  S the soft threshold,
  with no further passes over the data; stops when the KKT residual (∞-norm of the
  minimum-norm subgradient of F) is below tol.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from losscore._arrays import FloatArray
from losscore.train._problem import Problem
from losscore.train.solvers._lbfgs import kkt_residual
from losscore.train.solvers._monitor import Monitor, SolverOutput

__all__ = ["GramQuadratic", "solve_linear", "solve_squared_error"]


class GramQuadratic:
    """The squared-error data term as a quadratic form (built in one blocked pass)."""

    def __init__(self, problem: Problem) -> None:
        d = problem.d
        m = d + 1 if problem.fit_intercept else d
        self.lam2 = np.concatenate([problem.lam2, np.zeros(m - d)])
        if problem.gram is not None:
            self._from_moments(problem, problem.gram, m)
            return
        H = np.zeros((m, m))
        q = np.zeros(m)
        c = 0.0
        y = problem.target
        for sl in problem.blocks():
            Z = problem.rows(sl)
            a = problem.a[sl]
            aZ = Z * a[:, None]
            H[:d, :d] += Z.T @ aZ
            q[:d] += aZ.T @ y[sl]
            if problem.fit_intercept:
                col = aZ.sum(axis=0)
                H[:d, d] += col
                H[d, :d] += col
                H[d, d] += float(a.sum())
                q[d] += float(a @ y[sl])
            c += float(a @ (y[sl] * y[sl]))
        self.H, self.q, self.c = H, q, c

    def _from_moments(self, problem: Problem, gram: FloatArray, m: int) -> None:
        """H, q, c from the centred Gram Σ aᵢ(xᵢ − mean)(xᵢ − mean)ᵀ computed with the scaling
        statistics (aᵢ = sᵢ/Σs): no pass for H; q from the cross moment when given, else one
        blocked Zᵀ(a·y). With an intercept Σ aᵢzᵢ = 0 exactly (z is centred with the same
        weights), so the intercept row of H is (0, …, 0, Σa)."""
        d = problem.d
        a = problem.a
        y = np.asarray(problem.target, dtype=np.float64)
        inv = 1.0 / problem.scale
        H = np.zeros((m, m))
        H[:d, :d] = gram * np.multiply.outer(inv, inv)
        q = np.zeros(m)
        if problem.gram_target is not None:
            q[:d] = problem.gram_target * inv
        else:
            q[:d] = problem.z_rmatvec(a * y)
        if problem.fit_intercept:
            H[d, d] = float(a.sum())
            q[d] = float(a @ y)
        self.H, self.q, self.c = H, q, float(a @ (y * y))

    def value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Data term + ½Σλ2v² and its gradient, in O(d²)."""
        Ht = self.H @ theta
        val = float(theta @ Ht - 2 * self.q @ theta + self.c)
        val = max(val, 0.0) + 0.5 * float(self.lam2 @ (theta * theta))
        return val, 2 * Ht - 2 * self.q + self.lam2 * theta


def solve_linear(M: FloatArray, rhs: FloatArray) -> FloatArray:
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
        theta = solve_linear(M, quad.q)
        # one step of iterative refinement against the exact normal equations
        theta = theta + solve_linear(M, quad.q - M @ theta)
        _, grad = problem.smooth_value_grad(theta)
        opt = kkt_residual(grad, theta, problem.lam1)
        monitor.record(quad.value_grad(theta)[0], opt)
        return SolverOutput(theta, 1, True, "exact", opt, "normal_equations")
    return _coordinate_descent(problem, quad, tol=tol, max_iter=max_iter, monitor=monitor)


def _coordinate_descent(
    problem: Problem, quad: GramQuadratic, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    H, q = quad.H, quad.q
    m = H.shape[0]
    d = problem.d
    lam1 = np.concatenate([problem.lam1, np.zeros(m - d)])
    lam2 = quad.lam2
    denom = np.diag(H) + 0.5 * lam2
    theta = np.zeros(m)
    Ht = np.zeros(m)  # H @ theta, kept up to date
    opt = float("inf")
    sweeps = 0
    Hrows = [np.ascontiguousarray(H[j]) for j in range(m)]
    while sweeps < max_iter:
        sweeps += 1
        for j in range(m):
            if denom[j] <= 0:
                continue
            old = theta[j]
            rho = q[j] - Ht[j] + H[j, j] * old
            thr = 0.5 * lam1[j]
            new = (rho - thr if rho > thr else rho + thr if rho < -thr else 0.0) / denom[j]
            if new != old:
                Ht += (new - old) * Hrows[j]
                theta[j] = new
        if sweeps % 5 == 0 or sweeps == max_iter:
            grad = 2 * Ht - 2 * q + lam2 * theta
            opt = kkt_residual(grad, theta, problem.lam1)
            val = float(theta @ Ht - 2 * q @ theta + quad.c) + 0.5 * float(lam2 @ (theta * theta))
            if monitor.record(val + float(lam1 @ np.abs(theta)), opt):
                return SolverOutput(
                    theta, sweeps, opt <= tol, "time_limit", opt, "gram_coordinate_descent"
                )
            if opt <= tol:
                return SolverOutput(
                    theta, sweeps, True, "tolerance", opt, "gram_coordinate_descent"
                )
    grad = 2 * Ht - 2 * q + lam2 * theta
    opt = kkt_residual(grad, theta, problem.lam1)
    return SolverOutput(
        theta,
        sweeps,
        opt <= tol,
        "tolerance" if opt <= tol else "max_iter",
        opt,
        "gram_coordinate_descent",
    )
