"""losscore: losses with exact gradients and Hessians, norms with proximal operators.

Public surface::

    losscore.evaluate(loss, prediction, target, *, weight=None, reduction="mean", hessian=False, **params)
    losscore.get_loss(name) / losscore.list_losses() / losscore.loss_names()
    losscore.loss_curve(loss, start=-3, stop=3, num=201, **params)
    losscore.evaluate_norm(norm, x, *, step=None, **params) / get_norm / list_norms / norm_names
    losscore.fit(X, y, *, task, loss, penalty="l2", alpha=...) -> FitResult / losscore.predict(model, X)
    losscore.errors  (LosscoreError and subclasses; all are ValueError)
"""

from losscore._arrays import all_finite, check_finite
from losscore._warm import warm_up
from losscore.curves import Curve, loss_curve
from losscore.errors import (
    InvalidInputError,
    InvalidParameterError,
    LosscoreError,
    UnknownNameError,
)
from losscore.evaluate import Evaluation, Reduction, evaluate
from losscore.losses import Loss, get_loss, list_losses, loss_names
from losscore.norms import Norm, NormResult, evaluate_norm, get_norm, list_norms, norm_names
from losscore.spec import Interval, LossSpec, NormSpec, ParamSpec
from losscore.train import FitResult, Prediction, fit, predict

__version__ = "0.3.0"

__all__ = [
    "Curve",
    "Evaluation",
    "FitResult",
    "Interval",
    "InvalidInputError",
    "InvalidParameterError",
    "Loss",
    "LossSpec",
    "LosscoreError",
    "Norm",
    "NormResult",
    "NormSpec",
    "ParamSpec",
    "Prediction",
    "Reduction",
    "UnknownNameError",
    "__version__",
    "all_finite",
    "check_finite",
    "evaluate",
    "evaluate_norm",
    "fit",
    "get_loss",
    "get_norm",
    "list_losses",
    "list_norms",
    "loss_curve",
    "loss_names",
    "norm_names",
    "predict",
    "warm_up",
]
