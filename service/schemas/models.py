"""Response bodies of training and the model store: one shape per concept.

A model's ``coef`` is always ``[n_outputs][n_features]`` and ``intercept`` ``[n_outputs]``
(n_outputs = 1 for regression and for two classes with a one-score loss, k for more classes
and for multinomial losses even with two); ``created_at`` is an
RFC 3339 time; ``loss`` and ``penalty`` are the same objects in every view (the request's
union members, defaults filled in, canonical names).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.arrays import ArrayOut, OutNumber
from service.schemas.train import Labels, PenaltyIn, TrainLossIn

__all__ = [
    "CVProgress",
    "CVTable",
    "Model",
    "ModelList",
    "ModelSummary",
    "PathPoint",
    "PathResponse",
    "PredictResponse",
    "Provenance",
    "TrainProgress",
    "TrainingMetrics",
    "Versions",
]

Task = Literal["classification", "regression"]
StopReason = Literal["tolerance", "exact", "max_iter", "time_limit", "no_progress"]


class TrainingMetrics(BaseModel):
    """Metrics on the training data: accuracy and macro F1 for classification; MSE, MAE and
    R² for regression (the other task's fields are null)."""

    accuracy: float | None = None
    macro_f1: float | None = None
    mse: OutNumber | None = None
    mae: OutNumber | None = None
    r2: OutNumber | None = None


class Versions(BaseModel):
    """Library versions of the process that fitted the model."""

    losscore: str
    numpy: str
    scipy: str
    python: str


class Provenance(BaseModel):
    random_state: int | None
    data_hash: str = Field(
        description="xxh3_128 of the features, targets and weights (a dataset fit: of its "
        "layout, `xxh3_128-layout:`)."
    )
    versions: Versions
    engine: Literal["dask"] | None = Field(
        None, description="`dask` for a fit of a `dataset` (null: in the service process)."
    )
    blocks: int | None = Field(None, description="Blocks (partitions) of a dataset fit.")


class _ModelHead(BaseModel):
    model_id: str
    created_at: datetime = Field(description="When the model was stored (RFC 3339, UTC).")
    task: Task
    loss: TrainLossIn = Field(description="The loss with its canonical name and parameters.")
    penalty: PenaltyIn = Field(description="The penalty with its parameters.")
    n_features: int
    n_outputs: int = Field(
        description="Scores per sample: 1 (regression; two classes with a one-score loss), "
        "else the number of classes k (k > 2, or a multinomial loss)."
    )
    classes: Labels | None = Field(description="Sorted class labels; null for regression.")
    feature_names: list[str] | None = Field(
        None,
        description="The table columns the model was fitted on, in coef's order (predict "
        "takes `records` keyed by them); null for a fit on unnamed arrays.",
    )


class ModelSummary(_ModelHead):
    """A stored model in the list view."""


class ModelList(BaseModel):
    """A page of stored models, newest first."""

    models: list[ModelSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class CVTable(BaseModel):
    """How α was chosen by K-fold cross-validation (`penalty.alpha: {"cv": ...}`).

    ``scores[fold][i]`` is the held-out score at ``alphas[i]`` (weighted like the fit);
    ``mean`` and ``std_error`` (sample standard deviation / √K) per α; ``alpha_min`` has the
    best mean, ``alpha_one_se`` is the largest α within one standard error of it; ``alpha``
    is the one used (``select``). ``folds[i]``: the test fold of sample i. ``path_coef[i]``:
    the coefficients ([n_outputs][n_features]) on all the data at ``alphas[i]``."""

    alphas: list[float]
    scores: list[list[float | None]]
    mean: list[float | None]
    std_error: list[float | None]
    scoring: Literal["loss", "accuracy", "log_loss", "r2", "mae", "pinball"]
    greater_is_better: bool
    alpha_min: float
    alpha_one_se: float
    select: Literal["min", "one_se"]
    alpha: float
    folds: list[int]
    kind: Literal["kfold", "stratified", "group"]
    shuffle: bool
    random_state: int | None
    path_coef: list[list[list[float]]] | None = Field(
        description="The coefficients on all the data per α; null beyond 1,000 per α."
    )


class Model(_ModelHead):
    """A fitted, stored linear model and how it was obtained (see docs/TRAINING.md).

    Scores are f(x) = coef @ x + intercept, one per output: the decision function of a
    binary classifier (positive: classes[1]), the k class scores, or the regression value.
    """

    fit_intercept: bool
    standardize: bool
    coef: list[list[float]] = Field(description="Shape [n_outputs][n_features], original units.")
    intercept: list[float] = Field(description="Shape [n_outputs].")
    multiclass: Literal["ovr", "multinomial"] | None
    objective: OutNumber = Field(description="F(w, b) at the solution.")
    objectives: list[float | None] = Field(
        description="F per one-vs-rest problem (else one value); null where not finite."
    )
    history: list[float | None] = Field(
        description="F after each solver iteration (smoothed surrogates during a smoothing "
        "continuation); null where not finite."
    )
    n_iter: int
    converged: bool
    stop_reason: StopReason
    optimality: OutNumber = Field(description="The final optimality measure (certificate).")
    solver: str = Field(description="The method used (docs/TRAINING.md, solver table).")
    metrics: TrainingMetrics
    elapsed_ms: float
    provenance: Provenance
    feature_mean: list[float] | None = Field(description="Standardisation means, if used.")
    feature_scale: list[float] | None = Field(description="Standardisation scales, if used.")
    passes: int | None = Field(
        None, description="Passes over the data of a fit of a `dataset` (null for inline data)."
    )
    cv: CVTable | None = Field(
        None, description="The cross-validation that chose α (null when α was given)."
    )


class PredictResponse(BaseModel):
    """Predictions for n rows."""

    prediction: Labels = Field(
        description="Class labels (from the model's classes) or regression values, shape [n]."
    )
    decision_function: ArrayOut = Field(
        description="Scores, shape [n][n_outputs], in the request's encoding."
    )
    probability: ArrayOut | None = Field(
        description=(
            "Class probabilities, shape [n][k] (columns in `classes` order), for losses with a "
            "probability link (log_loss, softmax_cross_entropy); null otherwise."
        )
    )


class TrainProgress(BaseModel):
    """The data of a `progress` event of `POST /v1/train/stream`."""

    iteration: int
    objective: OutNumber
    optimality: OutNumber
    elapsed_s: float
    passes: int | None = Field(
        None, description="Passes over the data so far (fits of a `dataset`; null inline)."
    )


class CVProgress(BaseModel):
    """The data of a `cv` event of `POST /v1/train/stream` (α chosen by cross-validation):
    one fit done, of fold ``fold`` (null: the final path on all the data)."""

    fold: int | None
    folds: int
    index: int = Field(description="Position of `alpha` in the grid.")
    n_alphas: int
    alpha: float
    score: float | None = Field(description="Its held-out score (null on the full path).")
    elapsed_s: float


class PathPoint(BaseModel):
    """The fit at one α of a regularisation path, with its own certificate."""

    alpha: float
    coef: list[list[float]] = Field(description="Shape [n_outputs][n_features].")
    intercept: list[float]
    objective: OutNumber
    optimality: OutNumber
    converged: bool
    stop_reason: StopReason
    n_iter: int
    solver: str
    nonzero: int = Field(description="Coefficients different from 0.")


class PathResponse(BaseModel):
    """`POST /v1/train/path`: fits along a decreasing grid of α (warm-started)."""

    task: Task
    loss: TrainLossIn
    penalty: PenaltyIn = Field(description="The penalty; each point has its own alpha.")
    classes: Labels | None
    alpha_zero: float | None = Field(
        description="α₀, the smallest α with an all-zero solution (null for a given grid)."
    )
    complete: bool = Field(description="False when the time limit stopped the path early.")
    points: list[PathPoint]
    elapsed_ms: float
