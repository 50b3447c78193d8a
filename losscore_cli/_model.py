"""A fitted model as the tool shows it: the summary after ``train`` and ``models show``, the
coefficients by feature name, and the model file (``FitResult.to_dict()`` as JSON)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from losscore.train import FitResult
from losscore_cli._catalog import loss_label
from losscore_cli._errors import CliError
from losscore_cli._inputs import read_bytes
from losscore_cli._output import Output, jsonable

__all__ = ["load_model", "print_model", "save_model"]


def load_model(path: str, field: str = "--model") -> FitResult:
    """A model file written by ``losscore train --output`` (or ``FitResult.to_dict()``)."""
    try:
        data = json.loads(read_bytes(path, field))
        return FitResult.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CliError(
            f"{path}: not a model file written by `losscore train --output` ({exc!r})", field=field
        ) from None


def save_model(result: FitResult, path: str) -> None:
    """``FitResult.to_dict()`` as JSON (non-finite numbers as strings, which from_dict reads)."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(jsonable(result.to_dict()), f, indent=2)
            f.write("\n")
    except OSError as exc:
        raise CliError(f"{path}: cannot write it ({exc.strerror})", field="--output") from None


def feature_names(result: FitResult) -> list[str]:
    """The model's feature names, or x0, x1, … for a model fitted on unnamed arrays."""
    if result.feature_names:
        return list(result.feature_names)
    return [f"x{j}" for j in range(result.n_features)]


def _task(result: FitResult) -> str:
    if result.classes is None:
        return result.task
    classes = ", ".join(str(c) for c in np.asarray(result.classes).tolist())
    how = f"; {result.multiclass}" if result.multiclass else ""
    return f"{result.task} ({len(result.classes)} classes: {classes}{how})"


def print_model(out: Output, result: FitResult, extra: list[tuple[str, Any]]) -> None:
    """The summary: options, solver, certificate, training metrics, coefficients."""
    out.fields(
        [
            *extra,
            ("task", _task(result)),
            ("loss", loss_label(result.loss, result.loss_params)),
            ("penalty", loss_label(result.penalty, result.penalty_params())),
            ("solver", result.solver),
            ("iterations", result.n_iter),
            ("objective", result.objective),
            ("optimality", result.optimality),
            ("converged", f"{'yes' if result.converged else 'no'} ({result.stop_reason})"),
            *[(k, v) for k, v in result.metrics.items()],
        ]
    )
    out.line()
    coef = np.atleast_2d(result.coef)
    intercept = np.atleast_1d(np.asarray(result.intercept, dtype=np.float64))
    if coef.shape[0] == 1:
        columns = ["coefficient"]
    elif result.classes is not None:
        columns = [str(c) for c in np.asarray(result.classes).tolist()]
    else:
        columns = [f"output {k}" for k in range(coef.shape[0])]
    rows: list[list[Any]] = [
        [name, *coef[:, j].tolist()] for j, name in enumerate(feature_names(result))
    ]
    if result.fit_intercept:
        rows.append(["(intercept)", *intercept.tolist()])
    out.table(["feature", *columns], rows, numeric=[False] + [True] * len(columns))
