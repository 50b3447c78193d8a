"""A squared-error regularisation path from the moments alone (private): the folds of a
cross-validation of a quadratic loss (ℓ = h/2·(f − y)², the Gram-based solvers).

The fit at α minimises θᵀH_αθ − 2q_αᵀθ + c + Σ λ2/2·θ² + Σ λ1|θ| in the solver coordinates of
α (:class:`~losscore.train.solvers._exact.GramQuadratic`). Those coordinates differ between α
only by the column scales (√(σ² + λ2·unit²)), so H_α and q_α are the first α's quadratic
rescaled (H∘rrᵀ, q∘r): each α costs one solve on a d × d quadratic
(:func:`~losscore.train.solvers._exact.solve_quadratic`, the same solver, tolerance and
warm start as :meth:`~losscore.train.fit.FitSession.coefficients`) and no pass over the
rows, no problem set-up and no result object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from losscore._arrays import FloatArray
from losscore.train._scaling import Scaling
from losscore.train.fit import PreparedFit, check_finite_model, penalty_strengths
from losscore.train.solvers._cd_kernel import cd_path
from losscore.train.solvers._exact import CHECK_EVERY, GramQuadratic, solve_quadratic
from losscore.train.solvers._monitor import FitCancelled, Monitor

__all__ = ["moment_path"]

# compiled path runs (the whole grid in few calls) for quadratics of up to this many coordinates:
# one α of max_iter sweeps then costs at most ~KERNEL_MAX_COORDS²·max_iter multiply-adds
KERNEL_MAX_COORDS = 128
KERNEL_CHUNK = 8  # α per compiled call: cancel and the time limit are checked between calls


def moment_path(
    prepared: PreparedFit,
    base: Scaling,
    grid: FloatArray,
    started: float,
    cancel: Callable[[], bool] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Coefficients (A, 1, d) and intercepts (A, 1) along *grid* (as
    :func:`~losscore.train._path.path_coefficients`) for the options of *prepared* (a fit at
    ``grid[0]`` of a quadratic loss whose scaling pass forms the Gram matrix and the target's
    moments: :meth:`FitSession.moments_pass`) on the rows whose scaling is *base* (at
    ``grid[0]``; they need not be the rows of *prepared*, whose data only names a non-finite
    model's cause); A < len(grid) when the time limit, counted from ``started``, ran out."""
    opts = prepared.opts
    quad = GramQuadratic.of_scaling(
        base, opts.fit_intercept, opts.loss.spec.training.constant_hessian
    )
    l2_share = np.asarray(grid) * (1 - opts.l1_ratio)
    scales = base.scales(l2_share) if l2_share.any() else np.tile(base.scale, (grid.size, 1))
    lam1, lam2 = penalty_strengths(grid[:, None], opts.l1_ratio, base.unit, scales)
    d, m = base.scale.shape[0], quad.H.shape[0]
    ratio = np.ones((grid.size, m))
    ratio[:, :d] = scales / base.scale  # θ_α = θ_base·ratio, coordinate-wise
    pad = np.zeros((grid.size, m - d))
    lam1, lam2 = np.hstack([lam1, pad]), np.hstack([lam2, pad])
    # tol relative to ‖∇F(0)‖∞ = ‖2q_α‖∞ = 2·max|q/ratio| (as every fit's gradient measure)
    tol = opts.tol * np.maximum(1.0, 2.0 * np.max(np.abs(quad.q / ratio), axis=1))
    path = _Path(quad, ratio, lam1, lam2, tol, opts.max_iter, d, started, opts.time_limit_s, cancel)
    thetas = path.compiled() if lam1.any() and m <= KERNEL_MAX_COORDS else path.solves()
    W = thetas[:, :d] / scales[: thetas.shape[0]]
    b = thetas[:, d] - W @ base.mean if m > d else np.zeros(thetas.shape[0])
    check_finite_model(W, b, [], prepared.data)
    return W[:, None, :], b[:, None]


@dataclass(frozen=True)
class _Path:
    """The quadratic of the first α, and per α (rows): coordinate ratios, λ1 and λ2 (over
    all m coordinates) and tolerances; the run's limits."""

    quad: GramQuadratic
    ratio: FloatArray
    lam1: FloatArray
    lam2: FloatArray
    tol: FloatArray
    max_iter: int
    d: int
    started: float
    limit: float | None
    cancel: Callable[[], bool] | None

    def go_on(self, done: int) -> bool:
        """Whether to start another α after *done*: the time limit (once one is done) and
        ``cancel`` (raises :class:`FitCancelled`)."""
        if self.cancel is not None and self.cancel():
            raise FitCancelled()
        if self.limit is None or not done:
            return True
        return self.limit - (time.perf_counter() - self.started) > 0

    def compiled(self) -> FloatArray:
        """The solutions (A, m) by :func:`cd_path`, KERNEL_CHUNK values of α per call."""
        A, m = self.ratio.shape
        thetas = np.zeros((A, m))
        sweeps, opts = np.zeros(A), np.zeros(A)
        theta = np.zeros(m)
        H, r = np.ascontiguousarray(self.quad.H), self.ratio
        for lo in range(0, A, KERNEL_CHUNK):
            if not self.go_on(lo):
                return thetas[:lo]
            hi = min(lo + KERNEL_CHUNK, A)
            if lo:  # the previous chunk's last solution, in the coordinates of r[lo]
                theta = thetas[lo - 1] * (r[lo] / r[lo - 1])
            cd_path(
                H, self.quad.q, r[lo:hi], self.lam1[lo:hi], self.lam2[lo:hi], self.tol[lo:hi],
                theta, self.max_iter, CHECK_EVERY, thetas[lo:hi], sweeps[lo:hi], opts[lo:hi],
            )  # fmt: skip
        return thetas

    def solves(self) -> FloatArray:
        """The solutions (A, m), one :func:`solve_quadratic` per α (normal equations without
        an l1 part, else coordinate descent reporting to a monitor)."""
        thetas: list[FloatArray] = []
        d, r = self.d, self.ratio
        for a in range(r.shape[0]):
            if not self.go_on(a):
                break
            here = self.quad.rescaled(1.0 / r[a], self.lam2[a, :d])
            start = None if not thetas else thetas[-1] * (r[a] / r[a - 1])
            left = None if self.limit is None else self.limit - (time.perf_counter() - self.started)
            monitor = Monitor(left, cancel=self.cancel)
            out = solve_quadratic(
                here, self.lam1[a, :d], tol=float(self.tol[a]), max_iter=self.max_iter,
                monitor=monitor, start=start,
            )  # fmt: skip
            if monitor.cancelled:
                raise FitCancelled()
            thetas.append(out.theta)
        return np.stack(thetas)
