"""Validation of the fit options: task, loss, penalty and stopping parameters (private)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from losscore.errors import InvalidParameterError
from losscore.losses import Loss, get_loss

__all__ = ["CLASSIFICATION_LOSSES", "REGRESSION_LOSSES", "Options", "resolve_options"]

CLASSIFICATION_LOSSES = (
    "hinge",
    "squared_hinge",
    "log_loss",
    "modified_huber",
    "perceptron",
    "exponential",
    "softmax_cross_entropy",
)
REGRESSION_LOSSES = (
    "l2",
    "l1",
    "huber",
    "smooth_l1",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
    "quantile",
    "log_cosh",
)
PENALTIES = ("none", "l2", "l1", "elastic_net")


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


def resolve_options(
    *,
    task: str,
    loss: str,
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
    loss_obj = get_loss(loss)
    allowed = CLASSIFICATION_LOSSES if task == "classification" else REGRESSION_LOSSES
    if loss_obj.name not in allowed:
        other = (
            "regression"
            if loss_obj.name in REGRESSION_LOSSES
            else ("classification" if loss_obj.name in CLASSIFICATION_LOSSES else None)
        )
        hint = f"it is a {other} loss; " if other else "it cannot be trained; "
        raise InvalidParameterError(
            "loss.name",
            f"{loss_obj.name!r} is not available for task {task!r}: {hint}choose one of {', '.join(allowed)}",
        )
    params = loss_obj.spec.resolve(dict(loss_params or {}))
    if penalty not in PENALTIES:
        raise InvalidParameterError(
            "penalty.name", f"must be one of {', '.join(PENALTIES)}, got {penalty!r}"
        )
    a = _number("penalty.alpha", alpha, low=0.0)
    ratio = _number("penalty.l1_ratio", l1_ratio, low=0.0, high=1.0)
    if penalty == "none":
        a, ratio = 0.0, 0.0
    elif penalty == "l2":
        ratio = 0.0
    elif penalty == "l1":
        ratio = 1.0
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
        penalty,
        a,
        ratio,
        bool(fit_intercept),
        bool(standardize),
        max_iter,
        t,
        limit,
    )
