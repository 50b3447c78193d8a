"""Quadratic losses ℓ = h/2·(f − y)² (a constant Hessian h; squared error ℓ = r² has h = 2)
solved through the Gram matrix (private).

With Z₁ = [Z, 1] (the column of ones only when fitting an intercept), A = diag(aᵢ) and
s = h/2, the data term is the quadratic  θᵀHθ − 2qᵀθ + c  with H = s·Z₁ᵀAZ₁, q = s·Z₁ᵀAy,
c = s·Σ aᵢyᵢ². One pass over the data (block by block) builds H, q, c; after that

* penalty l2 / none: the minimiser solves (H + ½Λ)θ = q, Λ = diag(λ2, 0) — a
  Cholesky solve (LAPACK potrf/potrs) when well conditioned, else the minimum-norm
  least-squares solution from the eigen-decomposition;
* penalty l1 / elastic net: cyclic coordinate descent on the quadratic (the "covariance"
  form of glmnet): coordinate j solves
  θⱼ ← S(qⱼ − Σₖ≠ⱼ Hⱼₖθₖ, λ1ⱼ/2) / (Hⱼⱼ + λ2ⱼ/2),  S the soft threshold,
  with no further passes over the data; stops when the KKT residual (∞-norm of the
  minimum-norm subgradient of F) is below tol. Once no coordinate changes its branch of S
  (positive, negative, zero) a whole sweep is one triangular solve (LAPACK trtrs), taken
  only when its result confirms every branch; see :func:`_coordinate_descent`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import lapack

from losscore._arrays import FloatArray
from losscore.train._problem import Problem
from losscore.train.solvers._lbfgs import kkt_residual
from losscore.train.solvers._monitor import Monitor, SolverOutput

__all__ = ["GramQuadratic", "solve_linear", "solve_squared_error"]


class GramQuadratic:
    """The data term of ℓ = h/2·(f − y)² as a quadratic form (built in one blocked pass);
    h from ``problem.constant_hessian`` (2, squared error, when the problem's loss has none:
    the ridge warm start of the piecewise-linear solvers)."""

    H: FloatArray
    q: FloatArray
    c: float

    def __init__(self, problem: Problem) -> None:
        d = problem.d
        m = d + 1 if problem.fit_intercept else d
        self.lam2 = np.concatenate([problem.lam2, np.zeros(m - d)])
        if problem.gram is not None:
            self._from_moments(problem, problem.gram, m)
        else:
            self._from_rows(problem, m)
        h = problem.constant_hessian
        if h is not None and h != 2.0:
            s = 0.5 * h
            self.H, self.q, self.c = self.H * s, self.q * s, self.c * s

    @classmethod
    def of_sums(
        cls, H: FloatArray, q: FloatArray, c: float, lam2: FloatArray, h: float | None
    ) -> GramQuadratic:
        """The quadratic from sums computed elsewhere (a distributed pass): H = Σ aᵢz̃ᵢz̃ᵢᵀ,
        q = Σ aᵢz̃ᵢyᵢ, c = Σ aᵢyᵢ² (z̃ with the intercept's 1 when there is one), ``lam2``
        over the coefficients, ``h`` the loss's constant Hessian (None: 2)."""
        quad = cls.__new__(cls)
        m = H.shape[0]
        quad.lam2 = np.concatenate([lam2, np.zeros(m - lam2.shape[0])])
        s = 1.0 if h is None else 0.5 * h
        quad.H, quad.q, quad.c = H * s, q * s, c * s
        return quad

    def _from_rows(self, problem: Problem, m: int) -> None:
        d = problem.d
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
        """H, q, c from the Gram Σ aᵢzᵢzᵢᵀ in solver coordinates computed with the scaling
        statistics (aᵢ = sᵢ/Σs): no pass for H; q from the cross moment when given, else one
        blocked Zᵀ(a·y). With an intercept Σ aᵢzᵢ = 0 exactly (z is centred with the same
        weights), so the intercept row of H is (0, …, 0, Σa)."""
        d = problem.d
        a = problem.a
        y = np.asarray(problem.target, dtype=np.float64)
        H = np.zeros((m, m))
        H[:d, :d] = gram
        q = np.zeros(m)
        if problem.gram_target is not None:
            q[:d] = problem.gram_target
        else:
            q[:d] = problem.z_rmatvec(a * y)
        if problem.fit_intercept:
            H[d, d] = float(a.sum())
            q[d] = float(a @ y)
        self.H, self.q, self.c = H, q, float(a @ (y * y))

    def penalised(self) -> FloatArray:
        """H + ½·diag(λ2): the matrix of the normal equations (a fresh array)."""
        M = self.H.copy()
        M.flat[:: M.shape[0] + 1] += 0.5 * self.lam2
        return M

    def value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Data term + ½Σλ2v² and its gradient, in O(d²)."""
        Ht = self.H @ theta
        val = float(theta @ Ht - 2 * self.q @ theta + self.c)
        val = max(val, 0.0) + 0.5 * float(self.lam2 @ (theta * theta))
        return val, 2 * Ht - 2 * self.q + self.lam2 * theta


def solve_linear(M: FloatArray, rhs: FloatArray) -> FloatArray:
    # LAPACK potrf/potrs directly: what scipy.linalg.cho_factor/cho_solve call for a float64
    # matrix, without their per-call argument checks (M is square, finite and non-empty here)
    factor, info = lapack.dpotrf(M, lower=1, clean=0)
    if info == 0:
        diag = factor.diagonal()
        if diag.min() > 1e-7 * diag.max():
            x, info = lapack.dpotrs(factor, rhs, lower=1)
            if info == 0:
                return np.asarray(x)
    # singular or ill-conditioned: minimum-norm least squares on the symmetric factor
    w, V = np.linalg.eigh(M)
    keep = w > w.max() * 1e-14
    return np.asarray(V[:, keep] @ ((V[:, keep].T @ rhs) / w[keep]))


def solve_squared_error(
    problem: Problem, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """Exact solve (l2 / none penalty) or Gram-based L-BFGS-B (l1 / elastic net)."""
    return solve_quadratic(
        GramQuadratic(problem),
        problem.lam1,
        tol=tol,
        max_iter=max_iter,
        monitor=monitor,
        start=problem.warm_start,
    )


def solve_quadratic(
    quad: GramQuadratic,
    lam1: FloatArray,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
    start: FloatArray | None = None,
) -> SolverOutput:
    """:func:`solve_squared_error` on a quadratic already formed (``lam1`` over the
    coefficients): normal equations without an l1 part, else coordinate descent."""
    if not lam1.any():
        M = quad.penalised()
        theta = solve_linear(M, quad.q)
        # one step of iterative refinement against the exact normal equations
        theta = theta + solve_linear(M, quad.q - M @ theta)
        # optimality: the residual of the normal equations, ∇F = 2(Hθ − q) + λθ from the same
        # moments (no further pass over X; the scores pass for F and the metrics follows)
        value, grad = quad.value_grad(theta)
        opt = kkt_residual(grad, theta, lam1)
        monitor.record(value, opt)
        return SolverOutput(theta, 1, True, "exact", opt, "normal_equations")
    return _coordinate_descent(lam1, quad, tol=tol, max_iter=max_iter, monitor=monitor, start=start)


def _coordinate_descent(
    lam1_coef: FloatArray,
    quad: GramQuadratic,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
    start: FloatArray | None = None,
) -> SolverOutput:
    """Cyclic coordinate descent on the quadratic; see the module docstring.

    A sweep is done one of two ways, with the same iterate up to rounding:

    * scalar: coordinate by coordinate, keeping Hθ up to date by rank-one updates;
    * block (Gauss–Seidel form): when no coordinate changes its branch of the soft threshold
      (θⱼ > 0, θⱼ < 0 or θⱼ = 0), the sweep is the lower-triangular solve
      (tril(H, −1) + diag(Hⱼⱼ + λ2ⱼ/2)) θ⁺ = q − sⱼλ1ⱼ/2 − triu(H, 1) θ over the nonzero
      coordinates (zeros stay zero). From the second sweep on it is tried with the branches
      of the current θ and accepted only if θ⁺ confirms every one of them (signs kept,
      |ρⱼ| ≤ λ1ⱼ/2 where zero); otherwise the scalar sweep runs.
    """
    H, q = quad.H, quad.q
    m = H.shape[0]
    d = lam1_coef.shape[0]
    lam1 = np.concatenate([lam1_coef, np.zeros(m - d)])
    lam2 = quad.lam2
    diag = H.diagonal()
    denom = diag + 0.5 * lam2
    thr = 0.5 * lam1
    opt = float("inf")
    sweeps = 0
    # scalar sweeps run on Python floats (the same IEEE operations as on NumPy scalars, several
    # times cheaper each); only the rank-one update of Hθ is an array operation
    Hrows = list(np.ascontiguousarray(H))
    q_l, den_l, diag_l, thr_l = q.tolist(), denom.tolist(), diag.tolist(), thr.tolist()
    fixed = ~(denom > 0)  # coordinates the sweeps skip (they stay at 0)
    coords = np.flatnonzero(~fixed).tolist()
    block = _BlockSweep(H, q, thr, denom, fixed)
    pattern: _Branches | None = None
    theta: FloatArray = np.zeros(m) if start is None else np.where(fixed, 0.0, start)
    Ht: FloatArray | None = H @ theta  # H @ theta (None: recompute when needed)
    while sweeps < max_iter:
        sweeps += 1
        new = None
        if sweeps > 1:
            if pattern is None:
                pattern = block.branches(theta)
            new = block.sweep(pattern, theta)
        if new is not None:
            theta, Ht = new, None
        else:
            pattern = None
            if Ht is None:
                Ht = H @ theta
            coef = theta.tolist()
            for j in coords:
                old = coef[j]
                rho = q_l[j] - Ht.item(j) + diag_l[j] * old
                t = thr_l[j]
                new_j = (rho - t if rho > t else rho + t if rho < -t else 0.0) / den_l[j]
                if new_j != old:
                    Ht += (new_j - old) * Hrows[j]
                    coef[j] = new_j
            theta = np.array(coef)
        if sweeps % 5 == 0 or sweeps == max_iter:
            if Ht is None:
                Ht = H @ theta
            grad = 2 * Ht - 2 * q + lam2 * theta
            opt = kkt_residual(grad, theta, lam1_coef)
            val = float(theta @ Ht - 2 * q @ theta + quad.c) + 0.5 * float(lam2 @ (theta * theta))
            if monitor.record(val + float(lam1 @ np.abs(theta)), opt):
                return SolverOutput(
                    theta, sweeps, opt <= tol, "time_limit", opt, "gram_coordinate_descent"
                )
            if opt <= tol:
                return SolverOutput(
                    theta, sweeps, True, "tolerance", opt, "gram_coordinate_descent"
                )
    if Ht is None:
        Ht = H @ theta
    grad = 2 * Ht - 2 * q + lam2 * theta
    opt = kkt_residual(grad, theta, lam1_coef)
    return SolverOutput(
        theta,
        sweeps,
        opt <= tol,
        "tolerance" if opt <= tol else "max_iter",
        opt,
        "gram_coordinate_descent",
    )


@dataclass(frozen=True)
class _Branches:
    """The soft-threshold branch of every coordinate, and what a block sweep needs for it."""

    idx: NDArray[np.intp] | None  # the coordinates solved for (not held at zero); None: all
    T: FloatArray  # tril(H, −1) + diag(denom) on idx × idx
    c: FloatArray  # q − s·λ1/2 on idx
    sign: FloatArray  # s on idx, 1 where unpenalised
    low: FloatArray  # sign·θ⁺ must exceed this: 0 where penalised, −inf elsewhere
    # zero (penalised, not skipped) coordinates: their indices, q, rows of tril(H, −1), λ1/2
    zeros: tuple[NDArray[np.intp], FloatArray, FloatArray, FloatArray] | None


class _BlockSweep:
    """Coordinate-descent sweeps as triangular solves (see :func:`_coordinate_descent`).

    H is symmetric, so triu(H, 1)·θ = θ·tril(H, −1): only the strict lower triangle L is kept.
    """

    def __init__(
        self,
        H: FloatArray,
        q: FloatArray,
        thr: FloatArray,
        denom: FloatArray,
        fixed: NDArray[np.bool_],
    ) -> None:
        m = H.shape[0]
        self.q, self.thr, self.fixed, self.m = q, thr, fixed, m
        self.penalised = thr > 0
        self.L = np.tril(H, -1)
        self.T = self.L.copy()
        self.T.flat[:: m + 1] = denom
        self.low = np.where(self.penalised, 0.0, -np.inf)

    def branches(self, theta: FloatArray) -> _Branches:
        pen = self.penalised
        zero = (theta == 0) & pen | self.fixed
        sign = np.sign(theta)
        c = self.q - sign * self.thr
        s = np.where(pen, sign, 1.0)
        if not zero.any():
            return _Branches(None, self.T, c, s, self.low, None)
        idx = np.flatnonzero(~zero)
        z = np.flatnonzero(zero & ~self.fixed)
        return _Branches(
            idx,
            self.T[np.ix_(idx, idx)],
            c[idx],
            s[idx],
            self.low[idx],
            (z, self.q[z], self.L[z], self.thr[z]) if z.size else None,
        )

    def sweep(self, b: _Branches, theta: FloatArray) -> FloatArray | None:
        """θ after one sweep if it keeps branches ``b`` (those of θ), else None."""
        upper = theta @ self.L  # triu(H, 1) θ
        new: FloatArray
        if b.idx is not None and b.idx.size == 0:
            new = np.zeros(self.m)
        else:
            rhs = b.c - (upper if b.idx is None else upper[b.idx])
            # T is C-ordered lower triangular: Tᵀ is Fortran-ordered upper, solve Tᵀᵀx = rhs
            sol, info = lapack.dtrtrs(b.T.T, rhs, lower=0, trans=1)
            # a nonzero penalised coordinate keeps its sign (ρ beyond ±λ1/2 ⇔ sign of θ⁺)
            if info != 0 or (b.sign * sol <= b.low).any():
                return None
            if b.idx is None:
                new = sol
            else:
                new = np.zeros(self.m)
                new[b.idx] = sol
        # a zero one has |ρ| ≤ λ1/2 with ρ = q − tril(H, −1)θ⁺ − triu(H, 1)θ
        if b.zeros is not None:
            z, q, L, thr = b.zeros
            if (np.abs(q - L @ new - upper[z]) > thr).any():
                return None
        return new
