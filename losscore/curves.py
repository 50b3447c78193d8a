"""Loss, first and second derivative curves over a grid: the data behind "L1 vs L2 vs smooth L1" plots.

The x axis depends on what the loss's target is (``spec.target``):

* real values (regression): the residual r = f − y (prediction x, target 0);
* binary labels (margin losses): the margin z = y·f (prediction x, label +1);
* probabilities (``binary_cross_entropy``): the predicted probability p of the positive
  class (target 1);
* classes (multiclass): the margin of the true class over one other class, f_y − f_j, k = 2.

A curve also lists the loss's kinks on [start, stop] (:meth:`losscore.Loss.kinks`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscore._arrays import FloatArray
from losscore.errors import InvalidParameterError
from losscore.evaluate import evaluate
from losscore.losses import Loss, get_loss
from losscore.spec import TargetKind

__all__ = ["MAX_CURVE_POINTS", "Curve", "loss_curve"]

MAX_CURVE_POINTS = 100_000
X_LABELS: dict[TargetKind, str] = {
    "real": "residual f - y",
    "binary_label": "margin z = y f",
    "probability": "probability p (target 1)",
    "class": "margin f_y - f_other (k = 2)",
}


@dataclass(frozen=True)
class Curve:
    loss: str
    params: dict[str, float]
    x_label: str
    x: FloatArray
    value: FloatArray
    gradient: FloatArray
    hessian: FloatArray  # d²ℓ/dx², with the loss's own convention at its kinks
    kinks: list[tuple[float, int]]  # (x, order) of the kinks on the grid's range


def _finite_real(field: str, value: object) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(field, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidParameterError(field, "must be finite")
    return float(value)


def _point_count(value: object) -> int:
    count = None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        count = int(value)
    if count is None or not 2 <= count <= MAX_CURVE_POINTS:
        raise InvalidParameterError(
            "num", f"must be an integer in [2, {MAX_CURVE_POINTS}], got {value!r}"
        )
    return count


def _grid(start: float, stop: float, num: int) -> FloatArray:
    """``np.linspace(start, stop, num)``; where stop − start exceeds the float range (linspace
    gives NaN there) the same grid as (1 − t)·start + t·stop, exact at both ends."""
    if math.isfinite(stop - start):
        return np.linspace(start, stop, num)
    t = np.linspace(0.0, 1.0, num)
    x: FloatArray = (1.0 - t) * start + t * stop
    x[0], x[-1] = start, stop
    return x


def loss_curve(
    loss: str | Loss, *, start: float = -3.0, stop: float = 3.0, num: int = 201, **params: Any
) -> Curve:
    """ℓ(x), dℓ/dx and d²ℓ/dx² on ``np.linspace(start, stop, num)`` (see the module docstring
    for x; for multiclass losses the second derivative is the Hessian's diagonal entry of the
    true class's score, the other score held fixed)."""
    loss_obj = get_loss(loss)
    start, stop = _finite_real("start", start), _finite_real("stop", stop)
    if start >= stop:
        raise InvalidParameterError("stop", f"must be greater than start ({start!r}), got {stop!r}")
    num = _point_count(num)
    x = _grid(start, stop, num)
    kind = loss_obj.spec.target
    if kind == "probability" and (start < 0.0 or stop > 1.0):
        raise InvalidParameterError(
            "start" if start < 0.0 else "stop",
            f"for {loss_obj.name} x is a probability: start and stop must lie in [0, 1]",
        )
    if kind == "class":
        scores = np.stack([x, np.zeros_like(x)], axis=1)
        result = evaluate(
            loss_obj,
            scores,
            np.zeros(num, dtype=np.intp),
            reduction="none",
            hessian=True,
            **params,
        )
        gradient = np.ascontiguousarray(result.gradient[:, 0])
        assert result.hessian is not None
        hessian = np.ascontiguousarray(result.hessian[:, 0])
    else:
        target = np.zeros_like(x) if kind == "real" else np.ones_like(x)
        result = evaluate(loss_obj, x, target, reduction="none", hessian=True, **params)
        gradient = result.gradient
        assert result.hessian is not None
        hessian = result.hessian
    kinks = [(at, order) for at, order in loss_obj.kinks(result.params) if start <= at <= stop]
    return Curve(
        loss_obj.name,
        result.params,
        X_LABELS[kind],
        x,
        result.elementwise,
        gradient,
        hessian,
        kinks,
    )
