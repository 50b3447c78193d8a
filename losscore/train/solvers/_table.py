"""The solver table: which method minimises F, chosen from the loss's capabilities, the
penalty and the number of rows (private; the one place where that choice is made).

The first row whose loss capability, penalty and row condition all hold is used. The
capabilities are data on the loss (:class:`~losscore.spec.TrainingSpec`,
:meth:`~losscore.Loss.piecewise_linear`); no loss is named here. "l2" means an l2 part and no
l1 part with alpha > 0, "l1" the reverse, "elastic net" both, "none" neither (alpha = 0 makes
any penalty "none").

| method                    | loss capability   | penalty        | rows        |
| ------------------------- | ----------------- | -------------- | ----------- |
| closed_form_zero          | zero_at_zero      | any            | any         |
| normal_equations          | constant_hessian  | none, l2       | any         |
| gram_coordinate_descent   | constant_hessian  | l1, elastic net| any         |
| linprog_highs             | piecewise_linear  | none, l1       | any         |
| interior_point            | piecewise_linear  | l2             | ≤ 5,000     |
| smoothing_newton          | piecewise_linear  | l2             | > 5,000     |
| smoothing_lbfgs_b         | piecewise_linear  | elastic net    | any         |
| lbfgs                     | differentiable    | any            | any         |

The interior-point method falls back to the smoothing continuation when it stalls (and is
skipped for λ below ``IPM_MIN_LAMBDA``); the continuation's stages may end in an exact
crossover (``smoothing_newton_crossover``). ``docs/TRAINING.md`` explains each method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from losscore.losses import Loss
from losscore.train._problem import Problem
from losscore.train.solvers._exact import solve_squared_error
from losscore.train.solvers._lbfgs import minimize_smooth
from losscore.train.solvers._monitor import Monitor, SolverOutput
from losscore.train.solvers._piecewise import (
    PiecewiseLinear,
    solve_continuation,
    solve_interior_point,
    solve_lp,
)

__all__ = ["IPM_MAX_ROWS", "SOLVERS", "Case", "PenaltyForm", "SolverRule", "choose_solver"]

# up to this many rows the l2-penalised piecewise-linear problems go to the interior-point
# method (10-25 iterations of O(n·d²), and it materialises its rows); above it the smoothing
# continuation's cheaper O(n·d) steps win (measured: 2-8x faster IPM at 1,000-5,000 rows,
# 1.4-3x slower at 10,000-30,000 x 20)
IPM_MAX_ROWS = 5000


class PenaltyForm(NamedTuple):
    """Which parts the effective penalty has (alpha·l1_ratio > 0, alpha·(1 − l1_ratio) > 0)."""

    l1: bool
    l2: bool


class Case(NamedTuple):
    """What the choice depends on: the loss at its parameters (and its capabilities read off
    once: piecewise linear here, a constant Hessian, zero at zero, differentiable), the
    penalty, the row count."""

    loss: Loss
    params: Mapping[str, float]
    penalty: PenaltyForm
    rows: int
    piecewise: bool
    quadratic: bool
    zero_at_zero: bool
    smooth: bool

    @classmethod
    def of(cls, loss: Loss, params: Mapping[str, float], penalty: PenaltyForm, rows: int) -> Case:
        training = loss.spec.training
        return cls(
            loss,
            params,
            penalty,
            rows,
            loss.piecewise_linear(params),
            training.constant_hessian is not None,
            training.zero_at_zero,
            loss.spec.smooth,
        )


Solve = Callable[[Problem, Case, float, int, Monitor], SolverOutput]


@dataclass(frozen=True)
class SolverRule:
    """One row of the table; ``uses_gram``: the method reads the centred Gram matrix, which the
    scaling pass then computes on the way. ``measure``: what its optimality measure bounds,
    which sets the scale of ``tol`` (:func:`losscore.train.fit`): ``gradient`` (a gradient
    ∞-norm, scaled by ‖∇F(0, 0)‖∞) or ``gap`` (a bound on F − F*, scaled by F(0, 0))."""

    method: str
    applies: Callable[[Case], bool]
    solve: Solve
    uses_gram: bool = False
    measure: str = "gap"


def _zero(problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor) -> SolverOutput:
    """ℓ ≥ 0 = ℓ(y, 0) for every label, and R ≥ 0 = R(0): F(0, 0) = 0 is the minimum."""
    theta = np.zeros(problem.size)
    mon.record(problem.objective(theta), 0.0)
    return SolverOutput(theta, 0, True, "exact", 0.0, "closed_form_zero")


def _gram(problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor) -> SolverOutput:
    return solve_squared_error(problem, tol=tol, max_iter=max_iter, monitor=mon)


def _lp(problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor) -> SolverOutput:
    return solve_lp(
        problem, PiecewiseLinear(case.loss, case.params), max_iter=max_iter, monitor=mon
    )


def _ipm(problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor) -> SolverOutput:
    pl = PiecewiseLinear(case.loss, case.params)
    return solve_interior_point(problem, pl, tol=tol, max_iter=max_iter, monitor=mon)


def _smooth_pl(
    problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor
) -> SolverOutput:
    pl = PiecewiseLinear(case.loss, case.params)
    return solve_continuation(problem, pl, tol=tol, max_iter=max_iter, monitor=mon)


def _lbfgs(problem: Problem, case: Case, tol: float, max_iter: int, mon: Monitor) -> SolverOutput:
    start = problem.warm_start
    return minimize_smooth(
        problem.smooth_value_grad,
        np.zeros(problem.size) if start is None else start.copy(),
        problem.lam1,
        tol=tol,
        max_iter=max_iter,
        monitor=mon,
    )


SOLVERS: tuple[SolverRule, ...] = (
    SolverRule("closed_form_zero", lambda c: c.zero_at_zero, _zero),
    SolverRule(
        "normal_equations",
        lambda c: c.quadratic and not c.penalty.l1,
        _gram,
        uses_gram=True,
        measure="gradient",
    ),
    SolverRule(
        "gram_coordinate_descent",
        lambda c: c.quadratic and c.penalty.l1,
        _gram,
        uses_gram=True,
        measure="gradient",
    ),
    SolverRule("linprog_highs", lambda c: c.piecewise and not c.penalty.l2, _lp),
    SolverRule(
        "interior_point",
        lambda c: c.piecewise and not c.penalty.l1 and c.rows <= IPM_MAX_ROWS,
        _ipm,
    ),
    SolverRule(
        "smoothing_newton",
        lambda c: c.piecewise and not c.penalty.l1 and c.rows > IPM_MAX_ROWS,
        _smooth_pl,
        uses_gram=True,
    ),
    SolverRule("smoothing_lbfgs_b", lambda c: c.piecewise, _smooth_pl, uses_gram=True),
    SolverRule("lbfgs", lambda c: c.smooth, _lbfgs, measure="gradient"),
)


def choose_solver(case: Case) -> SolverRule | None:
    """The first rule of :data:`SOLVERS` that applies (None: the loss cannot be trained at
    these parameters: neither differentiable nor piecewise linear)."""
    return next((rule for rule in SOLVERS if rule.applies(case)), None)
