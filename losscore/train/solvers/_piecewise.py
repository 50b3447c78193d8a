"""Piecewise-linear losses: exact representation, smoothing, LP and crossover (private).

Every loss that declares itself piecewise linear (:meth:`losscore.Loss.piecewise_linear`:
hinge, perceptron, l1, quantile, epsilon-insensitive, smooth_l1 with β = 0 in the catalog)
is, for one sample, a convex piecewise-linear function of the score f, given by its ramps
(:meth:`losscore.Loss.ramps`, the only way this module reads the loss):

    ℓᵢ(f) = maxₚ (αᵢₚ f + βᵢₚ) = cᵢ + gᵢ f + Σⱼ Δᵢⱼ·max(0, f − κᵢⱼ),   Δᵢⱼ > 0,

(pieces sorted by slope, derived from the ramps by :func:`pieces`; κ the kinks, Δ the slope
jumps). From this one form:

* **linear programming** (HiGHS in cancellable slices: :mod:`._highs`) solves the l1- and
  un-penalised problems exactly via the epigraph tᵢ ≥ αᵢₚ fᵢ + βᵢₚ, or for one-kink losses
  whose slopes have opposite signs (l1, quantile) via the residual split;
* **smoothing**: max(0, u) → h_μ(u) = 0 | (u + μ/2)²/(2μ) | u on u ≤ −μ/2 | |u| < μ/2 |
  u ≥ μ/2, a C¹ function within μ/8 of the original, minimised by L-BFGS-B;
* **interior point** (l2 penalty, up to IPM_MAX_ROWS rows): see :mod:`._ipm`; the
  rest of this module is used above that size or when it stalls;
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
from scipy.linalg.lapack import dposv as _posv

from losscore._arrays import FloatArray
from losscore.losses import Loss, Ramps
from losscore.train._problem import Problem
from losscore.train.solvers._highs import Lp, LpResult, run_highs
from losscore.train.solvers._ipm import solve_ipm
from losscore.train.solvers._lbfgs import minimize_smooth
from losscore.train.solvers._monitor import Monitor, SolverOutput, inf_norm

__all__ = [
    "PiecewiseLinear",
    "build_lp",
    "solve_continuation",
    "solve_interior_point",
    "solve_lp",
]

# the interior-point method is not used below this l2 strength in solver coordinates (≈ alpha for well-scaled features): the
# Woodbury factors then span ~1/λ and the method stalls (the continuation is used instead)
IPM_MIN_LAMBDA = 1e-10
IPM_MAX_STEPS = 200  # it converges in 10-30; more means it stalls
MAX_KINK_TERMS = 4000  # upper cap; the effective cap is 4(d + 1) + 50


class PiecewiseLinear:
    """A catalog loss that is piecewise linear at its parameters, read through its ramps
    (:meth:`losscore.Loss.ramps`), with a smoothed ``pointwise``.

    ``mu = 0`` gives the exact loss; ``mu > 0`` the smoothed one (see module docstring).
    It has the ``pointwise`` signature of :class:`losscore.Loss`, so a
    :class:`Problem` can use it in place of the loss.
    """

    def __init__(self, loss: Loss, params: Mapping[str, float], mu: float = 0.0) -> None:
        self.loss, self.params, self.mu = loss, dict(params), mu

    def with_mu(self, mu: float) -> PiecewiseLinear:
        return PiecewiseLinear(self.loss, self.params, mu)

    def ramps(self, y: FloatArray) -> Ramps:
        """(c, g, κ, Δ): ℓ(f) = c + g f + Σⱼ Δⱼ max(0, f − κⱼ), from the loss."""
        return self.loss.ramps(y, self.params)

    @property
    def labels(self) -> bool:
        """The targets are ±1 labels (kinks in margin units), not real values."""
        return self.loss.spec.target == "binary_label"

    def pointwise(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        *,
        hessian: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        if prediction.ndim != 1:  # pragma: no cover - binary / regression scores only
            raise ValueError("piecewise losses take one score per sample")
        return self.evaluate(prediction, self.ramps(target), hessian=hessian)

    def evaluate(
        self,
        f: FloatArray,
        ramps: Ramps,
        *,
        hessian: bool = False,
        value_only: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Smoothed (μ > 0) or exact ℓ, ℓ' and ℓ'' at scores f, given precomputed ramps
        (``value_only``: ℓ alone, the gradient returned empty)."""
        c, g, K, D = ramps
        mu = self.mu
        value = g * f
        value += c
        grad = np.empty(0) if value_only else g.copy()
        hess = np.zeros_like(f) if hessian else None
        u, t = np.empty_like(f), np.empty_like(f)
        for j in range(K.shape[1]):  # one contiguous column per ramp (K, D are Fortran-ordered)
            Dj = D[:, j]
            np.subtract(f, K[:, j], out=u)
            if mu > 0:
                # t = (u + μ/2) clipped to [0, μ]; h = t²/(2μ) + max(u − μ/2, 0), h' = t/μ,
                # h'' = [|u| < μ/2]/μ = [0 < t < μ]/μ
                np.add(u, 0.5 * mu, out=t)
                np.clip(t, 0.0, mu, out=t)
                if hess is not None:
                    hess += Dj * ((t > 0.0) & (t < mu)) * (1.0 / mu)
                if not value_only:
                    grad += Dj * t * (1.0 / mu)
                u -= 0.5 * mu
                np.maximum(u, 0.0, out=u)
                t *= t
                t *= 0.5 / mu
                t += u
                t *= Dj
                value += t
            else:
                if not value_only:
                    grad += Dj * (u > 0)
                np.maximum(u, 0.0, out=u)
                u *= Dj
                value += u
        return value, grad, hess


def pieces(ramps: Ramps) -> tuple[FloatArray, FloatArray]:
    """(slopes, offsets), each (n, J + 1): ℓ(f) = maxₚ (slopeₚ·f + offsetₚ), slopes increasing.

    Piece p holds between kinks p − 1 and p: slope g + Σ_{j<p} Δⱼ, offset c − Σ_{j<p} Δⱼκⱼ.
    """
    c, g, K, D = ramps
    slopes = np.column_stack([g, g[:, None] + np.cumsum(D, axis=1)])
    offsets = np.column_stack([c, c[:, None] - np.cumsum(D * K, axis=1)])
    return slopes, offsets


# -- linear programming ----------------------------------------------------------------------------


def solve_lp(
    problem: Problem, pl: PiecewiseLinear, *, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """Exact solve of  Σ aᵢℓᵢ(zᵢ·v + b) + Σ λ1ⱼ|vⱼ|  (no l2 part) with HiGHS (:func:`build_lp`)."""
    keep = problem.a > 0
    Z = problem.rows(keep)
    ramps = pl.ramps(np.asarray(problem.target[keep], dtype=np.float64))
    nb = 1 if problem.fit_intercept else 0
    lp, constant = build_lp(Z, problem.a[keep], ramps, problem.lam1, nb)
    res = run_highs(lp, max_iter, monitor)
    if res.x is not None:
        res = res._replace(fun=res.fun + constant)
    return _lp_output(problem, res, Z.shape[1], nb, monitor)


def build_lp(
    Z: FloatArray,
    a: FloatArray,
    ramps: Ramps,
    lam1: FloatArray,
    nb: int,
    linear: FloatArray | None = None,
) -> tuple[Lp, float]:
    """The LP of  Σ aᵢℓᵢ(zᵢ·v + b) + Σ λ1ⱼ|vⱼ| + linear·(v, b)  (aᵢ > 0; ``nb``: 1 with an
    intercept) and the constant to add to its optimum for that objective.

    Epigraph form: variables x = [v⁺ (d), v⁻ (d), b (free, if fitted), t (n)]; minimise
    Σ aᵢtᵢ + λ1·(v⁺ + v⁻) subject to αᵢₚ(zᵢ·(v⁺ − v⁻) + b) − tᵢ ≤ −βᵢₚ for every non-zero
    piece, t ≥ 0 where a zero piece exists; or the residual split (:func:`_lp_residual_split`)
    where it is smaller. Either way x starts with [v⁺, v⁻, b].
    """
    n, d = Z.shape
    S, B = pieces(ramps)
    zero_piece = (S == 0) & (B == 0)
    if _residual_split_applies(ramps, zero_piece):
        lp, constant = _lp_residual_split(Z, a, ramps, lam1, nb)
    else:
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
        cost = np.concatenate([lam1, lam1, np.zeros(nb), a])
        col_lower = np.concatenate([np.zeros(2 * d), np.full(nb, -np.inf), t_lower])
        lp = Lp(cost, A, np.full(m, -np.inf), -beta, col_lower, np.full(cost.shape[0], np.inf))
        constant = 0.0
    if linear is not None:
        cost = lp.cost.copy()
        cost[:d] += linear[:d]
        cost[d : 2 * d] -= linear[:d]
        if nb:
            cost[2 * d] += linear[d]
        lp = replace(lp, cost=cost)
    return lp, constant


def _residual_split_applies(ramps: Ramps, zero_piece: NDArray[np.bool_]) -> bool:
    """One kink per sample with slopes g ≤ 0 ≤ g + Δ on either side, and fewer constraint
    rows than the epigraph: the epigraph has a row per non-zero piece, so the split (one row
    per sample) wins where no piece is identically zero (l1, quantile), not for hinge (whose
    epigraph is one row per sample already; measured 2x faster there)."""
    _, g, _, D = ramps
    return (
        D.shape[1] == 1
        and not zero_piece.any()
        and bool((g <= 0).all() and (g + D[:, 0] >= 0).all())
    )


def _lp_residual_split(
    Z: FloatArray, a: FloatArray, ramps: Ramps, lam1: FloatArray, nb: int
) -> tuple[Lp, float]:
    """The LP for one-kink losses whose slopes g ≤ 0 ≤ g + Δ (l1, quantile): with
    ℓ(f) = c + g·f + Δ·max(0, f − κ) and f − κ = u⁺ − u⁻ (u± ≥ 0), ℓ = c + gκ + (g + Δ)u⁺ − g·u⁻
    at the optimum; variables [v⁺, v⁻, b, u⁺, u⁻], one equality row per sample
    zᵢ·(v⁺ − v⁻) + b − u⁺ᵢ + u⁻ᵢ = κᵢ (the epigraph form has two inequality rows per sample;
    scikit-learn's QuantileRegressor uses this form too). Its constant: Σ aᵢ(cᵢ + gᵢκᵢ)."""
    n, d = Z.shape
    c, g, K, D = ramps
    kink, jump = K[:, 0], D[:, 0]
    eye = scipy.sparse.identity(n, format="csr")
    blocks = [scipy.sparse.csr_matrix(Z), scipy.sparse.csr_matrix(-Z)]
    if nb:
        blocks.append(scipy.sparse.csr_matrix(np.ones((n, 1))))
    A = scipy.sparse.hstack([*blocks, -eye, eye], format="csc")
    cost = np.concatenate([lam1, lam1, np.zeros(nb), a * (g + jump), -a * g])
    col_lower = np.concatenate([np.zeros(2 * d), np.full(nb, -np.inf), np.zeros(2 * n)])
    lp = Lp(cost, A, kink, kink, col_lower, np.full(cost.shape[0], np.inf))
    return lp, float(a @ (c + g * kink))


def _lp_output(problem: Problem, res: LpResult, d: int, nb: int, monitor: Monitor) -> SolverOutput:
    """θ from an LP solution x = [v⁺, v⁻, b, …], with |LP optimum − F(θ)| as optimality."""
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


def _why(*args: object) -> None:
    import os

    if os.environ.get("LOSSCORE_DEBUG"):
        print("   crossover fails:", *args)


def _crossover(
    problem: Problem,
    pl: PiecewiseLinear,
    theta: FloatArray,
    tol: float,
    ramps: Ramps,
    f: FloatArray,
) -> tuple[FloatArray, float, FloatArray] | None:
    """Exact KKT solve for the partition read off a smoothed solution (l2 penalty, k = 1).

    Primal-dual active-set refinement: after each linear solve, kink terms whose β left
    [0, 1] move to off/on, and fixed terms that crossed their kink join the kink set;
    success when nothing moves (then every KKT condition holds). ``f`` are the scores at θ;
    on success the new θ, its KKT residual and its scores are returned.
    """
    mu = pl.mu
    lam2 = problem.lam2
    if problem.lam1.any() or not (lam2 > 0).all():
        return None
    a = problem.a
    _, g, K, D = ramps
    U = f[:, None] - K
    live = (D > 0) & (a > 0)[:, None]
    at_kink = live & (np.abs(U) < 0.5 * mu)
    on = live & (0.5 * mu <= U)
    limit = min(MAX_KINK_TERMS, 2 * (problem.d + 1) + 10)
    scale = 1.0 + (float(np.max(np.abs(K))) if K.size else 0.0)
    ftol = 1e-9 * scale
    inv = 1.0 / lam2
    gfix_prev: FloatArray | None = None
    r0z: FloatArray = np.zeros(problem.d)
    for _round in range(4):
        ei, ej = np.nonzero(at_kink)
        m = ei.shape[0]
        if m > limit:
            _why("kink set too large", m)
            return None
        gfix = g + np.sum(D * on, axis=1)
        if gfix_prev is None:
            r0z = problem.z_rmatvec(a * gfix)
        else:  # only the samples whose on/off state moved change Zᵀ(a·gfix)
            moved = np.nonzero(gfix != gfix_prev)[0]
            if moved.size:
                dg = a[moved] * (gfix[moved] - gfix_prev[moved])
                r0z = r0z + problem.rows(moved).T @ dg
        gfix_prev = gfix
        r0b = float(a @ gfix)
        ZE = problem.rows(ei)
        M = (ZE * inv) @ ZE.T
        rhs_top = K[ei, ej] + ZE @ (r0z * inv)
        if problem.fit_intercept:
            sys: FloatArray = np.zeros((m + 1, m + 1))
            sys[:m, :m] = -M
            sys[:m, m] = 1.0
            sys[m, :m] = 1.0
            rhs = np.concatenate([rhs_top, [-r0b]])
        else:
            sys, rhs = -M, rhs_top
        sol = (
            scipy.linalg.lstsq(sys, rhs, check_finite=False, lapack_driver="gelsd")[0]
            if sys.size
            else np.zeros(0)
        )
        b_new = float(sol[m]) if problem.fit_intercept else 0.0
        beta = sol[:m] / (a[ei] * D[ei, ej])
        kink_g = D[ei, ej] * np.clip(beta, 0.0, 1.0)
        gsample = gfix.copy()
        np.add.at(gsample, ei, kink_g)
        # Zᵀ(a·gsample) = Zᵀ(a·gfix) + Σ over kink terms of aᵢ·Δ·β·zᵢ (rows ZE at hand)
        v = -(r0z + ZE.T @ (a[ei] * kink_g)) * inv
        f_new = problem.z_matvec(v)
        f_new += b_new
        U_new = f_new[:, None] - K
        off = live & ~on & ~at_kink
        low = beta < -1e-9
        high = beta > 1 + 1e-9
        cross_on = on & (U_new < -ftol)
        cross_off = off & (U_new > ftol)
        if not (low.any() or high.any() or cross_on.any() or cross_off.any()):
            if m and np.max(np.abs(U_new[ei, ej])) > 10 * ftol:
                _why("kink residual", np.max(np.abs(U_new[ei, ej])))
                return None
            grad_v = lam2 * v + problem.z_rmatvec(a * gsample)
            grad_b = float(a @ gsample) if problem.fit_intercept else 0.0
            resid = max(inf_norm(grad_v), abs(grad_b))
            if resid > tol:
                _why("resid", resid, tol)
                return None
            theta_new = np.concatenate([v, [b_new]]) if problem.fit_intercept else v
            return theta_new, resid, f_new
        # move the single worst β violator out, or bring the worst few crossers in
        if low.any() or high.any():
            viol = np.maximum(-beta, beta - 1.0)
            worst = int(np.argmax(viol))
            at_kink[ei[worst], ej[worst]] = False
            if beta[worst] > 1:
                on[ei[worst], ej[worst]] = True
        else:
            crossing = cross_on | cross_off
            ci, cj = np.nonzero(crossing)
            size = np.abs(U_new[ci, cj])
            pick = np.argsort(size)[::-1][:5]
            at_kink[ci[pick], cj[pick]] = True
            on[ci[pick], cj[pick]] = False
    _why("active set did not settle")
    return None


def _newton_smoothed(
    problem: Problem,
    pl: PiecewiseLinear,
    theta: FloatArray,
    ramps: Ramps,
    *,
    gtol: float,
    max_iter: int,
    monitor: Monitor,
    f: FloatArray,
) -> tuple[FloatArray, int, float, FloatArray]:
    """Semismooth Newton on the smoothed problem (l2 penalty λ2 > 0, no l1, k = 1).

    H = Z₁ᵀ diag(aᵢ ℓ''_μ) Z₁ + diag(λ2, ε) is built from the rows in a quadratic zone
    only; the direction p = −H⁻¹g is followed with an exact line search: φ(t) = F_μ(θ + tp)
    is convex and piecewise quadratic, and with Zp computed once, φ'(t) and φ''(t) cost
    O(n) each (safeguarded Newton–bisection on φ'). ``f`` are the scores at θ; the scores
    at the returned θ come back with it.
    """
    a = problem.a
    nb = 1 if problem.fit_intercept else 0
    d = problem.d
    lam2 = problem.lam2
    diag_d = np.arange(d)
    diag_all = np.arange(d + nb)
    it = 0
    while True:
        val, gl, hl = pl.evaluate(f, ramps, hessian=True)
        assert hl is not None
        ag = a * gl
        grad = problem.z_rmatvec(ag) + lam2 * theta[:d]
        if nb:
            grad = np.concatenate([grad, [ag.sum()]])
        opt = inf_norm(grad)
        if it:
            monitor.record(float(a @ val) + 0.5 * float(lam2 @ np.square(theta[:d])), opt)
        if opt <= gtol or it >= max_iter or monitor.out_of_time():
            return theta, it, opt, f
        idx = np.nonzero(hl * a > 0)[0]
        root = np.sqrt(a[idx] * hl[idx])
        # √(aᵢℓ''ᵢ)·zᵢ for the rows in a quadratic zone
        SZ = problem.weighted_rows(idx, root)
        H = np.empty((d + nb, d + nb))
        H[:d, :d] = SZ.T @ SZ  # syrk
        if nb:
            col = root @ SZ
            H[:d, d] = col
            H[d, :d] = col
            H[d, d] = float(root @ root)
        H[diag_d, diag_d] += lam2
        H[diag_all, diag_all] += 1e-12 * max(float(np.trace(H)) / H.shape[0], 1e-300)
        # Cholesky solve (LAPACK posv, without scipy.linalg.solve's per-call checks)
        # (info > 0, not positive definite, cannot happen with λ2 > 0: gradient step fallback)
        _, x, info = _posv(H, grad, lower=True)
        step = -x if info == 0 else -grad / max(float(np.max(H[diag_all, diag_all])), 1e-300)
        Zp = problem.z_matvec(step[:d]) + (step[d] if nb else 0.0)
        v, p = theta[:d], step[:d]
        pp, vp = float(lam2 @ (p * p)), float(lam2 @ (v * p))
        slope0 = float(grad @ step)
        if slope0 >= 0:  # pragma: no cover - H is positive definite
            return theta, it, opt, f

        dphi = _LineDerivatives(f, Zp, a, ramps, pl.mu, vp, pp)

        # φ' is increasing: bracket its root, then Newton steps inside the bracket,
        # falling back to Illinois false position (superlinear, robust to the kinks of φ')
        lo, dlo, hi, dhi, t = 0.0, slope0, np.inf, np.nan, 1.0
        for _ in range(50):
            d1, d2 = dphi(t)
            if abs(d1) <= 0.1 * abs(slope0):  # strong-Wolfe curvature condition
                break
            if d1 > 0:
                if np.isfinite(hi) and d1 > 0 and dhi > 0:
                    dlo *= 0.5  # Illinois: the lower end was retained twice
                hi, dhi = t, d1
            else:
                if np.isfinite(hi):
                    dhi *= 0.5
                lo, dlo = t, d1
            t_new = t - d1 / d2 if d2 > 0 else np.inf
            if not lo < t_new < hi:
                t_new = lo - dlo * (hi - lo) / (dhi - dlo) if np.isfinite(hi) else 4.0 * t
            if abs(t_new - t) <= 1e-12 * max(t, 1e-300):
                break
            t = t_new
        del dphi  # its n-sized work arrays are not kept into the next iteration
        if t <= 0:
            return theta, it, opt, f
        theta = theta + t * step
        f = f + t * Zp
        it += 1


class _LineDerivatives:
    """φ'(t), φ''(t) of φ(t) = F_μ(θ + t·p) along one Newton direction, in O(n) per ramp.

    With fₜ = f + t·Zp and uⱼ = fₜ − κⱼ, the smoothed ramp has h'(u) = clip(u + μ/2, 0, μ)/μ
    and h''(u) = [|u| < μ/2]/μ, so
    φ'(t) = Σ aᵢgᵢZpᵢ + Σⱼ (Δⱼ·a·Zp)·h'(uⱼ) + λ2·(v + t·p)·p and
    φ''(t) = Σⱼ (Δⱼ·a·Zp²)·h''(uⱼ) + λ2·p·p; the weights Δⱼ·a·Zp and Δⱼ·a·Zp² are formed once
    per direction (the loss value, unused by the line search, is never computed).
    """

    def __init__(
        self,
        f: FloatArray,
        Zp: FloatArray,
        a: FloatArray,
        ramps: Ramps,
        mu: float,
        vp: float,
        pp: float,
    ) -> None:
        _, g, K, D = ramps
        aZp = a * Zp
        self.f, self.Zp, self.K, self.mu = f, Zp, K, mu
        self.const = float(g @ aZp) + vp
        self.pp = pp
        self.w1 = [np.ascontiguousarray(D[:, j] * aZp) for j in range(K.shape[1])]
        aZp *= Zp
        self.w2 = [np.ascontiguousarray(D[:, j] * aZp) for j in range(K.shape[1])]
        self.ft = np.empty_like(f)
        self.tt = np.empty_like(f)
        self.mask = np.empty(f.shape, dtype=bool)
        self.inside = np.empty(f.shape, dtype=bool)

    def __call__(self, t: float) -> tuple[float, float]:
        mu = self.mu
        ft, tt, mask, inside = self.ft, self.tt, self.mask, self.inside
        np.multiply(self.Zp, t, out=ft)
        ft += self.f
        ft += 0.5 * mu
        d1, d2 = self.const + t * self.pp, self.pp
        for j in range(self.K.shape[1]):
            np.subtract(ft, self.K[:, j], out=tt)  # u + μ/2
            np.greater(tt, 0.0, out=mask)
            np.less(tt, mu, out=inside)
            mask &= inside  # |u| < μ/2
            np.maximum(tt, 0.0, out=tt)
            np.minimum(tt, mu, out=tt)
            d1 += float(self.w1[j] @ tt) / mu
            d2 += float(self.w2[j] @ mask) / mu
        return d1, d2


def _scale(problem: Problem, pl: PiecewiseLinear, ramps: Ramps) -> float:
    """The size of the scores around the kinks, the first smoothing width's unit: the largest
    |κ| for ±1 labels (the margin threshold), the weighted spread of y for real targets."""
    if pl.labels:
        return max(float(np.max(np.abs(ramps.kinks))) if ramps.kinks.size else 0.0, 1e-3)
    y = np.asarray(problem.target, dtype=np.float64)
    a = problem.a / problem.a.sum()
    center = float(a @ y)
    spread = float(np.sqrt(a @ np.square(y - center)))
    return spread if spread > 0 else 1.0


def _warm_start(problem: Problem, y: FloatArray) -> FloatArray:
    """Ridge (squared error, same λ2) on the targets (±1 labels for classifiers): one Gram
    pass and a (d+1)² solve; a far better start than 0 for the first smoothed stage."""
    from losscore.train.solvers._exact import GramQuadratic, solve_linear

    if not (problem.lam2 > 0).all() or problem.k != 1:
        theta: FloatArray = np.zeros(problem.size)
        if problem.fit_intercept:
            theta[-1] = float(np.median(y))
        return theta
    quad = GramQuadratic(problem)
    return solve_linear(quad.penalised(), quad.q)


def solve_interior_point(
    problem: Problem, pl: PiecewiseLinear, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """l2-penalised piecewise-linear fits (the solver table sends up to IPM_MAX_ROWS rows here): the
    interior-point method of :mod:`._ipm` when λ ≥ IPM_MIN_LAMBDA, falling back to the
    smoothing continuation if it stalls (the better of the two is returned)."""
    y = np.asarray(problem.target, dtype=np.float64)
    ipm: SolverOutput | None = None
    if problem.lam2.size and float(problem.lam2.min()) >= IPM_MIN_LAMBDA:
        budget = min(max_iter, IPM_MAX_STEPS)
        ipm = solve_ipm(problem, pl.ramps(y), tol=tol, max_iter=budget, monitor=monitor)
        if ipm is not None and (
            ipm.converged
            or monitor.timed_out
            or (ipm.stop_reason == "max_iter" and budget == max_iter)
        ):
            return ipm  # converged, or stopped by the caller's own limits
        # stalled (numerical breakdown, or IPM_MAX_STEPS without converging: λ tiny against the
        # data): the continuation below with the rest of the budget; the better one is returned
        if ipm is not None:
            max_iter = max(max_iter - ipm.n_iter, 1)
    out = solve_continuation(problem, pl, tol=tol, max_iter=max_iter, monitor=monitor)
    if ipm is not None and problem.objective(ipm.theta) < problem.objective(out.theta):
        return ipm
    return out


def solve_continuation(
    problem: Problem, pl: PiecewiseLinear, *, tol: float, max_iter: int, monitor: Monitor
) -> SolverOutput:
    """l2 or elastic-net penalised piecewise-linear fits by smoothing continuation (μ ÷ 10 per
    stage) with a crossover attempt after each stage, each stage solved by semismooth Newton
    (l2 penalty) or L-BFGS-B (elastic net)."""
    return _continuation(
        problem,
        pl,
        np.asarray(problem.target, dtype=np.float64),
        tol=tol,
        max_iter=max_iter,
        monitor=monitor,
    )


def _continuation(
    problem: Problem,
    pl: PiecewiseLinear,
    y: FloatArray,
    *,
    tol: float,
    max_iter: int,
    monitor: Monitor,
) -> SolverOutput:
    newton = not problem.lam1.any() and problem.k == 1
    ramps = pl.ramps(y)
    scale = _scale(problem, pl, ramps)
    theta = _warm_start(problem, y)
    best_F, f = problem.objective_and_scores(theta)
    best_theta, best_f = theta, f
    total_iter = 0
    mu = 0.1 * scale
    jump_total = float(problem.a @ np.sum(ramps[3], axis=1))
    lam_min = float(problem.lam2.min()) if problem.lam2.size and problem.lam2.min() > 0 else 1e-12
    name = "smoothing_newton" if newton else "smoothing_lbfgs_b"
    while True:
        spl = pl.with_mu(mu)
        # gradient level at which F_μ(θ) − min F_μ ≤ ‖g‖²/(2λmin) is below tol/2
        stage_tol = max(min(tol, float(np.sqrt(tol * lam_min / problem.size))), 1e-13)
        if newton:
            theta, n_it, stage_opt, f = _newton_smoothed(
                problem,
                spl,
                theta,
                ramps,
                gtol=stage_tol,
                max_iter=max(max_iter - total_iter, 1),
                monitor=monitor,
                f=f,
            )
            F = problem.objective_from_scores(theta, f)
        else:
            sp = replace(problem, loss=spl)
            out = minimize_smooth(
                sp.smooth_value_grad,
                theta,
                problem.lam1,
                tol=stage_tol,
                max_iter=max(max_iter - total_iter, 1),
                monitor=monitor,
                solver_name=name,
            )
            theta, n_it, stage_opt = out.theta, out.n_iter, out.optimality
            F, f = problem.objective_and_scores(theta)
        total_iter += n_it
        if best_F > F:
            best_theta, best_F, best_f = theta, F, f
        crossed = _crossover(problem, spl, theta, tol, ramps, f) if newton else None
        if crossed is not None:
            th, resid, f_x = crossed
            F_x = problem.objective_from_scores(th, f_x)
            if best_F * (1 + 1e-12) + 1e-300 >= F_x:
                monitor.record(F_x, resid)
                problem.remember(th, F_x - problem.penalty(th), None, f_x)
                return SolverOutput(th, total_iter, True, "tolerance", resid, name + "_crossover")
        # F(θ) − min F ≤ μ·Σᵢaᵢ·ΣⱼΔᵢⱼ/8 + (suboptimality of θ for the smoothed problem)
        bound = mu * jump_total / 8
        # F(θ) − F* ≤ bound + (F_μ(θ) − min F_μ) since F ≤ F_μ ≤ F + bound
        last_opt = bound + problem.size * stage_opt**2 / (2 * lam_min)
        # the reported objective and the training metrics reuse the scores of best_theta
        problem.remember(best_theta, best_F - problem.penalty(best_theta), None, best_f)
        if monitor.timed_out:
            return SolverOutput(best_theta, total_iter, False, "time_limit", last_opt, name)
        if total_iter >= max_iter:
            return SolverOutput(best_theta, total_iter, False, "max_iter", last_opt, name)
        if bound <= 0.5 * tol:
            ok = last_opt <= tol
            reason = "tolerance" if ok else "no_progress"
            return SolverOutput(best_theta, total_iter, ok, reason, last_opt, name)
        mu /= 10.0
