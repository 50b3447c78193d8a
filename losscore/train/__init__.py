"""Training linear models on the exact losscore objective.

    result = losscore.train.fit(X, y, task="classification", loss="hinge", penalty="l2", alpha=0.01)
    losscore.train.predict(result, X).prediction

See :func:`fit` and docs/TRAINING.md for the objective, the solvers and the mapping to
scikit-learn's parameters.
"""

import numpy as np

from losscore.losses import get_loss, list_losses
from losscore.train._options import get_penalty, list_penalties
from losscore.train._path import RegularizationPath, path
from losscore.train._result import FitResult
from losscore.train.cv import CrossValidation, cross_validate
from losscore.train.fit import PreparedFit, fit, prepare_fit
from losscore.train.predict import Prediction, decision_function, predict, predict_proba
from losscore.train.solvers._cd_kernel import cd_path
from losscore.train.solvers._monitor import FitCancelled, ProgressCallback


def warm_up() -> None:
    """Compile the solvers' numba kernels now (a 16-row fit), so that no later fit waits.

    The first compile in a process takes seconds (up to ~10 s on a busy 2-core machine);
    numba then caches the machine code on disk (next to the module, or in
    ``NUMBA_CACHE_DIR``) and later processes load it in about 0.2 s. A service calls this
    from a background thread at start-up.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))
    fit(X, np.where(X[:, 0] > 0, 1, -1), task="classification", loss=_ipm_loss(), alpha=0.1)
    # coordinate descent's kernels (cd_path calls the other two): a 2-coordinate path
    H, q, ones = np.eye(2), np.ones(2), np.ones((1, 2))
    out, scalars = np.zeros((1, 2)), np.zeros(1)
    cd_path(H, q, ones, 0.1 * ones, 0.0 * ones, scalars, np.zeros(2), 10, 5, out, scalars, scalars)


def _ipm_loss() -> str:
    """A classification loss that is piecewise linear at its defaults (the interior-point
    method's kind of loss: hinge in the catalog)."""
    for spec in list_losses():
        defaults = {p.name: p.default for p in spec.params}
        if (
            "classification" in spec.training.tasks
            and get_loss(spec.name).piecewise_linear(defaults)
            and not spec.training.zero_at_zero
        ):
            return spec.name
    raise RuntimeError("no piecewise-linear classification loss in the catalog")


__all__ = [
    "CrossValidation",
    "FitCancelled",
    "FitResult",
    "Prediction",
    "PreparedFit",
    "ProgressCallback",
    "RegularizationPath",
    "cross_validate",
    "decision_function",
    "fit",
    "get_penalty",
    "list_penalties",
    "path",
    "predict",
    "predict_proba",
    "prepare_fit",
    "warm_up",
]
