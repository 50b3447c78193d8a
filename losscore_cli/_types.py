"""The results and options that the local and the remote implementations share, so every
command prints the same thing whether it ran in-process or on a server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Evaluated", "Floats", "Predicted", "TrainOptions"]

Floats = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Evaluated:
    """One loss evaluated (``losscore.evaluate`` or ``POST /v1/evaluate``): the value of the
    reduction, w·ℓ per element, the gradient (and Hessian diagonal) of the value, Σw."""

    loss: str
    params: dict[str, float]
    reduction: str
    value: float | None
    elementwise: Floats
    gradient: Floats
    hessian: Floats | None
    weight_sum: float

    def _per_element(self, array: Floats) -> Floats:
        # the mean's gradient is w·ℓ′/Σw (evaluate's convention): times Σw, the per-element w·ℓ′
        return array * self.weight_sum if self.reduction == "mean" else array

    def element_gradient(self) -> Floats:
        """w·∂ℓ/∂f per element, whatever the reduction."""
        return self._per_element(self.gradient)

    def element_hessian(self) -> Floats | None:
        """w·∂²ℓ/∂f² per element (None when not computed)."""
        return None if self.hessian is None else self._per_element(self.hessian)


@dataclass(frozen=True)
class Predicted:
    """Predictions for n rows: labels or values (n,), scores (n, n_outputs), class
    probabilities (n, k) or None, and the model's classes (None for regression)."""

    prediction: NDArray[Any]
    decision_function: Floats
    probability: Floats | None
    classes: list[Any] | None


@dataclass(frozen=True)
class TrainOptions:
    """A fit as the command line gave it. Columns are names or 0-based indices; options left
    ``None`` take the library's (or the service's) defaults."""

    target: str | int
    task: str
    loss: str
    loss_params: dict[str, float] = field(default_factory=dict)
    features: list[str | int] | None = None
    weight: str | int | None = None
    penalty: str | None = None
    penalty_params: dict[str, float] = field(default_factory=dict)
    standardize: bool = False
    fit_intercept: bool = True
    class_weight: str | None = None
    max_iter: int | None = None
    tol: float | None = None
    time_limit_s: float | None = None

    def solver_options(self) -> dict[str, Any]:
        """The options besides data, loss and penalty that were given (library names)."""
        given = {
            "max_iter": self.max_iter,
            "tol": self.tol,
            "time_limit_s": self.time_limit_s,
            "class_weight": self.class_weight,
        }
        out = {k: v for k, v in given.items() if v is not None}
        out["standardize"] = self.standardize
        out["fit_intercept"] = self.fit_intercept
        return out
