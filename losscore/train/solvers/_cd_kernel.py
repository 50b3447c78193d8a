"""Compiled sweeps of Gram coordinate descent (private; numba).

One call runs ``sweeps`` cyclic sweeps of coordinate descent on the quadratic
θᵀHθ − 2qᵀθ + Σ λ2ⱼ/2·θⱼ² + Σ λ1ⱼ·|θⱼ| (see :mod:`losscore.train.solvers._exact`): coordinate
j solves θⱼ ← S(ρⱼ, λ1ⱼ/2) / (Hⱼⱼ + λ2ⱼ/2) with ρⱼ = qⱼ − Σₖ≠ⱼ Hⱼₖθₖ and S the soft
threshold, keeping Hθ current by rank-one updates. Compiled because a sweep is d short
scalar updates: in Python each costs microseconds, so a regularisation path or a
cross-validation (hundreds of solves of a few sweeps each) was dominated by the interpreter.
"""

from __future__ import annotations

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.solvers._jit import FAST, compiled

__all__ = ["cd_run", "cd_sweeps"]


@compiled(fastmath=FAST)
def cd_sweeps(
    H: FloatArray,
    q: FloatArray,
    thr: FloatArray,
    denom: FloatArray,
    theta: FloatArray,
    Ht: FloatArray,
    sweeps: int,
) -> None:
    """``sweeps`` sweeps in place on ``theta`` and ``Ht`` (= Hθ on entry; on return Hθ up to
    the rounding of the rank-one updates). ``thr`` = λ1/2, ``denom`` = diag(H) + λ2/2;
    coordinates with ``denom`` ≤ 0 (a zero column, unpenalised) are skipped and stay put."""
    m = H.shape[0]
    for _ in range(sweeps):
        for j in range(m):
            den = denom[j]
            if not den > 0.0:
                continue
            old = theta[j]
            rho = q[j] - Ht[j] + H[j, j] * old
            t = thr[j]
            if rho > t:
                new = (rho - t) / den
            elif rho < -t:
                new = (rho + t) / den
            else:
                new = 0.0
            if new != old:
                step = new - old
                for k in range(m):
                    Ht[k] += step * H[j, k]
                theta[j] = new


@compiled(fastmath=FAST)
def cd_run(
    H: FloatArray,
    q: FloatArray,
    lam1: FloatArray,
    lam2: FloatArray,
    theta: FloatArray,
    tol: float,
    max_sweeps: int,
    check_every: int,
) -> tuple[int, float]:
    """Sweeps on ``theta`` (in place) until the KKT residual is ≤ ``tol`` or ``max_sweeps``
    ran; returns (sweeps run, residual). The residual, checked every ``check_every`` sweeps
    from Hθ recomputed exactly, is that of :func:`~losscore.train.solvers._lbfgs.kkt_residual`
    for the gradient g = 2Hθ − 2q + λ2θ: maxⱼ max(|gⱼ + λ1ⱼ·sign θⱼ| − λ1ⱼ·[θⱼ = 0], 0)
    (λ1 zero-padded over the unpenalised coordinates); NaN if any entry is NaN."""
    m = H.shape[0]
    thr = 0.5 * lam1
    denom = np.empty(m)
    for j in range(m):
        denom[j] = H[j, j] + 0.5 * lam2[j]
    Ht = np.empty(m)
    sweeps = 0
    opt = np.inf
    while sweeps < max_sweeps:
        for j in range(m):
            Ht[j] = H[j] @ theta
        step = min(check_every, max_sweeps - sweeps)
        cd_sweeps(H, q, thr, denom, theta, Ht, step)
        sweeps += step
        opt = 0.0
        for j in range(m):
            g = 2.0 * (H[j] @ theta) - 2.0 * q[j] + lam2[j] * theta[j]
            t = theta[j]
            s = 1.0 if t > 0 else (-1.0 if t < 0 else 0.0)
            r = abs(g + lam1[j] * s) - (lam1[j] if s == 0.0 else 0.0)
            r = max(r, 0.0)
            if r > opt or r != r:
                opt = r
        if opt <= tol:
            break
    return sweeps, opt


@compiled(fastmath=FAST)
def cd_path(
    H: FloatArray,
    q: FloatArray,
    ratio: FloatArray,
    lam1: FloatArray,
    lam2: FloatArray,
    tol: FloatArray,
    theta: FloatArray,
    max_sweeps: int,
    check_every: int,
    thetas: FloatArray,
    sweeps: FloatArray,
    opts: FloatArray,
) -> None:
    """:func:`cd_run` at each row a of ``ratio`` / ``lam1`` / ``lam2`` / ``tol`` in turn, on
    the quadratic in the coordinates θ_a = θ·ratio[a] (H∘rrᵀ, q∘r with r = 1/ratio[a]), each
    from the previous row's solution mapped into its coordinates (the first from ``theta``,
    in the coordinates of ``ratio[0]``). Writes each solution to ``thetas[a]``, its sweeps and
    residual to ``sweeps[a]`` and ``opts[a]``."""
    A, m = ratio.shape
    Ha = np.empty((m, m))
    qa = np.empty(m)
    for a in range(A):
        for i in range(m):
            ri = 1.0 / ratio[a, i]
            qa[i] = q[i] * ri
            for j in range(m):
                Ha[i, j] = H[i, j] * ri / ratio[a, j]
        if a > 0:
            for i in range(m):
                theta[i] *= ratio[a, i] / ratio[a - 1, i]
        ran, opt = cd_run(Ha, qa, lam1[a], lam2[a], theta, tol[a], max_sweeps, check_every)
        thetas[a] = theta
        sweeps[a] = ran
        opts[a] = opt
