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

import numpy as np

from losscore._arrays import FloatArray
from losscore.train.distributed._blocks import Target, band_check, band_rows, merge_band
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.distributed._source import Source
from losscore.train.solvers._monitor import SolverOutput
from losscore.train.solvers._piecewise import PiecewiseLinear

__all__ = ["BAND_ROWS", "BAND_TOL", "BAND_WIDTH", "BandSolver", "band_crossover"]

BAND_ROWS = 1 << 16  # rows a band may hold (brought to the driver: ≤ 8·(d + 2)·2¹⁶ bytes)
BAND_WIDTH = 10.0  # the band: terms within BAND_WIDTH·μ of their kink
# a band problem is solved to BAND_TOL of the fit's tolerance: its passes are cheap (rows on
# the driver), and its smaller smoothing widths give its exact crossover more chances
BAND_TOL = 1e-3

# solves a band problem from (θ, μ) to a tolerance; the solver output or None
BandSolver = Callable[[ChunkedProblem, FloatArray, float, float], SolverOutput | None]


def band_crossover(
    problem: ChunkedProblem,
    pl: PiecewiseLinear,
    theta: FloatArray,
    tol: float,
    solve_band: BandSolver,
) -> tuple[FloatArray, float, float, bool] | None:
    """(θ*, its certificate, F(θ*), exact) from the band read at θ (smoothing width
    ``pl.mu``): exact, the KKT residual of an exact crossover; else a bound on F(θ*) − F*.
    None: a band too large or empty, a band solve without a certificate, or a fixed row that
    crossed its kink."""
    if problem.k != 1 or problem.lam1.any() or not (problem.lam2 > 0).all():
        return None
    width = BAND_WIDTH * pl.mu
    old = problem.raw(theta)
    r0, r0b, W, count, xs, ts, ws = problem.source.run(
        band_rows, merge_band, problem.target, pl, *old, width, BAND_ROWS
    )
    if xs is None or not 0 < count <= BAND_ROWS:
        return None
    band = _band_problem(problem, np.vstack(xs), np.concatenate(ts), np.concatenate(ws), r0, r0b, W)
    rho = W / float(np.concatenate(ws).sum())
    out = solve_band(band, theta, pl.mu, BAND_TOL * rho * tol)
    # its certificate, a KKT residual or a gap, must meet the fit's tolerance (the band was
    # asked for less, so its own convergence flag says more than is needed)
    if out is None or not out.optimality <= rho * tol:
        return None
    new = problem.raw(out.theta)
    peak = float(np.max(np.abs(np.concatenate([theta, out.theta]))))
    crossed, loss_sum, weight_sum = problem.source.run(
        band_check, _add3, problem.target, pl, old, new, width, 1e-9 * (1.0 + peak)
    )
    if crossed:
        return None
    F = loss_sum / weight_sum + problem.penalty(out.theta)
    return out.theta, out.optimality / rho, F, out.solver.endswith("_crossover")


def _band_problem(
    problem: ChunkedProblem,
    X: FloatArray,
    t: FloatArray,
    w: FloatArray,
    r0: FloatArray,
    r0b: float,
    W: float,
) -> ChunkedProblem:
    """ρ·(the full problem restricted to the band rows, the fixed rows as a linear term), on
    one in-memory block run by Dask's synchronous scheduler."""
    rho = W / float(w.sum())
    lin_v = (r0 / W - problem.mean * (r0b / W)) / problem.scale
    linear = np.concatenate([lin_v, [r0b / W]]) if problem.fit_intercept else lin_v
    return ChunkedProblem(
        source=Source.in_memory(X, t, w),
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
        linear=rho * linear,
    )


def _add3(*parts: tuple[int, float, float]) -> tuple[int, float, float]:
    crossed, loss, weight = parts[0]
    for c, lo, w in parts[1:]:
        crossed, loss, weight = crossed + c, loss + lo, weight + w
    return crossed, loss, weight
