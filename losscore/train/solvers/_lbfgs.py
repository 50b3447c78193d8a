"""Quasi-Newton solvers (private): L-BFGS-B for smooth losses with l2/no penalty, and
for l1 / elastic net through the split v = v⁺ − v⁻, v± ≥ 0.

With the split, Σ λ1ⱼ|vⱼ| becomes the linear term Σ λ1ⱼ(v⁺ⱼ + v⁻ⱼ), so the whole
objective is smooth on a box and L-BFGS-B (a projected quasi-Newton method)
solves it exactly; at the optimum v⁺ⱼv⁻ⱼ = 0 wherever λ1ⱼ > 0.

Optimality measure: the ∞-norm of the minimum-norm subgradient of F,
  gⱼ + λ1ⱼ·sign(vⱼ) where vⱼ ≠ 0,  sign(gⱼ)·max(|gⱼ| − λ1ⱼ, 0) where vⱼ = 0,
(the plain gradient norm without an l1 term), g the gradient of the smooth part.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.solvers._monitor import Monitor, SolverOutput, inf_norm

__all__ = ["kkt_residual", "minimize_smooth"]

ValueGrad = Callable[[FloatArray], tuple[float, FloatArray]]


def kkt_residual(grad: FloatArray, theta: FloatArray, lam1: FloatArray) -> float:
    """∞-norm of the minimum-norm subgradient (see module docstring); lam1 covers θ's head.

    Entrywise: |gⱼ + λ1ⱼ·sign vⱼ| where vⱼ ≠ 0 and max(|gⱼ| − λ1ⱼ, 0) where vⱼ = 0, both as
    max(|gⱼ + λ1ⱼ·sign vⱼ| − λ1ⱼ·[vⱼ = 0], 0) (the same values: subtracting 0 and clipping a
    non-negative number change nothing); the maximum is exact in any order.
    """
    p = lam1.shape[0]
    if not (p and lam1.any()):
        return inf_norm(grad)
    s = np.sign(theta[:p])
    r = np.abs(grad[:p] + lam1 * s)
    r -= lam1 * (s == 0)
    np.maximum(r, 0.0, out=r)
    head = float(r.max())
    tail = inf_norm(grad[p:])
    return head if head >= tail or math.isnan(head) else tail


SPLIT_RESTARTS = 5


def minimize_smooth(
    fun: ValueGrad,
    theta0: FloatArray,
    lam1: FloatArray,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
    solver_name: str = "lbfgs",
) -> SolverOutput:
    """Minimise fun(θ) + Σ lam1ⱼ|θⱼ| (lam1 over the first len(lam1) entries) with L-BFGS-B.

    With an l1 part, a stall short of the tolerance is restarted (up to SPLIT_RESTARTS times)
    from the complementary split v⁺ = max(v, 0), v⁻ = max(−v, 0) of the point reached: the
    split objective is flat along v⁺ + v⁻ but for its linear term, and L-BFGS-B can stop with
    both v±ⱼ > 0 (seen: huber + elastic net at 7e-3 from the optimum); the complementary point
    has the same data term and a lower F, and a fresh curvature memory.
    """
    out = _minimize_once(
        fun, theta0, lam1, tol=tol, max_iter=max_iter, monitor=monitor, solver_name=solver_name
    )
    total = out.n_iter
    restarts = 0
    while (
        lam1.any()
        and out.stop_reason == "no_progress"
        and out.optimality > tol
        and restarts < SPLIT_RESTARTS
        and total < max_iter
    ):
        restarts += 1
        again = _minimize_once(
            fun,
            out.theta,
            lam1,
            tol=tol,
            max_iter=max_iter - total,
            monitor=monitor,
            solver_name=solver_name,
        )
        total += again.n_iter
        if again.n_iter == 0 and again.optimality >= out.optimality:
            break
        out = again
    out.n_iter = total
    return out


def _minimize_once(
    fun: ValueGrad,
    theta0: FloatArray,
    lam1: FloatArray,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
    solver_name: str,
) -> SolverOutput:
    """One L-BFGS-B run (see :func:`minimize_smooth`)."""
    p = lam1.shape[0]
    split = bool(p and lam1.any())
    if split:
        q = theta0.shape[0] - p

        def split_fun(u: FloatArray) -> tuple[float, FloatArray]:
            th = np.concatenate([u[:p] - u[p : 2 * p], u[2 * p :]])
            val, g = fun(th)
            gv = g[:p]
            val += float(lam1 @ (u[:p] + u[p : 2 * p]))
            return val, np.concatenate([gv + lam1, lam1 - gv, g[p:]])

        x0 = np.concatenate([np.maximum(theta0[:p], 0), np.maximum(-theta0[:p], 0), theta0[p:]])
        bounds: list[tuple[float | None, float | None]] | None = [(0.0, None)] * (2 * p) + [
            (None, None)
        ] * q
        target: ValueGrad = split_fun
    else:
        x0, bounds, target = theta0.copy(), None, fun

    def unpack(u: FloatArray) -> FloatArray:
        if not split:
            return u
        return np.concatenate([u[:p] - u[p : 2 * p], u[2 * p :]])

    def callback(intermediate_result: Any) -> None:
        if monitor.record(float(intermediate_result.fun)):
            raise StopIteration

    # Value and gradient as two callables sharing one evaluation: what ``jac=True`` does through
    # scipy's MemoizeJac, whose per-call checks and copies cost more than a small evaluation.
    last: list[Any] = [None, None]  # bytes of the last u, its gradient

    def value(u: FloatArray) -> float:
        val, g = target(u)
        last[0], last[1] = u.tobytes(), g
        return val

    def gradient(u: FloatArray) -> FloatArray:
        if last[0] == u.tobytes():
            g: FloatArray = last[1]
            return g
        return target(u)[1]

    from scipy.optimize import minimize  # ~0.6 s at first use: not at start-up (issue 16)

    res = minimize(
        value,
        x0,
        jac=gradient,
        method="L-BFGS-B",
        bounds=bounds,
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": max(4 * max_iter, 100),
            "gtol": tol,
            "ftol": 1e-15,
            "maxcor": 30,
        },
    )
    theta = unpack(np.asarray(res.x, dtype=np.float64))
    _, grad = fun(theta)
    opt = kkt_residual(grad, theta, lam1)
    if monitor.timed_out:
        return SolverOutput(theta, int(res.nit), opt <= tol, "time_limit", opt, solver_name)
    if opt <= tol:
        reason, ok = "tolerance", True
    elif res.nit >= max_iter or "ITERATIONS" in str(res.message).upper():
        reason, ok = "max_iter", False
    else:
        # L-BFGS-B stops when no line-search step decreases F at machine precision
        reason, ok = "no_progress", opt <= 1e3 * tol
    return SolverOutput(theta, int(res.nit), ok, reason, opt, solver_name)
