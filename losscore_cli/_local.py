"""The commands' work done in-process with the library (the default without ``--server``)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

import losscore
from losscore.tables import Table, select, with_feature_names
from losscore.train import FitResult, fit, predict
from losscore_cli._progress import ProgressSink
from losscore_cli._types import Evaluated, Predicted, TrainOptions

__all__ = ["DEFAULT_TOL", "evaluate", "predict_rows", "train"]

DEFAULT_TOL: float = inspect.signature(fit).parameters["tol"].default


def evaluate(
    losses: Sequence[tuple[str, dict[str, Any]]],
    prediction: NDArray[Any],
    target: NDArray[Any],
    weight: NDArray[Any] | None,
    reduction: str,
    hessian: bool,
) -> list[Evaluated]:
    """``losscore.evaluate`` for each loss on the same arrays."""
    out = []
    for name, params in losses:
        r = losscore.evaluate(
            name,
            prediction,
            target,
            weight=weight,
            reduction=reduction,  # type: ignore[arg-type]  # checked by the library
            hessian=hessian,
            **params,
        )
        out.append(
            Evaluated(
                loss=r.loss,
                params=r.params,
                reduction=r.reduction,
                value=r.value,
                elementwise=r.elementwise,
                gradient=r.gradient,
                hessian=r.hessian,
                weight_sum=r.weight_sum,
            )
        )
    return out


def train(table: Table, options: TrainOptions, progress: ProgressSink) -> FitResult:
    """Select the columns (errors name the ``--target``/``--features``/``--weight`` option),
    fit with the progress callback, and name the coefficients by their columns."""
    data = select(
        table,
        target=options.target,
        features=options.features,
        weight=options.weight,
        classification=options.task == "classification",
        prefix="--",
    )
    kwargs: dict[str, Any] = {**options.penalty_params, **options.solver_options()}
    if options.penalty:
        kwargs["penalty"] = options.penalty
    try:
        result = fit(
            data.X,
            data.y,
            task=options.task,
            loss=options.loss,
            loss_params=options.loss_params,
            sample_weight=data.sample_weight,
            callback=progress.update,
            **kwargs,
        )
    finally:
        progress.close()
    return with_feature_names(result, data.feature_names)


def predict_rows(model: FitResult, X: NDArray[np.float64]) -> Predicted:
    """``losscore.train.predict`` with the scores as (n, n_outputs)."""
    p = predict(model, X)
    return Predicted(
        prediction=np.asarray(p.prediction),
        decision_function=p.decision_function.reshape(X.shape[0], -1),
        probability=p.probability,
        classes=None if model.classes is None else np.asarray(model.classes).tolist(),
    )
