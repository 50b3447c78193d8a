"""Piecewise-linear losses: exact representation, smoothing, LP and crossover (private).

Every non-smooth loss used for training (hinge, perceptron, l1, quantile,
epsilon-insensitive, smooth_l1 with β = 0) is, for one sample, a convex
piecewise-linear function of the score f:

    ℓᵢ(f) = maxₚ (αᵢₚ f + βᵢₚ) = cᵢ + gᵢ f + Σⱼ Δᵢⱼ·max(0, f − κᵢⱼ),   Δᵢⱼ > 0,

(pieces sorted by slope; κ the kinks, Δ the slope jumps). From this one form:

* **linear programming** (``scipy.optimize.linprog``, HiGHS) solves the l1- and
  un-penalised problems exactly via the epigraph tᵢ ≥ αᵢₚ fᵢ + βᵢₚ;
* **smoothing**: max(0, u) → h_μ(u) = 0 | (u + μ/2)²/(2μ) | u on u ≤ −μ/2 | |u| < μ/2 |
  u ≥ μ/2, a C¹ function within μ/8 of the original, minimised by L-BFGS-B;
* **crossover** (l2 penalty): from a smoothed solution, every ramp term is
  classified as off (u ≤ −μ/2), on (u ≥ μ/2) or at its kink. Fixing that
  partition, the optimality conditions of the *exact* problem are linear:

      λ2 ⊙ v + Zᵀ(a ⊙ g) = 0,  Σ aᵢgᵢ = 0,  zᵢ·v + b = κᵢⱼ (kink terms),
      gᵢ = cᵢ' + Σⱼ Δᵢⱼβᵢⱼ,  βᵢⱼ ∈ {0, 1} off/on,  βᵢⱼ ∈ [0, 1] at a kink.

  Eliminating v leaves a system in the kink multipliers of size |E| + 1. When
  its solution has every β in [0, 1] and every fixed term on its side of the
  kink, (v, b) is the exact optimum (the KKT conditions hold, to rounding).
  Otherwise μ shrinks tenfold and the smoothed problem is re-solved from the
  current point (continuation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
from numpy.typing import NDArray
from scipy.optimize import linprog

from losscore._arrays import FloatArray
from losscore.train._problem import Problem
from losscore.train.solvers._lbfgs import kkt_residual, minimize_smooth
from losscore.train.solvers._monitor import Monitor, SolverOutput, inf_norm

__all__ = ["PIECEWISE_LOSSES", "PiecewiseLinear", "solve_lp", "solve_smoothed"]

PIECEWISE_LOSSES = frozenset(
    {"hinge", "perceptron", "l1", "quantile", "epsilon_insensitive", "smooth_l1"}
)
MAX_KINK_TERMS = 4000


def is_piecewise(name: str, params: Mapping[str, float]) -> bool:
    if name == "smooth_l1":
        return params.get("beta", 1.0) == 0.0
    return name in PIECEWISE_LOSSES


class PiecewiseLinear:
    """A piecewise-linear loss as data (pieces), with a smoothed ``pointwise``.

    ``mu = 0`` gives the exact loss; ``mu > 0`` the smoothed one (see module docstring).
    It has the ``pointwise`` signature of :class:`losscore.Loss`, so a
    :class:`Problem` can use it in place of the loss.
    """

    def __init__(self, name: str, params: Mapping[str, float], mu: float = 0.0) -> None:
        self.name, self.params, self.mu = name, dict(params), mu

    def with_mu(self, mu: float) -> PiecewiseLinear:
        return PiecewiseLinear(self.name, self.params, mu)

    def pieces(self, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(slopes, offsets), each (n, P), slopes increasing along axis 1."""
        one = np.ones_like(y)
        zero = np.zeros_like(y)
        name = self.name
        if name in ("hinge", "perceptron"):
            t = self.params.get("threshold", 1.0) if name == "hinge" else 0.0
            pos = y > 0
            slopes = np.stack([np.where(pos, -1.0, 0.0), np.where(pos, 0.0, 1.0)], axis=1)
            offsets = np.stack([np.where(pos, t, 0.0), np.where(pos, 0.0, t)], axis=1)
            return slopes, offsets
        if name in ("l1", "smooth_l1"):
            return np.stack([-one, one], axis=1), np.stack([y, -y], axis=1)
        if name == "quantile":
            q = self.params["q"]
            return np.stack([-q * one, (1 - q) * one], axis=1), np.stack(
                [q * y, -(1 - q) * y], axis=1
            )
        if name == "epsilon_insensitive":
            eps = self.params["epsilon"]
            return (
                np.stack([-one, zero, one], axis=1),
                np.stack([y - eps, zero, -y - eps], axis=1),
            )
        raise ValueError(f"{name} is not piecewise linear")  # pragma: no cover

    def ramps(self, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(c, g, κ, Δ): ℓ(f) = c + g f + Σⱼ Δⱼ max(0, f − κⱼ)."""
        S, B = self.pieces(y)
        D = np.diff(S, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            K = np.where(D > 0, -np.diff(B, axis=1) / np.where(D > 0, D, 1.0), 0.0)
        return B[:, 0], S[:, 0], K, D

    def pointwise(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        *,
        hessian: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        c, g, K, D = self.ramps(target)
        if prediction.ndim != 1:  # pragma: no cover - binary / regression scores only
            raise ValueError("piecewise losses take one score per sample")
        U = prediction[:, None] - K
        mu = self.mu
        if mu > 0:
            h = np.where(0.5 * mu <= U, U, np.square(np.maximum(U + 0.5 * mu, 0.0)) / (2 * mu))
            dh = np.clip((U + 0.5 * mu) / mu, 0.0, 1.0)
        else:
            h = np.maximum(U, 0.0)
            dh = (U > 0).astype(np.float64)
        value = c + g * prediction + np.sum(D * h, axis=1)
        grad = g + np.sum(D * dh, axis=1)
        hess = None
        if hessian:
            hess = np.sum(D * ((np.abs(U) < 0.5 * mu) / mu if mu > 0 else 0 * U), axis=1)
        return value, grad, hess


# -- linear programming ----------------------------------------------------------------------------


def solve_lp(
    problem: Problem, pl: PiecewiseLinear, *, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """Exact solve of  Σ aᵢℓᵢ(zᵢ·v + b) + Σ λ1ⱼ|vⱼ|  (no l2 part) with HiGHS.

    Variables x = [v⁺ (d), v⁻ (d), b (free, if fitted), t (n)]; minimise Σ aᵢtᵢ + λ1·(v⁺ + v⁻)
    subject to αᵢₚ(zᵢ·(v⁺ − v⁻) + b) − tᵢ ≤ −βᵢₚ for every non-zero piece, t ≥ 0 where
    a zero piece exists.
    """
    keep = problem.a > 0
    Z = problem.Z[keep]
    a = problem.a[keep]
    y = problem.target[keep]
    n, d = Z.shape
    S, B = pl.pieces(np.asarray(y, dtype=np.float64))
    nb = 1 if problem.fit_intercept else 0
    zero_piece = (S == 0) & (B == 0)
    t_lower = np.where(zero_piece.any(axis=1), 0.0, -np.inf)
    rows_i, rows_p = np.nonzero(~zero_piece)
    alpha = S[rows_i, rows_p]
    beta = B[rows_i, rows_p]
    Zr = Z[rows_i] * alpha[:, None]
    blocks = [scipy.sparse.csr_matrix(Zr), scipy.sparse.csr_matrix(-Zr)]
    if nb:
        blocks.append(scipy.sparse.csr_matrix(alpha[:, None]))
    m = rows_i.shape[0]
    blocks.append(scipy.sparse.csr_matrix((-np.ones(m), (np.arange(m), rows_i)), shape=(m, n)))
    A = scipy.sparse.hstack(blocks, format="csc")
    cost = np.concatenate([problem.lam1, problem.lam1, np.zeros(nb), a])
    bounds = (
        [(0.0, None)] * (2 * d)
        + [(None, None)] * nb
        + [(None if np.isinf(lo) else 0.0, None) for lo in t_lower]
    )
    options: dict[str, Any] = {
        "maxiter": max(max_iter, 10_000),
        "primal_feasibility_tolerance": 1e-10,
        "dual_feasibility_tolerance": 1e-10,
    }
    if monitor.time_limit_s is not None:
        options["time_limit"] = max(monitor.time_limit_s - monitor.elapsed(), 1e-3)
    res = linprog(cost, A_ub=A, b_ub=-beta, bounds=bounds, method="highs", options=options)
    if res.x is None:
        theta = np.zeros(problem.size)
        monitor.record(problem.objective(theta))
        reason = "time_limit" if res.status == 1 and monitor.out_of_time() else "max_iter"
        return SolverOutput(theta, int(res.nit or 0), False, reason, float("inf"), "linprog_highs")
    x = res.x
    theta = np.concatenate([x[:d] - x[d : 2 * d], x[2 * d : 2 * d + nb]])
    F = problem.objective(theta)
    monitor.record(F, 0.0)
    gap = abs(float(res.fun) - F)  # LP optimum vs F re-evaluated at its solution
    if res.status == 0:
        return SolverOutput(theta, int(res.nit), True, "exact", gap, "linprog_highs")
    reason = "time_limit" if monitor.out_of_time() else "max_iter"
    return SolverOutput(theta, int(res.nit), False, reason, float("inf"), "linprog_highs")


# -- smoothing continuation and crossover --------------------------------------------------------


def _crossover(
    problem: Problem, pl: PiecewiseLinear, theta: FloatArray, tol: float
) -> tuple[FloatArray, float] | None:
    """Exact KKT solve for the partition read off a smoothed solution (l2 penalty, k = 1)."""
    mu = pl.mu
    lam2 = problem.lam2
    if problem.lam1.any() or not (lam2 > 0).all():
        return None
    keep = problem.a > 0
    Z = problem.Z[keep]
    a = problem.a[keep]
    _c, g, K, D = pl.ramps(np.asarray(problem.target[keep], dtype=np.float64))
    coef, b = problem.split(theta)
    f = Z @ coef + b[0]
    U = f[:, None] - K
    live = D > 0
    at_kink = live & (np.abs(U) < 0.5 * mu)
    on = live & (0.5 * mu <= U)
    ei, ej = np.nonzero(at_kink)
    if ei.shape[0] > MAX_KINK_TERMS:
        return None
    gfix = g + np.sum(D * on, axis=1)
    r0z = Z.T @ (a * gfix)
    r0b = float(a @ gfix)
    ZE = Z[ei]
    kE = K[ei, ej]
    m = ei.shape[0]
    inv = 1.0 / lam2
    M = (ZE * inv) @ ZE.T
    rhs_top = kE + ZE @ (r0z * inv)
    if problem.fit_intercept:
        sys: FloatArray = np.zeros((m + 1, m + 1))
        sys[:m, :m] = -M
        sys[:m, m] = 1.0
        sys[m, :m] = 1.0
        rhs = np.concatenate([rhs_top, [-r0b]])
    else:
        sys, rhs = -M, rhs_top
    if sys.size == 0:
        sol = np.zeros(0)
    else:
        sol = scipy.linalg.lstsq(sys, rhs, check_finite=False, lapack_driver="gelsd")[0]
    gamma = sol[:m]
    b_new = float(sol[m]) if problem.fit_intercept else 0.0
    weight = a[ei] * D[ei, ej]
    beta = gamma / weight
    if m and (beta.min() < -1e-9 or beta.max() > 1 + 1e-9):
        return None
    beta = np.clip(beta, 0.0, 1.0)
    gsample = gfix.copy()
    np.add.at(gsample, ei, D[ei, ej] * beta)
    v = -(Z.T @ (a * gsample)) * inv
    f_new = Z @ v + b_new
    U_new = f_new[:, None] - K
    scale = 1.0 + float(np.max(np.abs(K))) if K.size else 1.0
    ftol = 1e-9 * scale
    off = live & ~on & ~at_kink
    if (U_new[on] < -ftol).any() or (U_new[off] > ftol).any():
        return None
    if m and np.max(np.abs(U_new[ei, ej])) > ftol * 10:
        return None
    grad_v = lam2 * v + Z.T @ (a * gsample)
    grad_b = float(a @ gsample) if problem.fit_intercept else 0.0
    resid = max(inf_norm(grad_v), abs(grad_b))
    if resid > tol:
        return None
    theta_new = np.concatenate([v, [b_new]]) if problem.fit_intercept else v
    return theta_new, resid


def _scale(problem: Problem, pl: PiecewiseLinear) -> float:
    if pl.name in ("hinge", "perceptron"):
        return max(pl.params.get("threshold", 1.0), 1e-3)
    y = np.asarray(problem.target, dtype=np.float64)
    a = problem.a / problem.a.sum()
    center = float(a @ y)
    spread = float(np.sqrt(a @ np.square(y - center)))
    return spread if spread > 0 else 1.0


def solve_smoothed(
    problem: Problem, pl: PiecewiseLinear, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """Smoothing continuation (μ ÷ 10 per stage) with a crossover attempt after each stage."""
    scale = _scale(problem, pl)
    theta: FloatArray = np.zeros(problem.size)
    if problem.fit_intercept and pl.name not in ("hinge", "perceptron"):
        y = np.asarray(problem.target, dtype=np.float64)
        theta[-1] = float(np.median(y))
    best_theta, best_F = theta, problem.objective(theta)
    total_iter = 0
    mu = scale
    last_opt = float("inf")
    jump_total = float(
        problem.a @ np.sum(pl.ramps(np.asarray(problem.target, dtype=np.float64))[3], axis=1)
    )
    while True:
        spl = pl.with_mu(mu)
        sp = replace(problem, loss=spl)  # type: ignore[arg-type]
        out = minimize_smooth(
            sp.smooth_value_grad,
            theta,
            problem.lam1,
            tol=max(tol, 1e-3 * mu / scale * tol**0.5),
            max_iter=max(max_iter - total_iter, 1),
            monitor=monitor,
            solver_name="smoothing_lbfgs_b",
        )
        total_iter += out.n_iter
        theta = out.theta
        F = problem.objective(theta)
        if best_F > F:
            best_theta, best_F = theta, F
        crossed = _crossover(problem, spl, theta, tol)
        if crossed is not None:
            th, resid = crossed
            if problem.objective(th) <= best_F * (1 + 1e-12) + 1e-300:
                monitor.record(problem.objective(th), resid)
                return SolverOutput(th, total_iter, True, "tolerance", resid, "smoothing_crossover")
        # F − min F ≤ (F − F_μ at θ) + (F_μ(θ) − min F_μ) + (min F_μ − min F) ≤ μ·Σaᵢ·ΣΔ/8 + ...
        last_opt = mu * jump_total / 8 + out.optimality
        if monitor.timed_out:
            return SolverOutput(
                best_theta, total_iter, False, "time_limit", last_opt, "smoothing_lbfgs_b"
            )
        if total_iter >= max_iter:
            return SolverOutput(
                best_theta, total_iter, False, "max_iter", last_opt, "smoothing_lbfgs_b"
            )
        if mu * jump_total / 8 <= tol * max(1.0, abs(best_F)) * 1e-2:
            _, grad = sp.smooth_value_grad(theta)
            opt = mu * jump_total / 8 + kkt_residual(grad, theta, problem.lam1)
            return SolverOutput(
                best_theta,
                total_iter,
                opt <= max(tol, 1e-9 * abs(best_F)),
                "tolerance",
                opt,
                "smoothing_lbfgs_b",
            )
        mu /= 10.0
