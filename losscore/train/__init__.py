"""Training linear models on the exact losscore objective.

    result = losscore.train.fit(X, y, task="classification", loss="hinge", penalty="l2", alpha=0.01)
    losscore.train.predict(result, X).prediction

See :func:`fit` and docs/TRAINING.md for the objective, the solvers and the mapping to
scikit-learn's parameters.
"""

from losscore.train._result import FitResult
from losscore.train.fit import fit
from losscore.train.predict import Prediction, decision_function, predict, predict_proba
from losscore.train.solvers._monitor import ProgressCallback

__all__ = [
    "FitResult",
    "Prediction",
    "ProgressCallback",
    "decision_function",
    "fit",
    "predict",
    "predict_proba",
]
