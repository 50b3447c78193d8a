"""The solvers of a distributed fit (private): the rows of the in-memory solver table that
work from block sums, each pass one tree-reduced map over the blocks.

| method                       | loss capability          | penalty  | passes                 |
| ---------------------------- | ------------------------ | -------- | ---------------------- |
| closed_form_zero             | zero_at_zero             | any      | 0                      |
| normal_equations             | constant_hessian         | none, l2 | 1 (Gram sums)          |
| gram_coordinate_descent      | constant_hessian         | l1, enet | 1 (Gram sums)          |
| smoothing_newton(_crossover, | piecewise_linear         | any      | per stage: Newton (or  |
| _band, _band_lp)             |                          |          | L-BFGS-B) + band       |
| newton                       | differentiable, 1 score  | any      | ~1 per step            |
| lbfgs                        | differentiable, k scores | any      | 1 per step             |

The in-memory LP and interior-point methods need rows (one constraint or factor per sample),
which block sums cannot give for all rows; piecewise-linear losses are fitted by the smoothing
continuation (:mod:`._newton` stages, L-BFGS-B where Newton stalls), each stage ending in an
attempt of :mod:`._band`: with the rows far from every kink as one linear term, the few
others are solved on the driver — by the continuation and crossover for an l2 penalty (the
exact optimum, or a certified gap), by one linear program (HiGHS) for none / l1 (the exact
optimum). Until one holds, the certificate bounds F − F*: F(θ) − F* ≤ μ·Σ aᵢΣⱼΔᵢⱼ/8 +
(F_μ(θ) − min F_μ), the second term ≤ ‖∇F_μ‖²·size/(2λ2min) when the penalty has an l2 part.
Without one (none or l1) and without a band small enough for its LP no such bound exists
from block sums: the fit reports the smoothing bound with ``converged`` false, never a claim
it cannot back.
"""

from __future__ import annotations

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.distributed._band import BandSolver, band_crossover, band_lp
from losscore.train.distributed._crossover import crossover
from losscore.train.distributed._newton import proximal_newton
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.solvers._exact import GramQuadratic, solve_linear, solve_quadratic
from losscore.train.solvers._lbfgs import minimize_smooth
from losscore.train.solvers._monitor import Monitor, SolverOutput
from losscore.train.solvers._piecewise import PiecewiseLinear
from losscore.train.solvers._table import Case

__all__ = ["solve"]


def solve(
    problem: ChunkedProblem, case: Case, tol: float, max_iter: int, mon: Monitor
) -> SolverOutput:
    """Minimise F with the first method of the table above that applies (``tol`` is relative,
    as in the in-memory fit: to F(0, 0) for a gap bound, to ‖∇F(0, 0)‖∞ for a gradient)."""
    if case.zero_at_zero:
        theta = np.zeros(problem.size)
        mon.record(0.0, 0.0)
        return SolverOutput(theta, 0, True, "exact", 0.0, "closed_form_zero")
    if case.quadratic:
        return _quadratic(problem, case, tol, max_iter, mon)
    if case.piecewise:
        jumps, at_zero = problem.jump_total(PiecewiseLinear(case.loss, case.params))
        return _continuation(problem, case, tol * max(1.0, at_zero), max_iter, mon, jumps=jumps)
    zero = np.zeros(problem.size)
    # ‖∇F(0, 0)‖∞ sets the tolerance's scale; with one score per sample the first Newton pass
    # gives it (and Newton reuses that pass), else the first L-BFGS evaluation does
    first = problem.newton_terms if problem.k == 1 else problem.smooth_value_grad
    grad0 = first(zero)[1]
    scaled = tol * max(1.0, float(np.max(np.abs(grad0), initial=0.0)))
    return _newton_then_lbfgs(problem, zero, scaled, max_iter, mon, "")


def _newton_then_lbfgs(
    problem: ChunkedProblem,
    theta: FloatArray,
    tol: float,
    max_iter: int,
    mon: Monitor,
    name: str,
) -> SolverOutput:
    """Proximal Newton (few passes) when the problem has one score per sample; L-BFGS-B (one
    pass per step) otherwise, and from wherever Newton stalls (a Hessian without curvature
    along some direction: a smoothed loss flat on every row of a direction, no l2 part)."""
    done = 0
    if problem.k == 1:
        out = proximal_newton(
            problem, theta, tol=tol, max_iter=max_iter, monitor=mon, solver_name=name or "newton"
        )
        if out.converged or mon.timed_out or out.n_iter >= max_iter:
            return out
        theta, done = out.theta, out.n_iter
    out = minimize_smooth(
        problem.smooth_value_grad,
        theta,
        problem.lam1,
        tol=tol,
        max_iter=max(max_iter - done, 1),
        monitor=mon,
        solver_name=name or ("newton_lbfgs" if done else "lbfgs"),
    )
    out.n_iter += done
    return out


def _quadratic(
    problem: ChunkedProblem, case: Case, tol: float, max_iter: int, mon: Monitor
) -> SolverOutput:
    """ℓ = h/2·(f − y)²: the Gram sums in one pass, then the in-memory exact solvers."""
    H, q, c = problem.gram()
    quad = GramQuadratic.of_sums(H, q, c, problem.lam2, case.loss.spec.training.constant_hessian)
    # tol relative to ‖∇F(0, 0)‖∞ = ‖2q‖∞ in the quadratic's units (as the in-memory fit)
    g0 = 2.0 * float(np.max(np.abs(quad.q), initial=0.0))
    return solve_quadratic(
        quad, problem.lam1, tol=tol * max(1.0, g0), max_iter=max_iter, monitor=mon
    )


def _warm_start(problem: ChunkedProblem) -> FloatArray:
    """Ridge on the targets (same λ2) from one Gram pass when there is an l2 part; else 0.
    A start only: the Gram sums of the Newton Hessians' row sample serve."""
    if not (problem.lam2 > 0).all() or problem.k != 1:
        return np.zeros(problem.size)
    H, q, c = problem.gram(problem.hessian_stride)
    quad = GramQuadratic.of_sums(H, q, c, problem.lam2, None)
    return solve_linear(quad.penalised(), quad.q)


def _spread(problem: ChunkedProblem, pl: PiecewiseLinear, y_spread: float) -> float:
    """The first smoothing width's unit (as the in-memory continuation): the largest |κ| for
    ±1 labels, the weighted spread of the targets otherwise."""
    if pl.labels:
        kinks = pl.ramps(np.array([-1.0, 1.0])).kinks
        return max(float(np.max(np.abs(kinks))) if kinks.size else 0.0, 1e-3)
    return y_spread if y_spread > 0 else 1.0


def _stage_tol(tol: float, bound: float, lam_min: float, size: int) -> float:
    """The gradient level a smoothing stage is solved to. The last stage (bound ≤ tol/2) needs
    F_μ(θ) − min F_μ ≤ ‖g‖²·size/(2λmin) below tol/2; earlier stages only a start for the next,
    as good as that stage's smoothing error (the same formula with the bound for tol)."""
    final = bound <= 0.5 * tol
    if lam_min <= 0:  # no l2 part: no such bound; the gradient level alone
        return tol if final else max(tol, bound)
    level = tol if final else max(tol, bound)
    return (
        max(min(tol, float(np.sqrt(level * lam_min / size))), 1e-13)
        if final
        else max(float(np.sqrt(level * lam_min / size)), 1e-13)
    )


def _continuation(
    problem: ChunkedProblem,
    case: Case,
    tol: float,
    max_iter: int,
    mon: Monitor,
    start: tuple[FloatArray, float] | None = None,
    jumps: float | None = None,
) -> SolverOutput:
    """Smoothing stages μ, μ/10, … from ``start`` = (θ, μ) (default: the ridge warm start and
    a tenth of the targets' spread), each ending in an exact crossover attempt: the band
    crossover of :mod:`._band` for the problem over the data, the crossover of
    :mod:`._crossover` for a band problem (``start`` given: its rows are on the driver).
    ``jumps``: Σ aᵢ Σⱼ Δᵢⱼ when the caller has it (one pass less)."""
    pl = PiecewiseLinear(case.loss, case.params)
    name = "smoothing_newton"
    jump_total = problem.jump_total(pl)[0] if jumps is None else jumps
    strong = bool(problem.lam2.size) and float(problem.lam2.min()) > 0
    lam_min = float(problem.lam2.min()) if strong else 0.0
    if start is None:
        theta, mu = _warm_start(problem), 0.1 * _spread(problem, pl, problem.y_spread)
    else:
        theta, mu = start
    best_theta, best_F = theta, problem.objective(theta)
    total_iter = 0

    def solve_band(band: ChunkedProblem, th: FloatArray, m: float, t: float) -> SolverOutput:
        left = None if mon.time_limit_s is None else mon.time_limit_s - mon.elapsed()
        band_mon = Monitor(left, cancel=mon.cancel)  # its objective is ρ·F: not reported
        return _continuation(band, case, t, max_iter, band_mon, start=(th, m))

    while True:
        smoothed = problem.with_loss(pl.with_mu(mu))
        bound = mu * jump_total / 8
        out = _newton_then_lbfgs(
            smoothed,
            theta,
            _stage_tol(tol, bound, lam_min, problem.size),
            max(max_iter - total_iter, 1),
            mon,
            name,
        )
        theta, total_iter = out.theta, total_iter + out.n_iter
        if problem.k == 1:  # the exact optimum (or a certified one) from this stage?
            crossed = _exact_point(
                problem, pl.with_mu(mu), theta, tol, mon, start is not None, solve_band
            )
            if crossed is not None and crossed[2] <= best_F * (1 + 1e-12) + 1e-300:
                th, certificate, F_x, suffix = crossed
                mon.record(F_x, certificate)
                return SolverOutput(th, total_iter, True, "tolerance", certificate, name + suffix)
        F = problem.objective(theta)
        if best_F > F:
            best_theta, best_F = theta, F
        gap = bound + problem.size * out.optimality**2 / (2 * lam_min) if strong else float("inf")
        # the certificate: F − F* ≤ gap with an l2 part; without one only the smoothing part
        # of it is known (reported, never as converged)
        certified = gap if strong else bound
        if mon.timed_out:
            return SolverOutput(best_theta, total_iter, False, "time_limit", certified, name)
        if total_iter >= max_iter:
            return SolverOutput(best_theta, total_iter, False, "max_iter", certified, name)
        if bound <= 0.5 * tol:
            ok = strong and gap <= tol
            reason = "tolerance" if ok else "no_progress"
            return SolverOutput(best_theta, total_iter, ok, reason, certified, name)
        mu /= 10.0


def _exact_point(
    problem: ChunkedProblem,
    pl: PiecewiseLinear,
    theta: FloatArray,
    tol: float,
    mon: Monitor,
    in_band: bool,
    solve_band: BandSolver,
) -> tuple[FloatArray, float, float, str] | None:
    """(θ*, certificate, F(θ*), method suffix) from a stage's solution: the crossover of a
    band problem's few rows; over the data, the band crossover (l2) or the band's linear
    program (none, l1); None if it does not hold."""
    if in_band:
        found = crossover(problem, pl, theta, tol)
        return None if found is None else (*found, "_crossover")
    if not (problem.lam2 > 0).any():
        return band_lp(problem, pl, theta, mon)
    return band_crossover(problem, pl, theta, tol, solve_band)
