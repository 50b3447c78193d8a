"""Validation of the fit options: task, loss, penalty and stopping parameters (private).

Which losses train which task comes from the catalog (``spec.training.tasks``); the
penalties are the catalog :data:`PENALTIES` below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from losscore.errors import InvalidParameterError, UnknownNameError
from losscore.losses import Loss, get_loss, list_losses
from losscore.spec import Interval, ParamSpec, PenaltySpec

__all__ = ["PENALTIES", "Options", "get_penalty", "list_penalties", "resolve_options"]

_ALPHA = ParamSpec(
    "alpha", 1e-4, Interval(0.0, None), "Strength of the penalty: F = mean loss + alpha·R(w)."
)
_L1_RATIO = ParamSpec(
    "l1_ratio", 0.5, Interval(0.0, 1.0), "Mix of the two norms: 1 is l1, 0 is l2."
)

PENALTIES: tuple[PenaltySpec, ...] = (
    PenaltySpec(name="none", title="No penalty", params=(), formula=r"R(w) = 0", l1_ratio=0.0),
    PenaltySpec(
        name="l2",
        aliases=("ridge",),
        title="Squared l2 (ridge)",
        params=(_ALPHA,),
        formula=r"R(w) = \tfrac{1}{2}\|w\|_2^2",
        l1_ratio=0.0,
    ),
    PenaltySpec(
        name="l1",
        aliases=("lasso",),
        title="l1 (lasso)",
        params=(_ALPHA,),
        formula=r"R(w) = \|w\|_1",
        l1_ratio=1.0,
    ),
    PenaltySpec(
        name="elastic_net",
        aliases=("elasticnet",),
        title="Elastic net",
        params=(_ALPHA, _L1_RATIO),
        formula=r"R(w) = \rho\|w\|_1 + \tfrac{1 - \rho}{2}\|w\|_2^2,\quad \rho = \text{l1\_ratio}",
        l1_ratio=None,
    ),
)

_PENALTY_NAMES = {key: spec for spec in PENALTIES for key in (spec.name, *spec.aliases)}


def list_penalties() -> list[PenaltySpec]:
    """Every training penalty, in catalog order."""
    return list(PENALTIES)


def get_penalty(name: str, *, field: str = "penalty.name") -> PenaltySpec:
    """The penalty named *name* (or an alias; case-insensitive, surrounding spaces ignored)."""
    spec = _PENALTY_NAMES.get(name.strip().lower()) if isinstance(name, str) else None
    if spec is None:
        raise UnknownNameError(field, str(name), tuple(s.name for s in PENALTIES))
    return spec


@dataclass(frozen=True)
class Options:
    task: str
    loss: Loss
    loss_params: dict[str, float]
    penalty: str
    alpha: float
    l1_ratio: float  # effective: 0 for l2, 1 for l1, given for elastic_net, 0 for none
    fit_intercept: bool
    standardize: bool
    max_iter: int
    tol: float
    time_limit_s: float | None


def _number(
    field: str, value: Any, *, low: float, low_open: bool = False, high: float = math.inf
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(field, f"must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < low or (low_open and v == low) or v > high:
        bound = f"{'>' if low_open else '>='} {low:g}" + (
            f" and <= {high:g}" if high < math.inf else ""
        )
        raise InvalidParameterError(field, f"must be finite and {bound}, got {value!r}")
    return v


def trainable_losses(task: str) -> list[str]:
    """Canonical names of the catalog's losses that train *task*."""
    return [s.name for s in list_losses() if task in s.training.tasks]


def _resolve_loss(task: str, loss: str | Loss, loss_params: Mapping[str, Any] | None) -> Loss:
    loss_obj = get_loss(loss)
    tasks = loss_obj.spec.training.tasks
    if task not in tasks:
        hint = f"it is a {' and '.join(tasks)} loss; " if tasks else "it cannot be trained; "
        raise InvalidParameterError(
            "loss.name",
            f"{loss_obj.name!r} is not available for task {task!r}: {hint}"
            f"choose one of {', '.join(trainable_losses(task))}",
        )
    return loss_obj


def _resolve_penalty(penalty: str, alpha: Any, l1_ratio: Any) -> tuple[PenaltySpec, float, float]:
    """(spec, effective alpha, effective l1_ratio) of the elastic-net form of the penalty."""
    spec = get_penalty(penalty)
    a = _number("penalty.alpha", alpha, low=0.0)
    ratio = _number("penalty.l1_ratio", l1_ratio, low=0.0, high=1.0)
    if not spec.params:
        return spec, 0.0, 0.0
    return spec, a, ratio if spec.l1_ratio is None else spec.l1_ratio


def resolve_options(
    *,
    task: str,
    loss: str | Loss,
    loss_params: Mapping[str, Any] | None,
    penalty: str,
    alpha: float,
    l1_ratio: float,
    fit_intercept: bool,
    standardize: bool,
    max_iter: int,
    tol: float,
    time_limit_s: float | None,
) -> Options:
    if task not in ("classification", "regression"):
        raise InvalidParameterError(
            "task", f"must be 'classification' or 'regression', got {task!r}"
        )
    loss_obj = _resolve_loss(task, loss, loss_params)
    params = loss_obj.spec.resolve(dict(loss_params or {}))
    if not (loss_obj.spec.smooth or loss_obj.piecewise_linear(params)):
        raise InvalidParameterError(
            "loss",
            f"{loss_obj.name!r} with {params} is neither differentiable nor piecewise linear: "
            "no solver applies",
        )
    pen, a, ratio = _resolve_penalty(penalty, alpha, l1_ratio)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise InvalidParameterError("max_iter", f"must be an integer >= 1, got {max_iter!r}")
    t = _number("tol", tol, low=0.0, low_open=True)
    limit = (
        None
        if time_limit_s is None
        else _number("time_limit_s", time_limit_s, low=0.0, low_open=True)
    )
    return Options(
        task,
        loss_obj,
        params,
        pen.name,
        a,
        ratio,
        bool(fit_intercept),
        bool(standardize),
        max_iter,
        t,
        limit,
    )
