"""LightGBM 4 adapters: a catalog loss as ``params={"objective": ...}`` /
``LGBMRegressor(objective=...)`` and as ``feval`` / ``eval_metric``.

LightGBM hands a custom objective the raw scores (init score included) and the training
``Dataset`` (native), or ``(y_true, y_pred, weight)`` (scikit-learn API, three arguments); it
does not apply sample weights to a custom objective's output, so they are applied here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.integrations._boosting import Api, BoostingObjective, booster_arrays, check_api
from losscore.integrations._optional import require

__all__ = ["LightGBMData", "lightgbm_metric_for", "lightgbm_objective_for"]


class LightGBMData(Protocol):
    """What the adapters read from a constructed ``lightgbm.Dataset``."""

    def get_label(self) -> Any: ...

    def get_weight(self) -> Any: ...


def _grad_hess(
    objective: BoostingObjective, preds: NDArray[Any], labels: Any, weights: Any
) -> tuple[FloatArray, FloatArray]:
    f, y, w = booster_arrays(preds, labels, weights)
    g, h = objective.gradient_hessian(f, y, w)
    return g.reshape(np.shape(preds)), h.reshape(np.shape(preds))


def lightgbm_objective_for(objective: BoostingObjective, api: Api) -> Callable[..., Any]:
    """The callable LightGBM expects for *objective* (see ``lightgbm_objective``)."""
    check_api(api)
    require("lightgbm")
    if api == "sklearn":

        def sklearn_objective(
            y_true: NDArray[Any], y_pred: NDArray[Any], weight: Any
        ) -> tuple[FloatArray, FloatArray]:
            return _grad_hess(objective, y_pred, y_true, weight)

        return sklearn_objective

    def native_objective(
        preds: NDArray[Any], train_data: LightGBMData
    ) -> tuple[FloatArray, FloatArray]:
        return _grad_hess(objective, preds, train_data.get_label(), train_data.get_weight())

    return native_objective


def lightgbm_metric_for(objective: BoostingObjective, api: Api) -> Callable[..., Any]:
    """The weighted mean loss as LightGBM's ``feval`` (native: ``(preds, eval_data)``) or
    ``eval_metric`` (sklearn: ``(y_true, y_pred, weight)``); both return
    ``(name, value, False)`` (lower is better)."""
    check_api(api)
    require("lightgbm")
    name = objective.name
    if api == "sklearn":

        def sklearn_metric(
            y_true: NDArray[Any], y_pred: NDArray[Any], weight: Any
        ) -> tuple[str, float, bool]:
            f, y, w = booster_arrays(y_pred, y_true, weight)
            return name, objective.value(f, y, w), False

        return sklearn_metric

    def native_metric(preds: NDArray[Any], eval_data: LightGBMData) -> tuple[str, float, bool]:
        f, y, w = booster_arrays(preds, eval_data.get_label(), eval_data.get_weight())
        return name, objective.value(f, y, w), False

    return native_metric
