"""Fitted models as the API shows them: :class:`losscore.train.FitResult` → the bodies of
:class:`~service.schemas.models.Model` and :class:`~service.schemas.models.ModelSummary`.

The library keeps scikit-learn's shapes (``coef`` (d,) and a float intercept for one
output); the API has one shape for every model: ``coef`` [n_outputs][n_features],
``intercept`` [n_outputs], ``created_at`` RFC 3339.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from losscore.train import FitResult
from service.arrays import out_number
from service.schemas.models import Model, ModelSummary
from service.store import StoredModel

__all__ = ["model_body", "rfc3339", "summary_body", "summary_fields"]

METRICS = ("accuracy", "macro_f1", "mse", "mae", "r2")


def rfc3339(unix_seconds: float) -> datetime:
    """A stored creation time as an aware UTC datetime (serialised as RFC 3339)."""
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


def _labels(classes: Any) -> list[Any] | None:
    return None if classes is None else np.asarray(classes).tolist()


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _metric(value: float | None) -> float | str | None:
    return None if value is None or math.isnan(value) else out_number(value)


def summary_fields(result: FitResult) -> dict[str, Any]:
    """The fields a model shares with its list entry (stored with the model)."""
    return {
        "task": result.task,
        "loss": {"name": result.loss, **result.loss_params},
        "penalty": {"name": result.penalty, **result.penalty_params()},
        "n_features": result.n_features,
        "n_outputs": result.n_outputs,
        "classes": _labels(result.classes),
        "feature_names": None if result.feature_names is None else list(result.feature_names),
    }


def summary_body(item: dict[str, Any]) -> ModelSummary:
    """A list entry from the store (``model_id``, ``created_at`` and the summary fields)."""
    return ModelSummary.model_validate({**item, "created_at": rfc3339(item["created_at"])})


def model_body(stored: StoredModel) -> Model:
    """The full model view of a stored fit."""
    r = stored.result
    coef = np.atleast_2d(r.coef)
    return Model.model_validate(
        {
            "model_id": stored.model_id,
            "created_at": rfc3339(stored.created_at),
            **summary_fields(r),
            "fit_intercept": r.fit_intercept,
            "standardize": r.standardize,
            "coef": coef.tolist(),
            "intercept": np.atleast_1d(np.asarray(r.intercept, dtype=np.float64)).tolist(),
            "multiclass": r.multiclass,
            "objective": out_number(r.objective),
            "objectives": [_finite_or_none(v) for v in r.objectives],
            "history": [_finite_or_none(v) for v in r.history],
            "n_iter": r.n_iter,
            "converged": r.converged,
            "stop_reason": r.stop_reason,
            "optimality": out_number(r.optimality),
            "solver": r.solver,
            "metrics": {k: _metric(r.metrics.get(k)) for k in METRICS},
            "elapsed_ms": r.elapsed_ms,
            "provenance": r.provenance,
            "feature_mean": None if r.feature_mean is None else r.feature_mean.tolist(),
            "feature_scale": None if r.feature_scale is None else r.feature_scale.tolist(),
            "passes": r.passes,
            "cv": r.extra.get("cv"),
        }
    )
