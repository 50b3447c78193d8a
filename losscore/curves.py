"""Loss and derivative curves over a grid: the data behind "L1 vs L2 vs smooth L1" plots.

The x axis depends on the loss kind:

* regression: the residual r = f − y (prediction x, target 0);
* binary margin losses: the margin z = y·f (prediction x, label +1);
* ``binary_cross_entropy``: the predicted probability p of the positive class (target 1);
* multiclass: the margin of the true class over one other class, f_y − f_j, with k = 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from losscore._arrays import FloatArray
from losscore.errors import InvalidParameterError
from losscore.evaluate import evaluate
from losscore.losses import Loss, get_loss

__all__ = ["MAX_CURVE_POINTS", "Curve", "loss_curve"]

MAX_CURVE_POINTS = 100_000


@dataclass(frozen=True)
class Curve:
    loss: str
    params: dict[str, float]
    x_label: str
    x: FloatArray
    value: FloatArray
    gradient: FloatArray


def loss_curve(
    loss: str | Loss, *, start: float = -3.0, stop: float = 3.0, num: int = 201, **params: Any
) -> Curve:
    """ℓ(x) and dℓ/dx on ``np.linspace(start, stop, num)`` (see the module docstring for x)."""
    loss_obj = get_loss(loss)
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise InvalidParameterError("start" if not np.isfinite(start) else "stop", "must be finite")
    if start >= stop:
        raise InvalidParameterError("stop", f"must be greater than start ({start!r}), got {stop!r}")
    if isinstance(num, bool) or not isinstance(num, int) or not 2 <= num <= MAX_CURVE_POINTS:
        raise InvalidParameterError(
            "num", f"must be an integer in [2, {MAX_CURVE_POINTS}], got {num!r}"
        )
    x = np.linspace(start, stop, num)
    if loss_obj.kind == "regression":
        result = evaluate(loss_obj, x, np.zeros_like(x), reduction="none", **params)
        return Curve(
            loss_obj.name, result.params, "residual f - y", x, result.elementwise, result.gradient
        )
    if loss_obj.kind == "binary":
        if loss_obj.name == "binary_cross_entropy":
            if start < 0.0 or stop > 1.0:
                raise InvalidParameterError(
                    "start" if start < 0.0 else "stop",
                    "for binary_cross_entropy x is a probability: "
                    "start and stop must lie in [0, 1]",
                )
            result = evaluate(loss_obj, x, np.ones_like(x), reduction="none", **params)
            return Curve(
                loss_obj.name,
                result.params,
                "probability p (target 1)",
                x,
                result.elementwise,
                result.gradient,
            )
        result = evaluate(loss_obj, x, np.ones_like(x), reduction="none", **params)
        return Curve(
            loss_obj.name, result.params, "margin z = y f", x, result.elementwise, result.gradient
        )
    scores = np.stack([x, np.zeros_like(x)], axis=1)
    result = evaluate(loss_obj, scores, np.zeros(num, dtype=np.intp), reduction="none", **params)
    return Curve(
        loss_obj.name,
        result.params,
        "margin f_y - f_other (k = 2)",
        x,
        result.elementwise,
        np.ascontiguousarray(result.gradient[:, 0]),
    )
