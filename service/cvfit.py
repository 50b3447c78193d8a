"""Choosing α over HTTP: a training request whose ``penalty.alpha`` is ``{"cv": {...}}`` runs
:func:`losscore.train.cross_validate` (the model stores the CV table), and
``POST /v1/train/path`` runs :func:`losscore.train.path`. Both are bounded like a fit (the fit
gate, ``LOSSCORE_TRAIN_MAX_SECONDS`` for the whole run, cancellation) and by
``LOSSCORE_TRAIN_MAX_ALPHAS`` (grid size, 422 before any work).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from losscore.errors import LosscoreError
from losscore.train import FitResult, RegularizationPath, cross_validate, path
from losscore.train.cv import CVStep, plan_folds
from service.arrays import out_number
from service.errors import ApiError, ErrorDetail
from service.schemas.models import PathPoint, PathResponse
from service.schemas.train import CVOptions, PathRequest, TrainOptions
from service.settings import Settings

__all__ = ["check_cv", "check_grid", "cv_fit", "path_response", "run_path"]

# library argument -> request field of a cross-validation
_CV_FIELDS = {
    "alphas": "alphas",
    "n_alphas": "n_alphas",
    "alpha_min_ratio": "alpha_min_ratio",
    "cv": "folds",
    "groups": "groups",
    "scoring": "scoring",
    "select": "select",
}


def check_grid(alphas: list[float] | None, n_alphas: int, settings: Settings, prefix: str) -> None:
    """The grid's size against LOSSCORE_TRAIN_MAX_ALPHAS (422 ``limit_exceeded``)."""
    size, field = (n_alphas, "n_alphas") if alphas is None else (len(alphas), "alphas")
    if size > settings.train_max_alphas:
        reason = (
            f"{size} values of alpha are over the limit of {settings.train_max_alphas} "
            "(LOSSCORE_TRAIN_MAX_ALPHAS)"
        )
        detail = ErrorDetail(field=prefix + field, reason=reason)
        raise ApiError(422, "limit_exceeded", f"{prefix}{field}: {reason}", [detail])


def check_cv(opts: TrainOptions, cv: CVOptions, data: tuple[Any, Any, Any]) -> None:
    """The cross-validation's options against the data (scoring, folds, groups, classes per
    fold, weights per fold): a 422 naming the field before a fit slot is taken."""
    X, y, sample_weight = data
    try:
        plan_folds(
            X,
            y,
            task=opts.task,
            loss=opts.loss.name,
            cv=cv.folds,
            scoring=cv.scoring,
            groups=cv.groups,
            shuffle=cv.shuffle,
            random_state=cv.random_state,
            select=cv.select,
            sample_weight=sample_weight,
            class_weight=opts.class_weight,
        )
    except LosscoreError as exc:
        raise _renamed(exc, _CV_FIELDS, "penalty.alpha.cv.") from None


def _renamed(exc: LosscoreError, fields: dict[str, str], prefix: str) -> LosscoreError:
    if exc.field in fields:
        exc.field = prefix + fields[exc.field]
    return exc


def _common(opts: TrainOptions, max_iter: int) -> dict[str, Any]:
    penalty = opts.penalty.params()
    return {
        "task": opts.task,
        "loss": opts.loss.name,
        "loss_params": opts.loss.params(),
        "penalty": opts.penalty.name,
        "l1_ratio": penalty.get("l1_ratio", 0.5),
        "fit_intercept": opts.fit_intercept,
        "standardize": opts.standardize,
        "class_weight": opts.class_weight,
        "max_iter": max_iter,
        "tol": opts.tol,
    }


def _nan_to_none(rows: Any) -> Any:
    if isinstance(rows, list):
        return [_nan_to_none(r) for r in rows]
    return None if isinstance(rows, float) and not math.isfinite(rows) else rows


def cv_fit(
    opts: TrainOptions,
    cv: CVOptions,
    data: tuple[Any, Any, Any],
    *,
    max_iter: int,
    time_limit: float,
    on_step: Callable[[CVStep], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """The model at the cross-validated α, with the CV table in ``extra["cv"]``."""
    X, y, sample_weight = data

    try:
        result = cross_validate(
            X,
            y,
            alphas=cv.alphas,
            n_alphas=cv.n_alphas,
            alpha_min_ratio=cv.alpha_min_ratio,
            cv=cv.folds,
            scoring=cv.scoring,
            groups=cv.groups,
            shuffle=cv.shuffle,
            random_state=cv.random_state,
            select=cv.select,
            sample_weight=sample_weight,
            time_limit_s=time_limit,
            callback=on_step,
            cancel=cancel,
            **_common(opts, max_iter),
        )
    except LosscoreError as exc:
        raise _renamed(exc, _CV_FIELDS, "penalty.alpha.cv.") from None
    table = result.table()
    for key in ("scores", "mean", "std_error"):
        table[key] = _nan_to_none(table[key])
    return replace(result.model, extra={"cv": table})


def run_path(
    req: PathRequest,
    data: tuple[Any, Any, Any],
    *,
    max_iter: int,
    time_limit: float,
    cancel: Callable[[], bool] | None = None,
) -> PathResponse:
    """``POST /v1/train/path``'s answer for a decoded request."""
    X, y, sample_weight = data
    result = path(
        X,
        y,
        alphas=req.alphas,
        n_alphas=req.n_alphas,
        alpha_min_ratio=req.alpha_min_ratio,
        sample_weight=sample_weight,
        time_limit_s=time_limit,
        cancel=cancel,
        **_common(req, max_iter),
    )
    return path_response(req, result)


def _point(alpha: float, fit: FitResult) -> PathPoint:
    coef = np.atleast_2d(fit.coef)
    return PathPoint(
        alpha=alpha,
        coef=coef.tolist(),
        intercept=np.atleast_1d(np.asarray(fit.intercept, dtype=np.float64)).tolist(),
        objective=out_number(fit.objective),
        optimality=out_number(fit.optimality),
        converged=fit.converged,
        stop_reason=fit.stop_reason,
        n_iter=fit.n_iter,
        solver=fit.solver,
        nonzero=int(np.count_nonzero(coef)),
    )


def path_response(req: PathRequest, result: RegularizationPath) -> PathResponse:
    first = result.fits[0]
    penalty = {"name": first.penalty, **first.penalty_params()}  # alpha: the first point's
    return PathResponse.model_validate(
        {
            "task": first.task,
            "loss": {"name": first.loss, **first.loss_params},
            "penalty": penalty,
            "classes": None if first.classes is None else np.asarray(first.classes).tolist(),
            "alpha_zero": result.alpha_zero,
            "complete": result.complete,
            "points": [
                _point(float(a), f) for a, f in zip(result.alphas, result.fits, strict=False)
            ],
            "elapsed_ms": result.elapsed_ms,
        }
    )
