"""The band crossover of the smoothing continuation (private): the exact optimum of a
piecewise-linear loss with an l2 penalty from a smoothed solution, when the crossover of
:mod:`._crossover` would need far smaller smoothing widths (its partition must leave at most
``2(d + 1) + 10`` terms at a kink, over all rows).

At a smoothed solution θ_μ, the rows whose ramp terms all lie farther than ``width`` from
their kinks (most rows, for a small enough μ) are *fixed*: near θ_μ each is linear in θ,
ℓᵢ(zᵢθ) = cᵢ + gfixᵢ·zᵢθ, and together they add the linear term (1/W)Σ wᵢgfixᵢz̃ᵢ·θ, one
block sum. The other rows (the *band*, at most ``BAND_ROWS``) come to the driver. The
exact problem restricted to them plus that linear term is small and in memory: it is solved
by the same continuation (on one in-memory block, passes cost microseconds) down to its own
exact crossover, or to its certified gap. One more pass checks that no fixed row's term
crossed its kink at the result. If none did:

* after an exact crossover every KKT condition of the full problem holds (the band's by its
  crossover, the fixed rows' by their side): the exact optimum;
* after a gap certificate, F(θ) − F* is bounded by the band's gap / ρ: each fixed row's loss
  is the maximum of its affine pieces, so it lies above the piece it is on everywhere, and
  the linearised problem's minimum is below F*; at θ, where every fixed row is still on
  that piece, the two objectives agree.

Else the continuation goes on with a smaller μ.

The band problem is scaled by ρ = W / W_band (its data term is normalised by its own weight
sum): ρ·F restricted to the band has the same minimiser, with ρ·λ and ρ·linear term.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.distributed._blocks import Target, band_check, band_rows, merge_band
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.distributed._source import Source
from losscore.train.solvers._highs import run_highs
from losscore.train.solvers._monitor import Monitor, SolverOutput
from losscore.train.solvers._piecewise import PiecewiseLinear, build_lp

__all__ = [
    "BAND_LP_ROWS",
    "BAND_ROWS",
    "BAND_TOL",
    "BAND_WIDTH",
    "BandSolver",
    "band_crossover",
    "band_lp",
]

BAND_ROWS = 1 << 16  # rows a band may hold (brought to the driver: ≤ 8·(d + 2)·2¹⁶ bytes)
# rows a band's linear program may hold: the dual simplex's time grows faster than the rows
# (measured at 10⁶ × 20, hinge + l1: a band of ~4·10⁴ rows took a minute)
BAND_LP_ROWS = 1 << 13
BAND_WIDTH = 10.0  # the band: terms within BAND_WIDTH·μ of their kink
# a band problem is solved to BAND_TOL of the fit's tolerance: its passes are cheap (rows on
# the driver), and its smaller smoothing widths give its exact crossover more chances
BAND_TOL = 1e-3

# solves a band problem from (θ, μ) to a tolerance; the solver output or None
BandSolver = Callable[[ChunkedProblem, FloatArray, float, float], SolverOutput | None]


@dataclass
class _Band:
    """The band read at θ (raw coefficients ``old``): its rows on the driver and the fixed
    rows' sums (Σ w·gfix·x, Σ w·gfix, Σ w·cfix; W = Σ s over every row)."""

    X: FloatArray
    t: FloatArray
    w: FloatArray
    r0: FloatArray
    r0b: float
    const: float
    W: float
    width: float
    old: tuple[FloatArray, FloatArray]

    def linear(self, problem: ChunkedProblem) -> FloatArray:
        """The fixed rows' slope term (1/W)·Σ wᵢgfixᵢz̃ᵢ in solver coordinates."""
        lin_v = (self.r0 / self.W - problem.mean * (self.r0b / self.W)) / problem.scale
        return np.concatenate([lin_v, [self.r0b / self.W]]) if problem.fit_intercept else lin_v


def _gather(
    problem: ChunkedProblem, pl: PiecewiseLinear, theta: FloatArray, limit: int = BAND_ROWS
) -> _Band | None:
    """One pass: the band at θ (terms within BAND_WIDTH·μ of a kink), None if it is empty or
    holds more than ``limit`` rows."""
    width = BAND_WIDTH * pl.mu
    old = problem.raw(theta)
    r0, r0b, const, W, count, xs, ts, ws = problem.source.run(
        band_rows, merge_band, problem.target, pl, *old, width, limit
    )
    if xs is None or not 0 < count <= limit:
        return None
    X, t, w = np.vstack(xs), np.concatenate(ts), np.concatenate(ws)
    return _Band(X, t, w, r0, float(r0b), float(const), float(W), width, old)


def _check(
    problem: ChunkedProblem, pl: PiecewiseLinear, band: _Band, theta: FloatArray
) -> float | None:
    """One pass: F(θ) if no fixed row crossed its kink at θ, else None."""
    new = problem.raw(theta)
    peak = float(np.max(np.abs(theta), initial=0.0))
    crossed, loss_sum, weight_sum = problem.source.run(
        band_check, _add3, problem.target, pl, band.old, new, band.width, 1e-9 * (1.0 + peak)
    )
    if crossed:
        return None
    return float(loss_sum / weight_sum) + problem.penalty(theta)


def band_crossover(
    problem: ChunkedProblem,
    pl: PiecewiseLinear,
    theta: FloatArray,
    tol: float,
    solve_band: BandSolver,
) -> tuple[FloatArray, float, float, str] | None:
    """(θ*, its certificate, F(θ*), method) from the band read at θ (smoothing width
    ``pl.mu``), l2 penalty: "_crossover", the KKT residual of an exact crossover; "_band", a
    bound on F(θ*) − F*. None: a band too large or empty, a band solve without a certificate, or a
    fixed row that crossed its kink."""
    if problem.k != 1 or problem.lam1.any() or not (problem.lam2 > 0).all():
        return None
    band = _gather(problem, pl, theta)
    if band is None:
        return None
    rho = band.W / float(band.w.sum())
    out = solve_band(_band_problem(problem, band), theta, pl.mu, BAND_TOL * rho * tol)
    # its certificate, a KKT residual or a gap, must meet the fit's tolerance (the band was
    # asked for less, so its own convergence flag says more than is needed)
    if out is None or not out.optimality <= rho * tol:
        return None
    F = _check(problem, pl, band, out.theta)
    if F is None:
        return None
    method = "_crossover" if out.solver.endswith("_crossover") else "_band"
    return out.theta, out.optimality / rho, F, method


def band_lp(
    problem: ChunkedProblem, pl: PiecewiseLinear, theta: FloatArray, monitor: Monitor
) -> tuple[FloatArray, float, float, str] | None:
    """(θ*, |F(θ*) − LP optimum|, F(θ*), "_band_lp") from the band read at θ, penalty none or l1:
    the band's rows and the fixed rows' linear term as one linear program (HiGHS) on the
    driver. If no fixed row crossed its kink at its solution, that is an exact optimum of the
    full problem (the linearised problem lies below F and agrees with it there). None: a band
    too large or empty, an LP without an optimum (e.g. unbounded without a penalty), or a
    fixed row that crossed."""
    if problem.k != 1 or (problem.lam2 > 0).any():
        return None
    band = _gather(problem, pl, theta, BAND_LP_ROWS)
    if band is None:
        return None
    nb = 1 if problem.fit_intercept else 0
    Z = (band.X - problem.mean) / problem.scale
    ramps = pl.ramps(band.t)
    lp, constant = build_lp(Z, band.w / band.W, ramps, problem.lam1, nb, band.linear(problem))
    res = run_highs(lp, 0, Monitor(monitor.time_left(), cancel=monitor.cancel))
    if res.x is None or res.status != 0:
        return None
    d = problem.d
    theta_lp = np.concatenate([res.x[:d] - res.x[d : 2 * d], res.x[2 * d : 2 * d + nb]])
    F = _check(problem, pl, band, theta_lp)
    if F is None:
        return None
    F_lin = float(res.fun) + constant + band.const / band.W
    return theta_lp, abs(F - F_lin), F, "_band_lp"


def _band_problem(problem: ChunkedProblem, band: _Band) -> ChunkedProblem:
    """ρ·(the full problem restricted to the band rows, the fixed rows as a linear term), on
    one in-memory block run by Dask's synchronous scheduler."""
    rho = band.W / float(band.w.sum())
    return ChunkedProblem(
        source=Source.in_memory(band.X, band.t, band.w),
        target=Target("real"),
        loss=problem.loss,
        params=problem.params,
        k=1,
        d=problem.d,
        fit_intercept=problem.fit_intercept,
        mean=problem.mean,
        scale=problem.scale,
        lam1=rho * problem.lam1,
        lam2=rho * problem.lam2,
        y_spread=problem.y_spread,
        linear=rho * band.linear(problem),
    )


def _add3(*parts: tuple[int, float, float]) -> tuple[int, float, float]:
    crossed, loss, weight = parts[0]
    for c, lo, w in parts[1:]:
        crossed, loss, weight = crossed + c, loss + lo, weight + w
    return crossed, loss, weight
