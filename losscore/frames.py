"""Losses over a Dask DataFrame: the reduced value in one pass, the per-row losses and
gradients optionally written as Parquet next to the data (the rows never reach the caller).

:func:`evaluate_frame` maps :func:`losscore.evaluate` (``reduction="sum"``) over the
partitions on the active Dask scheduler; each partition returns Σ wᵢℓᵢ and Σ wᵢ (and, with
``output``, writes ``part-<i>.parquet`` with the columns ``loss`` = wᵢℓᵢ and ``gradient``
(``gradient_<j>`` for k prediction columns) = wᵢ ∂ℓᵢ/∂f); the driver adds them up. The value
is their sum, or the weighted mean Σ wᵢℓᵢ / Σ wᵢ, as :func:`losscore.evaluate` defines both.
Importing this module does not import Dask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from losscore.errors import InvalidInputError, InvalidParameterError

__all__ = ["FrameEvaluation", "evaluate_frame"]


@dataclass(frozen=True)
class FrameEvaluation:
    """``value``: the reduced loss; ``rows`` and ``weight_sum``: what it was reduced over;
    ``files``: the Parquet files written (with ``output``)."""

    value: float
    rows: int
    weight_sum: float
    files: list[str]


def _partition(
    part: Any,
    index: int,
    loss: str,
    prediction: Sequence[str],
    target: str,
    weight: str | None,
    output: str | None,
    params: dict[str, Any],
) -> tuple[float, float, int, list[str]]:
    from losscore.evaluate import evaluate

    names = list(prediction)
    missing = [c for c in [*names, target, *([weight] if weight else [])] if c not in part.columns]
    if missing:
        raise InvalidInputError("dataset", f"no column {missing[0]!r} in the dataset")
    try:
        pred = part[names].to_numpy(dtype=np.float64)
        w = None if weight is None else part[weight].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            "dataset", "prediction and weight columns must be numeric"
        ) from None
    if len(names) == 1:
        pred = pred[:, 0]
    if pred.shape[0] == 0:
        return 0.0, 0.0, 0, []
    r = evaluate(loss, pred, part[target].to_numpy(), weight=w, reduction="sum", **params)
    weight_sum = float(pred.shape[0]) if w is None else float(w.sum())
    files: list[str] = []
    if output is not None:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        grad = np.asarray(r.gradient)
        cols: dict[str, Any] = {"loss": np.asarray(r.elementwise)}
        if grad.ndim == 1:
            cols["gradient"] = grad
        else:
            cols |= {f"gradient_{j}": grad[:, j] for j in range(grad.shape[1])}
        path = str(Path(output) / f"part-{index:05d}.parquet")
        pq.write_table(pa.table(cols), path)
        files.append(path)
    assert r.value is not None  # reduction='sum'
    return float(r.value), weight_sum, int(pred.shape[0]), files


def _merge(*parts: tuple[float, float, int, list[str]]) -> tuple[float, float, int, list[str]]:
    total, weight, rows = 0.0, 0.0, 0
    files: list[str] = []
    for t, w, n, f in parts:
        total, weight, rows, files = total + t, weight + w, rows + n, files + f
    return total, weight, rows, files


def evaluate_frame(
    loss: str,
    frame: Any,
    *,
    prediction: Sequence[str],
    target: str,
    weight: str | None = None,
    reduction: str = "mean",
    output: str | Path | None = None,
    scheduler: Any = None,
    **params: Any,
) -> FrameEvaluation:
    """Evaluate *loss* over a Dask DataFrame's ``prediction`` column(s) (one, or k for a
    multiclass loss) against its ``target`` column, weighted by ``weight``. ``output``: a
    directory (created; it must not exist: nothing is overwritten) for the per-row results."""
    from dask.base import compute
    from dask.delayed import delayed

    if reduction not in ("mean", "sum"):
        raise InvalidParameterError("reduction", f"must be 'mean' or 'sum', got {reduction!r}")
    out_dir = None
    if output is not None:
        out_path = Path(output)
        if out_path.exists():
            raise InvalidInputError("output.path", f"{str(output)!r} already exists")
        out_path.mkdir(parents=True)
        out_dir = str(out_path)
    fn = delayed(_partition, pure=False)
    parts = [
        fn(p, i, loss, list(prediction), target, weight, out_dir, dict(params))
        for i, p in enumerate(frame.to_delayed())
    ]
    join = delayed(_merge, pure=False)
    while len(parts) > 1:
        parts = [join(*parts[i : i + 8]) for i in range(0, len(parts), 8)]
    (total, weight_sum, rows, files) = compute(parts[0], scheduler=scheduler)[0]
    if rows == 0:
        raise InvalidInputError("dataset", "has no rows")
    if reduction == "sum":
        value = total
    else:
        if not weight_sum > 0:
            raise InvalidInputError("weight", "the weights sum to zero: the mean is undefined")
        value = total / weight_sum if math.isfinite(total) else total
    return FrameEvaluation(float(value), int(rows), float(weight_sum), sorted(files))
