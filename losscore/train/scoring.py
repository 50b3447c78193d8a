"""Held-out scores of a fitted model, weighted like the fit.

Every score is a weighted mean over the held-out samples with wᵢ = sᵢ·c_{yᵢ} (sample weight
times class weight, the weights of the training objective), or a weighted statistic:

* ``loss``: the training loss itself, Σ wᵢ ℓ(yᵢ, f(xᵢ)) / Σ wᵢ (one-vs-rest: the sum over the
  classes' binary losses, as in the objective); lower is better;
* ``accuracy``: Σ wᵢ [ŷᵢ = yᵢ] / Σ wᵢ (classification); higher is better;
* ``log_loss``: −Σ wᵢ log p(yᵢ | xᵢ) / Σ wᵢ, for losses with a probability link (classification);
* ``r2``: 1 − Σ wᵢ (yᵢ − ŷᵢ)² / Σ wᵢ (yᵢ − ȳ_w)² (regression; 1 or 0 when the held-out
  targets are all equal, as scikit-learn); higher is better;
* ``mae``: Σ wᵢ |yᵢ − ŷᵢ| / Σ wᵢ (regression);
* ``pinball``: Σ wᵢ ρ_q(yᵢ − ŷᵢ) / Σ wᵢ with ρ_q(r) = max(q r, (q − 1) r), q the loss's own
  ``q`` when it has one, else 0.5 (regression).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losscore._arrays import FloatArray
from losscore.errors import InvalidParameterError
from losscore.evaluate import evaluate
from losscore.losses import get_loss
from losscore.train._result import FitResult
from losscore.train.predict import decision_function, predict_proba

__all__ = ["GREATER_IS_BETTER", "SCORINGS", "check_scoring", "score"]

SCORINGS: dict[str, tuple[str, ...]] = {
    "classification": ("loss", "accuracy", "log_loss"),
    "regression": ("loss", "r2", "mae", "pinball"),
}
GREATER_IS_BETTER = {"accuracy", "r2"}


NEEDS_PROBABILITIES = frozenset({"log_loss"})


def check_scoring(scoring: str | None, task: str, loss: str) -> str:
    """The scoring name (default ``loss``), valid for the task and loss."""
    name = "loss" if scoring is None else scoring
    allowed = SCORINGS.get(task, ())
    if name not in allowed:
        raise InvalidParameterError(
            "scoring", f"{name!r} is not a {task} score; choose one of {', '.join(allowed)}"
        )
    if name in NEEDS_PROBABILITIES and get_loss(loss).spec.training.probability is None:
        raise InvalidParameterError(
            "scoring",
            f"{name} needs class probabilities, which {loss!r} does not give; "
            "use a loss with a probability link (the catalog's training.probability)",
        )
    return name


def _wmean(values: FloatArray, w: FloatArray) -> float:
    return float(w @ values / w.sum())


def _loss_score(model: FitResult, f: FloatArray, codes: Any, y: Any, w: FloatArray) -> float:
    params: dict[str, Any] = dict(model.loss_params)
    if model.task == "regression":
        return _wmean(evaluate(model.loss, f, y, reduction="none", **params).elementwise, w)
    if f.ndim == 1:  # binary: the positive class is classes[1]
        pm = np.where(codes == 1, 1.0, -1.0)
        return _wmean(evaluate(model.loss, f, pm, reduction="none", **params).elementwise, w)
    if model.multiclass != "ovr":  # multinomial: one loss of the k scores
        e = evaluate(model.loss, f, codes, reduction="none", **params).elementwise
        return _wmean(e, w)
    total = 0.0  # one-vs-rest: the sum of the classes' binary losses
    for c in range(f.shape[1]):
        pm = np.where(codes == c, 1.0, -1.0)
        total += _wmean(
            evaluate(model.loss, f[:, c], pm, reduction="none", **params).elementwise, w
        )
    return total


def _accuracy(model: FitResult, X: Any, f: FloatArray, codes: Any, w: FloatArray) -> float:
    pred = (f > 0).astype(np.intp) if f.ndim == 1 else np.argmax(f, axis=1)
    return _wmean((pred == codes).astype(np.float64), w)


def _log_loss(model: FitResult, X: Any, f: FloatArray, codes: Any, w: FloatArray) -> float:
    p = predict_proba(model, X)
    assert p is not None  # check_scoring
    picked = np.clip(p[np.arange(len(codes)), codes], 1e-300, 1.0)
    return _wmean(-np.log(picked), w)


def _r2(model: FitResult, y: FloatArray, r: FloatArray, w: FloatArray) -> float:
    """1 − SS_res / SS_tot; held-out targets that are all equal (SS_tot = 0) score 1 when
    predicted exactly, else 0 (scikit-learn's ``r2_score`` convention)."""
    ybar = _wmean(y, w)
    ss_res, ss_tot = float(w @ (r * r)), float(w @ ((y - ybar) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _mae(model: FitResult, y: FloatArray, r: FloatArray, w: FloatArray) -> float:
    return _wmean(np.abs(r), w)


def _pinball(model: FitResult, y: FloatArray, r: FloatArray, w: FloatArray) -> float:
    q = float(model.loss_params.get("q", 0.5))
    return _wmean(np.maximum(q * r, (q - 1.0) * r), w)


_CLASSIFICATION = {"accuracy": _accuracy, "log_loss": _log_loss}
_REGRESSION = {"r2": _r2, "mae": _mae, "pinball": _pinball}


def score(model: FitResult, X: Any, y: Any, codes: Any, w: FloatArray, scoring: str) -> float:
    """*scoring* of *model* on (X, y) with weights *w*; ``codes``: the labels as indices into
    ``model.classes`` (classification) or None."""
    f = decision_function(model, X)
    if scoring == "loss":
        return _loss_score(model, f, codes, y, w)
    if model.task == "classification":
        return _CLASSIFICATION[scoring](model, X, f, codes, w)
    yf = np.asarray(y, dtype=np.float64)
    return _REGRESSION[scoring](model, yf, yf - f, w)
