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
  with no further passes over the data (compiled sweeps, :mod:`._cd_kernel`); stops when
  the KKT residual (∞-norm of the minimum-norm subgradient of F) is below tol, checked
  every CHECK_EVERY sweeps.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

from losscore._arrays import FloatArray
from losscore.train._problem import Problem
from losscore.train._scaling import Scaling
from losscore.train.solvers._cd_kernel import cd_run
from losscore.train.solvers._lbfgs import kkt_residual
from losscore.train.solvers._monitor import Monitor, SolverOutput

__all__ = ["GramQuadratic", "solve_linear", "solve_squared_error"]

CHECK_EVERY = 5  # coordinate-descent sweeps between two KKT checks
SWEEP_WORK = 1 << 16  # multiply-adds of sweeps between two reports to the monitor


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

    @classmethod
    def of_scaling(cls, scaling: Scaling, fit_intercept: bool, h: float | None) -> GramQuadratic:
        """The quadratic of a regression from its scaling pass alone (the Gram matrix, the
        cross moment and the target's moments, with Σa = 1; see :meth:`_from_moments`), with
        no l2 part (:meth:`rescaled` sets it)."""
        assert scaling.gram is not None and scaling.cross is not None and scaling.target
        d = scaling.gram.shape[0]
        m = d + 1 if fit_intercept else d
        H = np.zeros((m, m))
        H[:d, :d] = scaling.gram
        q = np.zeros(m)
        q[:d] = scaling.cross
        y_mean, y_square = scaling.target
        if fit_intercept:
            H[d, d], q[d] = 1.0, y_mean
        return cls.of_sums(H, q, y_square, np.zeros(d), h)

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
        H = np.zeros((m, m))
        H[:d, :d] = gram
        q = np.zeros(m)
        if problem.gram_target is not None and problem.target_moments is not None:
            # Σa = 1; ȳ and Σay² from the scaling pass: no pass at all
            q[:d] = problem.gram_target
            y_mean, self.c = problem.target_moments
            if problem.fit_intercept:
                H[d, d], q[d] = 1.0, y_mean
            self.H, self.q = H, q
            return
        a = problem.a
        y = np.asarray(problem.target, dtype=np.float64)
        q[:d] = problem.z_rmatvec(a * y) if problem.gram_target is None else problem.gram_target
        if problem.fit_intercept:
            H[d, d] = float(a.sum())
            q[d] = float(a @ y)
        self.H, self.q, self.c = H, q, float(a @ (y * y))

    def rescaled(self, r: FloatArray, lam2: FloatArray) -> GramQuadratic:
        """The same quadratic in coordinates θ′ = θ/r (r over all m coordinates: H∘rrᵀ, q∘r),
        with l2 strengths *lam2* over the coefficients (a point of a path whose scaling
        changes with α)."""
        quad = GramQuadratic.__new__(GramQuadratic)
        quad.H = self.H * np.multiply.outer(r, r)
        quad.q = self.q * r
        quad.c = self.c
        quad.lam2 = np.concatenate([lam2, np.zeros(self.H.shape[0] - lam2.shape[0])])
        return quad

    def gradient_norm_at_zero(self) -> float:
        """‖∇F(0)‖∞ = ‖2q‖∞ (the l2 term vanishes at 0)."""
        return 2.0 * float(np.max(np.abs(self.q), initial=0.0))

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
    """Cyclic coordinate descent on the quadratic (see the module docstring), compiled
    (:func:`~losscore.train.solvers._cd_kernel.cd_run`: the KKT residual checked every
    CHECK_EVERY sweeps from Hθ recomputed exactly, so no drift of the rank-one updates reaches
    the certificate). The monitor (time limit, cancel, progress) hears from it after at most
    ~SWEEP_WORK multiply-adds of sweeps."""
    H, q = np.ascontiguousarray(quad.H), quad.q
    m = H.shape[0]
    lam1 = np.concatenate([lam1_coef, np.zeros(m - lam1_coef.shape[0])])
    lam2 = quad.lam2
    fixed = ~(H.diagonal() + 0.5 * lam2 > 0)  # coordinates the sweeps skip (they stay at 0)
    theta: FloatArray = np.zeros(m) if start is None else np.where(fixed, 0.0, start)
    per_call = max(CHECK_EVERY, SWEEP_WORK // (m * m))
    sweeps, opt, stop = 0, float("inf"), "max_iter"
    while sweeps < max_iter:
        ran, opt = cd_run(
            H, q, lam1, lam2, theta, tol, min(per_call, max_iter - sweeps), CHECK_EVERY
        )
        sweeps += ran
        Ht = H @ theta
        val = float(theta @ Ht - 2 * q @ theta + quad.c) + 0.5 * float(lam2 @ (theta * theta))
        if monitor.record(val + float(lam1 @ np.abs(theta)), opt):
            stop = "time_limit"
            break
        if opt <= tol:
            stop = "tolerance"
            break
    return SolverOutput(theta, sweeps, opt <= tol, stop, opt, "gram_coordinate_descent")
