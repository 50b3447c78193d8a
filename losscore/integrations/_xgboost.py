"""XGBoost adapters: a catalog loss as ``xgb.train(obj=...)`` / ``XGBRegressor(objective=...)``
and as ``custom_metric`` / ``eval_metric``.

XGBoost hands a custom objective the raw scores (margins, base margin included) and the
training ``DMatrix``; it does not apply sample weights to a custom objective's output, so
the weights of the ``DMatrix`` are applied here. ``predict`` on a model trained with a custom
objective returns raw scores too (no link function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.integrations._boosting import Api, BoostingObjective, booster_arrays, check_api
from losscore.integrations._optional import require

__all__ = ["XGBoostData", "xgboost_metric_for", "xgboost_objective_for"]


class XGBoostData(Protocol):
    """What the adapters read from an ``xgboost.DMatrix``."""

    def get_label(self) -> Any: ...

    def get_weight(self) -> Any: ...


def _grad_hess(
    objective: BoostingObjective, predt: NDArray[Any], labels: Any, weights: Any
) -> tuple[FloatArray, FloatArray]:
    f, y, w = booster_arrays(predt, labels, weights)
    g, h = objective.gradient_hessian(f, y, w)
    return g.reshape(np.shape(predt)), h.reshape(np.shape(predt))


def xgboost_objective_for(objective: BoostingObjective, api: Api) -> Callable[..., Any]:
    """The callable XGBoost expects for *objective* (see ``xgboost_objective``)."""
    check_api(api)
    require("xgboost")
    if api == "sklearn":

        def sklearn_objective(
            y_true: NDArray[Any], y_pred: NDArray[Any], *, sample_weight: Any = None
        ) -> tuple[FloatArray, FloatArray]:
            return _grad_hess(objective, y_pred, y_true, sample_weight)

        return sklearn_objective

    def native_objective(predt: NDArray[Any], dtrain: XGBoostData) -> tuple[FloatArray, FloatArray]:
        return _grad_hess(objective, predt, dtrain.get_label(), dtrain.get_weight())

    return native_objective


def xgboost_metric_for(objective: BoostingObjective, api: Api) -> Callable[..., Any]:
    """The weighted mean loss as XGBoost's ``custom_metric`` (native: returns (name, value))
    or ``eval_metric`` (sklearn: returns the value; its ``__name__`` is the loss's name)."""
    check_api(api)
    require("xgboost")
    name = objective.name
    if api == "sklearn":

        def sklearn_metric(
            y_true: NDArray[Any], y_pred: NDArray[Any], *, sample_weight: Any = None
        ) -> float:
            f, y, w = booster_arrays(y_pred, y_true, sample_weight)
            return objective.value(f, y, w)

        sklearn_metric.__name__ = name
        return sklearn_metric

    def native_metric(predt: NDArray[Any], dmatrix: XGBoostData) -> tuple[str, float]:
        f, y, w = booster_arrays(predt, dmatrix.get_label(), dmatrix.get_weight())
        return name, objective.value(f, y, w)

    return native_metric
