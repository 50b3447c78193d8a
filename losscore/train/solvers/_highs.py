"""Linear programs through HiGHS that stop when the fit is cancelled.

``scipy.optimize.linprog(method="highs")`` runs HiGHS to the end (or to its time limit): a fit
whose client went away would hold its worker for up to the fit's time limit. Here the same
HiGHS (scipy's build of it) runs its dual simplex in time slices of ``SLICE_S``, each resuming
from the basis the previous one left; between slices the fit's :class:`Monitor` is asked
whether the fit was cancelled (or is out of time). HiGHS runs without the GIL, and nothing
calls back into Python while it pivots.

The solver object is scipy's private ``scipy.optimize._highspy._core`` (scipy ≥ 1.15); where
it is missing, :func:`run_highs` falls back to ``linprog``, which stops at the time limit
only. Either way the result has ``linprog``'s fields: ``x`` (``None`` without a solution),
``fun``, ``status`` (0 optimal, 1 iteration or time limit or interrupted, 2 otherwise) and
``nit`` (simplex plus interior-point iterations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse
from numpy.typing import NDArray

from losscore._arrays import FloatArray

from ._monitor import Monitor

# Whether scipy's pybind11 build of HiGHS (private, hence the fallback below) can run in
# slices; found at the first LP, as importing scipy.optimize costs ~0.6 s that every service
# worker would otherwise pay at start-up before /healthz answers (issue 16).
_SLICEABLE: bool | None = None


def _highs_core() -> Any:
    from scipy.optimize._highspy import _core

    return _core


def _sliceable() -> bool:
    global _SLICEABLE
    if _SLICEABLE is None:
        try:
            core = _highs_core()
            _SLICEABLE = hasattr(core, "_Highs") and hasattr(core._Highs, "getRunTime")
        except ImportError:  # pragma: no cover - scipy < 1.15 (or a future rename)
            _SLICEABLE = False
    return _SLICEABLE


__all__ = ["Lp", "LpResult", "run_highs"]


class LpResult(NamedTuple):
    x: NDArray[np.float64] | None
    fun: float
    status: int
    nit: int


@dataclass(frozen=True)
class Lp:
    """min cost·x subject to row_lower ≤ A x ≤ row_upper, col_lower ≤ x ≤ col_upper
    (infinite bounds are ±inf)."""

    cost: FloatArray
    A: scipy.sparse.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray


SLICE_S = 1.0  # HiGHS runs in slices this long; the cancel flag is read between them


def run_highs(lp: Lp, max_iter: int, monitor: Monitor) -> LpResult:
    """Solve *lp* with HiGHS's dual simplex at 1e-10 feasibility tolerances, within the fit's
    remaining time and at most ``max(max_iter, 10,000, 2·(rows + columns))`` iterations,
    stopping within a slice (``SLICE_S``) once the fit is cancelled."""
    # a simplex iteration is a pivot: an LP needs of the order of its rows plus columns of
    # them (an l1 regression of 20,000 rows took 20,690), so max_iter, sized for the
    # gradient methods, only raises the limit (at 10,000 that fit stopped at 4.7× its optimum)
    n_rows, n_cols = lp.A.shape
    limit = max(max_iter, 10_000, 2 * (n_rows + n_cols))
    options: dict[str, Any] = {
        "primal_feasibility_tolerance": 1e-10,
        "dual_feasibility_tolerance": 1e-10,
        "simplex_iteration_limit": limit,
    }
    remaining = None
    if monitor.time_limit_s is not None:
        remaining = max(monitor.time_limit_s - monitor.elapsed(), 1e-3)
    if _sliceable():
        return _solve_in_slices(lp, options, remaining, monitor)
    if remaining is not None:
        options["time_limit"] = remaining
    return _solve_linprog(lp, options)


def _solve_in_slices(
    lp: Lp, options: dict[str, Any], remaining: float | None, monitor: Monitor
) -> LpResult:
    """HiGHS in time slices, each resuming from the basis the last one left (measured with
    0.5 s slices: the same optimum, 0-12 % more time), so that a cancelled fit stops within a
    slice without a per-iteration Python callback (which needs the GIL: under a busy thread
    such a callback made a 1.2 s LP take 21 s)."""
    _highs = _highs_core()
    solver = _highs._Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("solver", "simplex")  # resumable from its basis (the IPM is not)
    # without presolve a slice ends on a basis of the LP itself, which the next resumes from;
    # a presolved one was lost (an l1 regression restarted every slice and never finished);
    # these LPs presolve to about their own size (measured: the same time with it off)
    solver.setOptionValue("presolve", "off")
    for key, value in options.items():
        solver.setOptionValue(key, value)
    solver.passModel(_highs_lp(lp))
    deadline = None if remaining is None else solver.getRunTime() + remaining
    iterations, slice_s = 0, SLICE_S
    while True:
        end = solver.getRunTime() + slice_s
        solver.setOptionValue("time_limit", end if deadline is None else min(end, deadline))
        solver.run()
        done = int(solver.getInfo().simplex_iteration_count)
        iterations += done
        status = solver.getModelStatus()
        sliced = status == _highs.HighsModelStatus.kTimeLimit and (
            deadline is None or solver.getRunTime() < deadline
        )
        if not sliced or monitor.out_of_time():
            break
        if done == 0:  # a slice spent before the first pivot (presolve, crash): widen it
            slice_s *= 2
    if status == _highs.HighsModelStatus.kOptimal:
        x = np.asarray(solver.getSolution().col_value, dtype=np.float64)
        return LpResult(x, float(solver.getInfo().objective_function_value), 0, iterations)
    limits = {_highs.HighsModelStatus.kTimeLimit, _highs.HighsModelStatus.kIterationLimit}
    return LpResult(None, float("nan"), 1 if status in limits else 2, iterations)


def _highs_lp(lp: Lp) -> Any:
    n_rows, n_cols = lp.A.shape
    _highs = _highs_core()
    model = _highs.HighsLp()
    model.num_col_ = n_cols
    model.num_row_ = n_rows
    model.col_cost_ = _f64(lp.cost)
    model.col_lower_ = _f64(lp.col_lower)
    model.col_upper_ = _f64(lp.col_upper)
    model.row_lower_ = _f64(lp.row_lower)
    model.row_upper_ = _f64(lp.row_upper)
    matrix = model.a_matrix_
    matrix.num_col_ = n_cols
    matrix.num_row_ = n_rows
    matrix.format_ = _highs.MatrixFormat.kColwise
    matrix.start_ = lp.A.indptr
    matrix.index_ = lp.A.indices
    matrix.value_ = _f64(lp.A.data)
    return model


def _f64(values: FloatArray) -> NDArray[np.float64]:
    return np.ascontiguousarray(values, dtype=np.float64)


def _solve_linprog(lp: Lp, options: dict[str, Any]) -> LpResult:
    """``linprog``'s HiGHS (time limit, no interruption) for scipy without the callbacks."""
    bounds = np.column_stack([lp.col_lower, lp.col_upper])
    eq = lp.row_lower == lp.row_upper
    A = lp.A.tocsr()
    upper_only = ~eq & np.isinf(lp.row_lower)
    from scipy.optimize import linprog

    res = linprog(
        lp.cost,
        A_ub=A[upper_only] if upper_only.any() else None,
        b_ub=lp.row_upper[upper_only] if upper_only.any() else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=lp.row_upper[eq] if eq.any() else None,
        bounds=bounds,
        method="highs",
        options={
            "maxiter": options["simplex_iteration_limit"],
            "primal_feasibility_tolerance": options["primal_feasibility_tolerance"],
            "dual_feasibility_tolerance": options["dual_feasibility_tolerance"],
            **({"time_limit": options["time_limit"]} if "time_limit" in options else {}),
        },
    )
    x = None if res.x is None else np.asarray(res.x, dtype=np.float64)
    fun = float(res.fun) if x is not None else float("nan")
    return LpResult(x, fun, min(int(res.status), 2), int(res.nit or 0))
