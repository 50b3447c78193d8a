"""Compiled inner loop of the interior-point solver (private; numba).

One call of :func:`ipm_iteration` is one Mehrotra predictor–corrector step on the dual box
QP of :mod:`losscore.train.solvers._ipm`, followed by the primal point and its certified
gap. Compiled because the step is ~60 short passes over the N ramp terms: NumPy's per-call
cost (~1–2 µs each) would dominate at n ≈ 10³, where the whole fit should take about a
millisecond. Array layout:

* ``P`` (n, d [+ 1]): Pᵢ = aᵢ·zᵢ⊙λ^{-1/2}, so the dual matrix is U = diag(Δ) Eᵀ P
  (U_r = Δ_r·P_{i_r}); with an intercept a last column aᵢ (then U_r also holds the
  equality's coefficient a_r), and ``PT`` = Pᵀ;
* ramp terms r are sample-major: sample i owns r ∈ [start[i], start[i+1]); ``delta`` Δ_r,
  ``ar`` a_r = aᵢΔ_r, ``ak`` a_r·κ_r, ``kap`` κ_r; per sample ``ag`` aᵢgᵢ, ``inv_a`` 1/aᵢ;
* state: ``beta``, ``zl``, ``zu`` (N), ``t`` = p₀ + Uᵀβ (d, padded with a 0 like P's
  columns), ``Pt`` = P·t (n), and the
  multiplier ``y`` (the intercept) passed and returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.train.solvers._jit import FAST, compiled

IntArray = NDArray[np.int64]


class DualData(NamedTuple):
    """The arrays of the module docstring, built once per fit by :func:`prepare`."""

    P: FloatArray
    PT: FloatArray
    start: IntArray
    delta: FloatArray
    ar: FloatArray
    ak: FloatArray
    kap: FloatArray
    ag: FloatArray
    inv_a: FloatArray
    p0: FloatArray
    const: float
    fit_b: bool


STEP_FRACTION = 0.995
POLISH_GAP = 30.0  # try the rounded dual bound once the gap is within this factor of tol


@compiled(fastmath=FAST)
def _solve(
    P: FloatArray,
    L: FloatArray,
    start: IntArray,
    delta: FloatArray,
    dinv: FloatArray,
    rhs: FloatArray,
    out: FloatArray,
) -> FloatArray:
    """out = D⁻¹(rhs − Ũw), w = K⁻¹ŨᵀD⁻¹rhs, K = Ĩ + ŨᵀD⁻¹Ũ (L its Cholesky factor); returns w.

    Without an intercept Ũ = U and this is (D + UUᵀ)⁻¹rhs (Woodbury). With one, Ũ = [U, A]
    (P carries the column a) and Ĩ has 0 for it: then out is the β-part of the solution of
    [[D + UUᵀ, −A], [Aᵀ, 0]] [dβ, dy] = [rhs, 0], with dy = −w[-1]. The two products with P
    go to BLAS."""
    n, d = P.shape
    h = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for r in range(start[i], start[i + 1]):
            x = dinv[r] * rhs[r]
            out[r] = x
            acc += delta[r] * x
        h[i] = acc
    w = P.T @ h
    for j in range(d):  # K w = Uᵀ D⁻¹ rhs with K = L Lᵀ
        s = w[j]
        for k in range(j):
            s -= L[j, k] * w[k]
        w[j] = s / L[j, j]
    for j in range(d - 1, -1, -1):
        s = w[j]
        for k in range(j + 1, d):
            s -= L[k, j] * w[k]
        w[j] = s / L[j, j]
    pw = P @ w
    for i in range(n):
        for r in range(start[i], start[i + 1]):
            out[r] -= dinv[r] * delta[r] * pw[i]
    return w


@compiled(fastmath=FAST)
def dual_to_primal(
    P: FloatArray, start: IntArray, delta: FloatArray, beta: FloatArray, p0: FloatArray
) -> FloatArray:
    """t = p₀ + Uᵀβ = p₀ + Pᵀ(Σ_{r ∋ i} Δ_rβ_r), padded with a 0 for P's intercept column."""
    n = P.shape[0]
    h = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for r in range(start[i], start[i + 1]):
            acc += delta[r] * beta[r]
        h[i] = acc
    t = P.T @ h
    t[: p0.shape[0]] += p0
    t[p0.shape[0] :] = 0.0  # the intercept column of P is not part of t
    return t


@compiled(fastmath=FAST)
def _normal_factor(PT: FloatArray, c: FloatArray, n_eye: int) -> FloatArray:
    """Cholesky factor L of K = Ĩ + Pᵀdiag(c)P, Ĩ = identity on the first ``n_eye``
    coordinates (0 on the intercept's). The lower triangle of K (and the upper of the
    diagonal 4 x 4 blocks) is formed in 4 x 4 tiles of dot products along the contiguous
    rows of PT = Pᵀ: thin matrices are a slow case for BLAS gemm (28 µs at 1,000 x 22,
    the tiles ~15 µs)."""
    d, n = PT.shape
    K = np.zeros((d, d))
    S = np.empty((4, n))  # 4 rows of Pᵀdiag(c) at a time
    for j0 in range(0, d, 4):
        jn = min(4, d - j0)
        for a in range(jn):
            for i in range(n):
                S[a, i] = c[i] * PT[j0 + a, i]
        for k0 in range(j0, d, 4):
            kn = min(4, d - k0)
            if jn == 4 and kn == 4:  # a 4 x 4 register tile: 8 streams feed 16 sums
                s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
                s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
                for i in range(n):
                    a0, a1, a2, a3 = S[0, i], S[1, i], S[2, i], S[3, i]
                    b0, b1, b2, b3 = PT[k0, i], PT[k0 + 1, i], PT[k0 + 2, i], PT[k0 + 3, i]
                    s00 += a0 * b0
                    s01 += a0 * b1
                    s02 += a0 * b2
                    s03 += a0 * b3
                    s10 += a1 * b0
                    s11 += a1 * b1
                    s12 += a1 * b2
                    s13 += a1 * b3
                    s20 += a2 * b0
                    s21 += a2 * b1
                    s22 += a2 * b2
                    s23 += a2 * b3
                    s30 += a3 * b0
                    s31 += a3 * b1
                    s32 += a3 * b2
                    s33 += a3 * b3
                K[k0, j0], K[k0 + 1, j0], K[k0 + 2, j0], K[k0 + 3, j0] = s00, s01, s02, s03
                K[k0, j0 + 1], K[k0 + 1, j0 + 1] = s10, s11
                K[k0 + 2, j0 + 1], K[k0 + 3, j0 + 1] = s12, s13
                K[k0, j0 + 2], K[k0 + 1, j0 + 2] = s20, s21
                K[k0 + 2, j0 + 2], K[k0 + 3, j0 + 2] = s22, s23
                K[k0, j0 + 3], K[k0 + 1, j0 + 3] = s30, s31
                K[k0 + 2, j0 + 3], K[k0 + 3, j0 + 3] = s32, s33
            else:
                for a in range(jn):
                    for b in range(kn):
                        s = 0.0
                        for i in range(n):
                            s += S[a, i] * PT[k0 + b, i]
                        K[k0 + b, j0 + a] = s
    for j in range(n_eye):
        K[j, j] += 1.0
    L = np.zeros((d, d))
    for j in range(d):
        s = K[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, d):
            s = K[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / L[j, j]
    return L


@compiled(fastmath=FAST)
def ipm_iteration(
    q: DualData,
    beta: FloatArray,
    zl: FloatArray,
    zu: FloatArray,
    t: FloatArray,
    Pt: FloatArray,
    y: float,
) -> tuple[FloatArray, float, float, float]:
    """One predictor–corrector step: updates β, zl, zu and Pt in place and returns
    (t, y, F, gap) at the new point (F the exact primal objective of v(β), b = y)."""
    P, PT, start, delta, ar, ak, p0, fit_b = q.P, q.PT, q.start, q.delta, q.ar, q.ak, q.p0, q.fit_b
    n = P.shape[0]
    N = beta.shape[0]
    # reduced gradient G = ∇φ − y·A (∇φ_r = Δ_r(P t)_{i_r} + a_rκ_r) and D⁻¹ (box barrier)
    G = np.empty(N)
    dinv = np.empty(N)
    ib = np.empty(N)
    iu = np.empty(N)
    c = np.zeros(n)
    for i in range(n):
        for r in range(start[i], start[i + 1]):
            g = delta[r] * Pt[i] + ak[r]
            if fit_b:
                g -= y * ar[r]
            G[r] = g
            b = beta[r]
            ib[r] = 1.0 / b
            iu[r] = 1.0 / (1.0 - b)
            dv = 1.0 / (zl[r] * ib[r] + zu[r] * iu[r])
            dinv[r] = dv
            c[i] += delta[r] * delta[r] * dv
    d = p0.shape[0]
    L = _normal_factor(PT, c, d)
    # predictor (affine scaling direction): dzl = −zl(1 + dβ/β), dzu = −zu(1 − dβ/(1 − β))
    rhs = np.empty(N)
    for r in range(N):
        rhs[r] = -G[r]
    da = np.empty(N)
    _solve(P, L, start, delta, dinv, rhs, da)
    mu = 0.0
    alpha = 1.0  # largest step keeping β in [0, 1] and zl, zu ≥ 0 (fused with μ)
    for r in range(N):
        b = beta[r]
        mu += zl[r] * b + zu[r] * (1.0 - b)
        x = da[r]
        if x < 0.0:
            alpha = min(alpha, -b / x)
        elif x > 0.0:
            alpha = min(alpha, (1.0 - b) / x)
        fl = 1.0 + x * ib[r]  # zl + α·dzl = zl(1 − α·fl) ≥ 0
        if fl > 0.0:
            alpha = min(alpha, 1.0 / fl)
        fu = 1.0 - x * iu[r]
        if fu > 0.0:
            alpha = min(alpha, 1.0 / fu)
    mu /= 2 * N
    mu_aff = 0.0
    for r in range(N):
        x = da[r]
        b = beta[r] + alpha * x
        mu_aff += zl[r] * (1.0 - alpha * (1.0 + x * ib[r])) * b + zu[r] * (
            1.0 - alpha * (1.0 - x * iu[r])
        ) * (1.0 - b)
    mu_aff /= 2 * N
    sigma = (mu_aff / mu) ** 3 if mu > 0.0 else 0.0
    smu = sigma * mu
    # corrector: centring and the second-order terms dβ_aff·dzl_aff, dβ_aff·dzu_aff
    for r in range(N):
        x = da[r]
        dzl_a = -zl[r] * (1.0 + x * ib[r])
        dzu_a = -zu[r] * (1.0 - x * iu[r])
        rhs[r] = -G[r] + (smu - x * dzl_a) * ib[r] - (smu + x * dzu_a) * iu[r]
    db = np.empty(N)
    w = _solve(P, L, start, delta, dinv, rhs, db)
    dy = -float(w[d]) if fit_b else 0.0
    # dzl = cl − zl − zl·dβ/β, dzu = cu − zu + zu·dβ/(1 − β), cl, cu from the predictor
    dzl = np.empty(N)
    dzu = np.empty(N)
    alpha = 1.0
    for r in range(N):
        x = da[r]
        bb = beta[r]
        zlr = zl[r]
        zur = zu[r]
        cl = (smu + x * zlr * (1.0 + x * ib[r])) * ib[r]
        cu = (smu - x * zur * (1.0 - x * iu[r])) * iu[r]
        step = db[r]
        dzl[r] = cl - zlr - zlr * ib[r] * step
        dzu[r] = cu - zur + zur * iu[r] * step
        if step < 0.0:
            alpha = min(alpha, -bb / step)
        elif step > 0.0:
            alpha = min(alpha, (1.0 - bb) / step)
        if dzl[r] < 0.0:
            alpha = min(alpha, -zlr / dzl[r])
        if dzu[r] < 0.0:
            alpha = min(alpha, -zur / dzu[r])
    alpha = min(1.0, STEP_FRACTION * alpha)
    for r in range(N):
        beta[r] += alpha * db[r]
        zl[r] += alpha * dzl[r]
        zu[r] += alpha * dzu[r]
    y += alpha * dy
    t = dual_to_primal(P, start, delta, beta, p0)
    F, gap = primal(q, beta, t, Pt, y)
    return t, y, F, gap


@compiled(fastmath=FAST)
def primal(
    q: DualData, beta: FloatArray, t: FloatArray, Pt: FloatArray, y: float
) -> tuple[float, float]:
    """Fill Pt = P·t and return (F, gap) of the primal point v = −λ^{-1/2}t, b = y:
    fᵢ = zᵢ·v + b = −(P t)ᵢ/aᵢ + y, F = ½‖t‖² + Σaᵢcᵢ + Σaᵢgᵢfᵢ + Σ_r a_r max(0, u_r),
    gap = Σ_r a_r(max(0, u_r) − β_r u_r), u_r = f_{i_r} − κ_r."""
    P, start, ar, kap, ag, inv_a, const = q.P, q.start, q.ar, q.kap, q.ag, q.inv_a, q.const
    n, d = P.shape
    F = const
    for j in range(d):
        F += 0.5 * t[j] * t[j]
    gap = 0.0
    Pt[:] = P @ t
    for i in range(n):
        f = -Pt[i] * inv_a[i] + y
        F += ag[i] * f
        for r in range(start[i], start[i + 1]):
            u = f - kap[r]
            pos = u if u > 0.0 else 0.0
            F += ar[r] * pos
            gap += ar[r] * (pos - beta[r] * u)
    return F, gap


@compiled()
def prepare(
    X: FloatArray,
    mean: FloatArray,
    scale: FloatArray,
    isl: FloatArray,
    a: FloatArray,
    c: FloatArray,
    g: FloatArray,
    K: FloatArray,
    D: FloatArray,
    fit_b: bool,
) -> tuple[
    FloatArray,
    FloatArray,
    IntArray,
    IntArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    float,
]:
    """The arrays of the module docstring from the raw rows and the ramps (c, g, κ, Δ) of
    every sample; rows with aᵢ = 0 and ramps with Δ = 0 are left out. Also returns the kept
    row indices, p₀ = λ^{-1/2}⊙Zᵀ(a⊙g) and const = Σaᵢcᵢ."""
    n, d = X.shape
    J = K.shape[1]
    m = 0
    N = 0
    for i in range(n):
        if a[i] > 0.0:
            m += 1
            for j in range(J):
                if D[i, j] > 0.0:
                    N += 1
    width = d + 1 if fit_b else d
    P = np.empty((m, width))
    start = np.empty(m + 1, dtype=np.int64)
    rows = np.empty(m, dtype=np.int64)
    delta = np.empty(N)
    kap = np.empty(N)
    ar = np.empty(N)
    ak = np.empty(N)
    ag = np.empty(m)
    inv_a = np.empty(m)
    p0 = np.zeros(d)
    const = 0.0
    factor = isl / scale
    q = 0
    r = 0
    for i in range(n):
        ai = a[i]
        if ai <= 0.0:
            continue
        rows[q] = i
        gi = g[i]
        for k in range(d):
            pk = ai * (X[i, k] - mean[k]) * factor[k]
            P[q, k] = pk
            p0[k] += gi * pk
        if fit_b:
            P[q, d] = ai
        start[q] = r
        for j in range(J):
            if D[i, j] > 0.0:
                delta[r] = D[i, j]
                kap[r] = K[i, j]
                ar[r] = ai * D[i, j]
                ak[r] = ar[r] * K[i, j]
                r += 1
        ag[q] = ai * gi
        inv_a[q] = 1.0 / ai
        const += ai * c[i]
        q += 1
    start[m] = r
    PT = np.ascontiguousarray(P.T)
    return P, PT, start, rows, delta, kap, ar, ak, ag, inv_a, p0, const


@compiled(fastmath=FAST)
def _rounded_dual(
    q: DualData,
    beta: FloatArray,
    Pt: FloatArray,
    y: float,
    dual: float,
    tau_fraction: float,
) -> float:
    """A dual value ≥ D(β), still a certified lower bound on F*: move β towards the 0/1
    that the primal residuals u_r = f − κ_r say (u_r > τ: 1, u_r < −τ: 0, τ = fraction of
    max|u|), keep Σ a_rβ_r by shifting the undecided terms, and take the best point of the
    concave quadratic D(β + θ·dβ) on the segment that stays in the box. An interior point's
    D(β) trails F* by about its complementarity; this removes most of that slack (10x on
    hinge/epsilon-insensitive near the end)."""
    P, start, delta, ar, ak = q.P, q.start, q.delta, q.ar, q.ak
    kap, inv_a, fit_b = q.kap, q.inv_a, q.fit_b
    n = P.shape[0]
    N = beta.shape[0]
    d = P.shape[1] - 1 if fit_b else P.shape[1]
    u = np.empty(N)  # primal residuals u_r = f_{i_r} − κ_r, fᵢ = −(P t)ᵢ/aᵢ + y
    umax = 0.0
    for i in range(n):
        f = -Pt[i] * inv_a[i] + y
        for r in range(start[i], start[i + 1]):
            u[r] = f - kap[r]
            umax = max(umax, abs(u[r]))
    tau = tau_fraction * umax
    step = np.zeros(N)
    excess = 0.0
    free_weight = 0.0
    for r in range(N):
        if u[r] > tau:
            step[r] = 1.0 - beta[r]
        elif u[r] < -tau:
            step[r] = -beta[r]
        else:
            free_weight += ar[r]
        excess += ar[r] * step[r]
    if fit_b:
        if free_weight <= 0.0:
            return dual
        shift = excess / free_weight
        for r in range(N):
            if -tau <= u[r] <= tau:
                step[r] = -shift
    theta_max = 1.0
    for r in range(N):
        x = step[r]
        if x > 0.0:
            theta_max = min(theta_max, (1.0 - beta[r]) / x)
        elif x < 0.0:
            theta_max = min(theta_max, -beta[r] / x)
    # D(β + θs) = D(β) − θ·∇φ·s − ½θ²‖Uᵀs‖²,  ∇φ_r = Δ_r(P t)_i + a_rκ_r
    slope = 0.0
    h = np.zeros(n)
    for i in range(n):
        for r in range(start[i], start[i + 1]):
            slope -= step[r] * (delta[r] * Pt[i] + ak[r])
            h[i] += delta[r] * step[r]
    w = P.T @ h
    curv = 0.0
    for j in range(d):  # the intercept column of P is not part of U
        curv += w[j] * w[j]
    if slope <= 0.0 or theta_max <= 0.0:
        return dual
    theta = min(theta_max, slope / curv) if curv > 0.0 else theta_max
    return dual + theta * slope - 0.5 * theta * theta * curv


@compiled()
def run(
    q: DualData,
    beta: FloatArray,
    zl: FloatArray,
    zu: FloatArray,
    t: FloatArray,
    Pt: FloatArray,
    y: float,
    tol: float,
    steps: int,
    hist_F: FloatArray,
    hist_gap: FloatArray,
    best_t: FloatArray,
    best: FloatArray,
) -> tuple[int, FloatArray, float]:
    """Up to ``steps`` iterations, stopping once the best point's certified bound
    F_best − max_k(F_k − gap_k) ≤ tol. Records F and the gap of every iteration in
    ``hist_F``/``hist_gap``; ``best_t`` and ``best`` = [F_best, y_best, lower bound]
    carry the best primal point across calls. Returns (iterations done, t, y)."""
    done = 0
    for k in range(steps):
        t, y, F, gap = ipm_iteration(q, beta, zl, zu, t, Pt, y)
        hist_F[k] = F
        hist_gap[k] = gap
        done = k + 1
        if not (np.isfinite(F) and np.isfinite(gap)):
            break
        lower = F - gap  # the dual value D(β)
        if 0.0 < gap <= POLISH_GAP * tol:  # near the end: a sharper bound from the same β
            for tau in (1e-3, 1e-2):
                rounded = _rounded_dual(q, beta, Pt, y, F - gap, tau)
                lower = max(lower, rounded)
        if lower > best[2]:
            best[2] = lower
        if best[0] > F:
            best[0] = F
            best[1] = y
            best_t[:] = t
        if best[0] - best[2] <= tol:
            break
    return done, t, y


@compiled()
def initial_point(
    q: DualData, beta_bar: float, mu_fraction: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, float, float, float]:
    """A feasible start: the constant ``beta_bar`` ∈ (0, 1) meets Σ a_rβ_r = −Σ aᵢgᵢ (the
    caller computes it; any value does without b), y the least-squares multiplier,
    zl = μ₀/β, zu = μ₀/(1 − β) with μ₀ = ``mu_fraction`` times the mean |reduced gradient|.
    Every later step keeps the equality, on which the certificate F − gap ≤ F* rests.
    Returns (β, zl, zu, t, Pt, y, F, gap)."""
    P, start, delta, ar, ak = q.P, q.start, q.delta, q.ar, q.ak
    p0, fit_b = q.p0, q.fit_b
    N = ar.shape[0]
    beta = np.full(N, beta_bar)
    t = dual_to_primal(P, start, delta, beta, p0)
    Pt = np.empty(P.shape[0])
    F, gap = primal(q, beta, t, Pt, 0.0)
    grad = np.empty(N)
    num = 0.0
    den = 0.0
    for i in range(P.shape[0]):
        for r in range(start[i], start[i + 1]):
            grad[r] = delta[r] * Pt[i] + ak[r]
            num += ar[r] * grad[r]
            den += ar[r] * ar[r]
    y = 0.0
    if fit_b and den > 0.0:
        y = num / den
        F, gap = primal(q, beta, t, Pt, y)
    mean_abs = 0.0
    for r in range(N):
        mean_abs += abs(grad[r] - y * ar[r])
    mu0 = mu_fraction * max(mean_abs / max(N, 1), 1e-300)
    zl = mu0 / beta
    zu = mu0 / (1.0 - beta)
    return beta, zl, zu, t, Pt, y, F, gap
