"""Catalog losses as custom objectives and metrics for XGBoost and LightGBM.

::

    from losscore.integrations import xgboost_objective, xgboost_metric
    bst = xgb.train({"tree_method": "hist"}, dtrain, num_boost_round=100,
                    obj=xgboost_objective("huber", delta=2.0),
                    custom_metric=xgboost_metric("huber", delta=2.0), evals=[(dvalid, "valid")])

    from losscore.integrations import lightgbm_objective, lightgbm_metric
    booster = lgb.train({"objective": lightgbm_objective("quantile", q=0.9), "metric": "None"},
                        train_set, feval=lightgbm_metric("quantile", q=0.9))

Per sample i with raw score (margin) fᵢ, label yᵢ and weight sᵢ (1 without weights) the
objective returns gᵢ = sᵢ·∂ℓ/∂f (``losscore.evaluate(..., reduction="sum", weight=s)``) and
a Hessian hᵢ chosen by the **Hessian policy**:

* ``"exact"``: hᵢ = sᵢ·∂²ℓ/∂f², as the catalog defines it. Refused for a piecewise-linear
  loss (ℓ'' = 0 almost everywhere: a leaf's Newton value −Σg/(Σh + λ) would be −Σg/λ), and
  an error at a round where every hᵢ is 0 while some gᵢ is not.
* ``"constant"``: hᵢ = sᵢ·c (c = ``hessian_constant``, default 1): first-order gradient
  boosting, the Hessian XGBoost's ``reg:absoluteerror`` / ``reg:quantileerror`` and
  LightGBM's ``l1`` / ``quantile`` use (they then also refit each leaf to a weighted quantile
  of its residuals, which a custom objective cannot do).
* ``"floor"``: hᵢ = max(sᵢ·∂²ℓ/∂f², |gᵢ|/Δ) (Δ = ``max_step``): the exact Hessian where it
  bounds the Newton step, raised where it does not, so |−Σg/Σh| ≤ Δ for every leaf.

The default follows the catalog (:func:`default_hessian_policy`): ``constant`` for
piecewise-linear losses (l1, quantile, epsilon_insensitive, hinge, perceptron), ``floor`` for
the other losses with linear pieces (``spec.training.linear_pieces``: huber, smooth_l1,
modified_huber), ``exact`` for the rest. docs/BOOSTING.md has the table and the reasons.

Labels follow the catalog's convention: real targets for regression losses; binary labels in
{0, 1} (as boosters use) or {−1, +1} for binary losses. Models trained with a custom
objective predict raw scores: for ``log_loss`` p = σ(f). Multiclass losses are refused.

``xgboost`` and ``lightgbm`` are optional (``pip install 'losscore[boost]'``); they are
imported when an adapter for them is made, never by ``import losscore``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losscore.integrations._boosting import (
    HESSIAN_POLICIES,
    Api,
    BoostingObjective,
    HessianPolicy,
    boosting_objective,
    default_hessian_policy,
)
from losscore.integrations._lightgbm import lightgbm_metric_for, lightgbm_objective_for
from losscore.integrations._xgboost import xgboost_metric_for, xgboost_objective_for
from losscore.losses import Loss

__all__ = [
    "HESSIAN_POLICIES",
    "BoostingObjective",
    "HessianPolicy",
    "boosting_objective",
    "default_hessian_policy",
    "lightgbm_metric",
    "lightgbm_objective",
    "xgboost_metric",
    "xgboost_objective",
]


def xgboost_objective(
    loss: str | Loss,
    *,
    hessian_policy: HessianPolicy | None = None,
    hessian_constant: float | None = None,
    max_step: float | None = None,
    api: Api = "native",
    **params: Any,
) -> Callable[..., Any]:
    """*loss* as an XGBoost custom objective returning (gradient, Hessian) per sample.

    ``api="native"``: ``obj(predt, dtrain)`` for ``xgb.train(obj=...)`` (the DMatrix's labels
    and weights are read). ``api="sklearn"``: ``obj(y_true, y_pred, *, sample_weight=None)``
    for ``XGBRegressor(objective=...)`` / ``XGBClassifier``. Policy arguments and *params* as
    in :func:`boosting_objective`; errors are raised here, before any training.
    """
    objective = boosting_objective(
        loss,
        hessian_policy=hessian_policy,
        hessian_constant=hessian_constant,
        max_step=max_step,
        **params,
    )
    return xgboost_objective_for(objective, api)


def xgboost_metric(loss: str | Loss, *, api: Api = "native", **params: Any) -> Callable[..., Any]:
    """The weighted mean Σ sᵢℓᵢ / Σ sᵢ of *loss* at raw scores, named after the loss.

    ``api="native"``: ``custom_metric(predt, dmatrix) -> (name, value)`` for ``xgb.train``
    (XGBoost passes raw scores to it when the objective is custom). ``api="sklearn"``:
    ``eval_metric(y_true, y_pred, *, sample_weight=None) -> value``.
    """
    return xgboost_metric_for(boosting_objective(loss, **params), api)


def lightgbm_objective(
    loss: str | Loss,
    *,
    hessian_policy: HessianPolicy | None = None,
    hessian_constant: float | None = None,
    max_step: float | None = None,
    api: Api = "native",
    **params: Any,
) -> Callable[..., Any]:
    """*loss* as a LightGBM 4 custom objective returning (gradient, Hessian) per sample.

    ``api="native"``: ``fobj(preds, train_data)`` for ``lgb.train({"objective": fobj, ...})``
    (the Dataset's labels and weights are read). ``api="sklearn"``:
    ``fobj(y_true, y_pred, weight)`` for ``LGBMRegressor(objective=...)``. Policy arguments
    and *params* as in :func:`boosting_objective`.
    """
    objective = boosting_objective(
        loss,
        hessian_policy=hessian_policy,
        hessian_constant=hessian_constant,
        max_step=max_step,
        **params,
    )
    return lightgbm_objective_for(objective, api)


def lightgbm_metric(loss: str | Loss, *, api: Api = "native", **params: Any) -> Callable[..., Any]:
    """The weighted mean of *loss* at raw scores as LightGBM's ``feval(preds, eval_data)``
    (native) or ``eval_metric(y_true, y_pred, weight)`` (sklearn), returning
    ``(name, value, False)``."""
    return lightgbm_metric_for(boosting_objective(loss, **params), api)
