"""Training metrics and provenance for a fit report (private)."""

from __future__ import annotations

import hashlib
import platform
from typing import Any

import numpy as np
import scipy
from numpy.typing import NDArray

from losscore._arrays import FloatArray

__all__ = ["classification_metrics", "data_hash", "provenance", "regression_metrics"]


def classification_metrics(
    codes: NDArray[Any], predicted: NDArray[Any], k: int
) -> dict[str, float]:
    """Accuracy and macro-averaged F1 over the k classes (unweighted)."""
    acc = float(np.mean(codes == predicted))
    f1s = []
    for c in range(k):
        tp = float(np.sum((predicted == c) & (codes == c)))
        fp = float(np.sum((predicted == c) & (codes != c)))
        fn = float(np.sum((predicted != c) & (codes == c)))
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom > 0 else 0.0)
    return {"accuracy": acc, "macro_f1": float(np.mean(f1s))}


def regression_metrics(y: FloatArray, pred: FloatArray) -> dict[str, float]:
    """MSE, MAE and R² = 1 − SSE/SST (R² is 0 for a constant target predicted exactly... or −inf)."""
    r = pred - y
    mse = float(np.mean(r * r))
    sst = float(np.sum(np.square(y - y.mean())))
    r2 = 1.0 - float(np.sum(r * r)) / sst if sst > 0 else (1.0 if mse == 0 else 0.0)
    return {"mse": mse, "mae": float(np.mean(np.abs(r))), "r2": r2}


def data_hash(X: FloatArray, y: Any, sample_weight: Any) -> str:
    """sha256 of the float64 features, the labels and the weights (with shapes)."""
    h = hashlib.sha256()
    h.update(repr(X.shape).encode())
    h.update(np.ascontiguousarray(X).data)
    ya = np.asarray(y)
    h.update(repr((ya.shape, ya.dtype.str)).encode())
    h.update(ya.tobytes() if ya.dtype.kind != "O" else repr(ya.tolist()).encode())
    if sample_weight is not None:
        h.update(np.ascontiguousarray(sample_weight, dtype=np.float64).tobytes())
    return "sha256:" + h.hexdigest()


def provenance(random_state: int | None, digest: str) -> dict[str, Any]:
    import losscore

    return {
        "random_state": random_state,
        "data_hash": digest,
        "versions": {
            "losscore": losscore.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
    }
