"""Predictions from a fitted model: labels or values, decision function, probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.errors import InvalidInputError
from losscore.losses import get_loss
from losscore.train._data import check_features
from losscore.train._result import FitResult

__all__ = ["Prediction", "decision_function", "predict", "predict_proba"]


@dataclass(frozen=True)
class Prediction:
    """``prediction``: class labels (from ``classes``) or regression values;
    ``decision_function``: scores (n,) or (n, k); ``probability``: (n, k) class
    probabilities for losses with a probability link in the catalog (log_loss: logistic,
    softmax_cross_entropy: softmax; columns in ``classes`` order), else None."""

    prediction: NDArray[Any]
    decision_function: FloatArray
    probability: FloatArray | None


def decision_function(model: FitResult, X: Any) -> FloatArray:
    """f(x) = x·coef + intercept, shape (n,) or (n, k); ±inf where the score leaves the float
    range (rows far outside the training data), as losscore.evaluate documents overflow."""
    Xf = check_features(X)
    if Xf.shape[1] != model.n_features:
        raise InvalidInputError(
            "X", f"has {Xf.shape[1]} features but the model was fitted on {model.n_features}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        if model.coef.ndim == 1:
            return np.asarray(Xf @ model.coef + float(np.asarray(model.intercept)))
        return np.asarray(Xf @ model.coef.T + np.asarray(model.intercept))


def _sigmoid(f: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(f))
    return np.where(f >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _probabilities(model: FitResult, scores: FloatArray) -> FloatArray | None:
    """Class probabilities through the loss's link (``spec.training.probability``)."""
    link = get_loss(model.loss, field="model.loss").spec.training.probability
    if link is None:
        return None
    if link == "softmax":
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))
    if scores.ndim == 1:  # logistic, one score: P(classes[1]) = σ(f)
        p1 = _sigmoid(scores)
        return np.stack([1.0 - p1, p1], axis=1)
    # logistic one-vs-rest: normalised per-class sigmoids (as scikit-learn's OvR), formed from
    # log σ(f) = −softplus(−f) shifted by each row's maximum, so rows whose sigmoids all
    # underflow (every score below −745) still sum to 1 instead of 0/0
    log_p = -np.logaddexp(0.0, -scores)
    log_p -= log_p.max(axis=1, keepdims=True)
    p = np.exp(log_p)
    return np.asarray(p / p.sum(axis=1, keepdims=True))


def predict(model: FitResult, X: Any) -> Prediction:
    """Labels (classification) or values (regression), scores and probabilities for X."""
    scores = decision_function(model, X)
    if model.task == "regression":
        return Prediction(scores, scores, None)
    assert model.classes is not None
    idx = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
    return Prediction(model.classes[idx], scores, _probabilities(model, scores))


def predict_proba(model: FitResult, X: Any) -> FloatArray | None:
    """Class probabilities, or None for losses without a probabilistic reading."""
    return predict(model, X).probability
