"""``warm_up``: compile every numba kernel now, so that no later call waits for it."""

from __future__ import annotations

from typing import Any

import numpy as np

from losscore._outputs import Output
from losscore.evaluate import evaluate
from losscore.losses import Loss, get_loss, list_losses
from losscore.train import warm_up as warm_up_training

__all__ = ["warm_up"]


# the outputs and weighting a kernel is compiled for (one machine-code specialisation each):
# an HTTP evaluation's default, with and without weights; value only; value and gradient
_WARM_CALLS: tuple[tuple[tuple[Output, ...], bool], ...] = (
    (("value", "elementwise", "gradient"), False),
    (("value", "elementwise", "gradient"), True),
    (("value",), False),
    (("value", "gradient"), False),
)


def warm_up() -> None:
    """Compile the catalog's one-pass evaluate kernels (float64 and float32, with the target
    dtypes they meet: reals in the prediction's dtype, labels as float or int64, class
    indices as int64; for the outputs and weighting of :data:`_WARM_CALLS`: another
    combination compiles at its first call) and the solvers' kernels.

    A kernel compiles in about a second at its first call in a process; numba then caches the
    machine code on disk (next to the module, in ``NUMBA_CACHE_DIR`` or the user's cache
    directory) and later processes load it in milliseconds. A service calls this from a
    background thread at start-up; a library user may call it once after installing.
    """
    for spec in list_losses():
        loss = get_loss(spec.name)
        if type(loss).fused is Loss.fused:
            continue
        for dtype in (np.float64, np.float32):
            for prediction, target in _tiny_inputs(loss, np.dtype(dtype)):
                ones = np.ones(prediction.shape[0], dtype=dtype)
                for outputs, weighted in _WARM_CALLS:
                    weight = ones if weighted else None
                    evaluate(loss, prediction, target, outputs=outputs, weight=weight)
    warm_up_training()


def _tiny_inputs(loss: Loss, dtype: np.dtype[Any]) -> list[tuple[Any, Any]]:
    if loss.kind == "multiclass":
        return [(np.zeros((2, 3), dtype=dtype), np.zeros(2, dtype=np.int64))]
    prediction = np.zeros(2, dtype=dtype)
    if loss.spec.target == "binary_label":
        return [(prediction, np.ones(2, dtype=dtype)), (prediction, np.ones(2, dtype=np.int64))]
    return [(prediction, np.zeros(2, dtype=dtype))]
