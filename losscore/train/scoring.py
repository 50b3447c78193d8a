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
from losscore.spec import resolve_params
from losscore.train._result import FitResult
from losscore.train.predict import decision_function, predict_proba

__all__ = ["GREATER_IS_BETTER", "SCORINGS", "check_scoring", "score", "score_columns"]

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


def _multi_loss(model: FitResult, f: FloatArray, codes: Any, w: FloatArray) -> float:
    """``loss`` of a model with several outputs (k scores per sample)."""
    params: dict[str, Any] = dict(model.loss_params)
    if model.multiclass != "ovr":  # multinomial: one loss of the k scores
        return _wmean(evaluate(model.loss, f, codes, reduction="none", **params).elementwise, w)
    total = 0.0  # one-vs-rest: the sum of the classes' binary losses
    for c in range(f.shape[1]):
        pm = np.where(codes == c, 1.0, -1.0)
        total += _wmean(
            evaluate(model.loss, f[:, c], pm, reduction="none", **params).elementwise, w
        )
    return total


def _log_loss(model: FitResult, X: Any, codes: Any, w: FloatArray) -> float:
    p = predict_proba(model, X)
    assert p is not None  # check_scoring
    picked = np.clip(p[np.arange(len(codes)), codes], 1e-300, 1.0)
    return _wmean(-np.log(picked), w)


def score_columns(
    F: FloatArray,
    y: Any,
    codes: Any,
    w: FloatArray,
    scoring: str,
    *,
    task: str,
    loss: str,
    loss_params: dict[str, Any],
) -> FloatArray:
    """*scoring* of several single-output models at once: column a of ``F`` (n, A) holds
    model a's decision values x·w + b on the held-out rows (regression, or binary
    classification with the positive class ``codes == 1``). ``log_loss`` is not available
    here (it needs the models' probabilities: :func:`score`)."""
    total = float(w.sum())
    if scoring == "loss":
        t = y if task == "regression" else np.where(codes == 1, 1.0, -1.0)
        T = np.repeat(np.asarray(t, dtype=np.float64), F.shape[1])  # F's row-major layout
        the_loss = get_loss(loss)
        params = resolve_params(loss, the_loss.spec.params, loss_params)
        ell, _, _ = the_loss.pointwise(np.ascontiguousarray(F).ravel(), T, params)
        return np.asarray(w @ ell.reshape(F.shape) / total)
    if task == "classification":  # accuracy
        hit = (F > 0) == (np.asarray(codes) == 1)[:, None]
        return np.asarray(w @ hit.astype(np.float64) / total)
    yf = np.asarray(y, dtype=np.float64)
    return _RESIDUAL_SCORES[scoring](yf, yf[:, None] - F, w, total, loss_params)


def _r2(y: FloatArray, R: FloatArray, w: FloatArray, total: float, params: Any) -> FloatArray:
    """1 − SS_res / SS_tot per column; held-out targets that are all equal (SS_tot = 0)
    score 1 when predicted exactly, else 0 (scikit-learn's ``r2_score`` convention)."""
    ybar = float(w @ y) / total
    ss_res, ss_tot = w @ (R * R), float(w @ ((y - ybar) ** 2))
    if ss_tot == 0.0:
        return np.where(ss_res == 0.0, 1.0, 0.0)
    return np.asarray(1.0 - ss_res / ss_tot)


def _mae(y: FloatArray, R: FloatArray, w: FloatArray, total: float, params: Any) -> FloatArray:
    return np.asarray(w @ np.abs(R) / total)


def _pinball(y: FloatArray, R: FloatArray, w: FloatArray, total: float, params: Any) -> FloatArray:
    q = float(params.get("q", 0.5))
    return np.asarray(w @ np.maximum(q * R, (q - 1.0) * R) / total)


# regression scores from the held-out residuals R = y − f (n, A)
_RESIDUAL_SCORES = {"r2": _r2, "mae": _mae, "pinball": _pinball}


def score(model: FitResult, X: Any, y: Any, codes: Any, w: FloatArray, scoring: str) -> float:
    """*scoring* of *model* on (X, y) with weights *w*; ``codes``: the labels as indices into
    ``model.classes`` (classification) or None."""
    if scoring in NEEDS_PROBABILITIES:
        return _log_loss(model, X, codes, w)
    f = decision_function(model, X)
    if f.ndim == 1:  # one output: regression or two classes
        params = dict(model.loss_params)
        one = score_columns(
            f[:, None], y, codes, w, scoring, task=model.task, loss=model.loss, loss_params=params
        )
        return float(one[0])
    if scoring == "loss":
        return _multi_loss(model, f, codes, w)
    return _wmean((np.argmax(f, axis=1) == codes).astype(np.float64), w)  # accuracy
