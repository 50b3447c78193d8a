"""The fitted model / fit report (:class:`FitResult`) and its JSON-friendly form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.train._options import get_penalty

__all__ = ["FitResult"]


def _names(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _floats(value: Any) -> FloatArray:
    """JSON numbers (nested lists) as float64; null (a non-finite value written as JSON) and
    the strings "Infinity"/"-Infinity"/"NaN" as their IEEE values."""
    if isinstance(value, list):
        return np.array([_floats(v) for v in value], dtype=np.float64)
    if value is None:
        return np.array(np.nan)
    if isinstance(value, str):
        return np.array(float(value.replace("Infinity", "inf")))
    return np.array(float(value))


@dataclass(frozen=True)
class FitResult:
    """A fitted linear model and how it was obtained.

    The model: scores f(x) = coef·x + intercept (``coef`` (d,), ``intercept`` float) for
    regression and binary classification, or f(x) = coef @ x + intercept (``coef`` (k, d),
    ``intercept`` (k,)) for several classes. Coefficients are always in the original
    feature units; with ``standardize`` the penalty applied to ``coef * feature_scale``.

    Attributes:
        objective: F(w, b) at the solution (see docs/TRAINING.md); for one-vs-rest the
            sum of the k binary objectives (each listed in ``objectives``).
        history: the objective after each solver iteration (the loss curve; smoothed
            surrogates during smoothing continuation, per class in turn for one-vs-rest).
        optimality: the final optimality measure (KKT residual / min-norm subgradient
            ∞-norm, LP gap, or smoothing bound; the worst class for one-vs-rest).
        stop_reason: "tolerance", "exact", "max_iter", "time_limit" or "no_progress".
        multiclass: None, "ovr" or "multinomial".
        feature_mean, feature_scale: the affine map used to standardise (standardize=True).
        passes: the passes over the data of a distributed fit (None for an in-memory one).
        feature_names: the names of the d features (the table columns the model was fitted
            on, :mod:`losscore.tables`), or None for unnamed arrays.
        extra: JSON-ready additions stored with the model (``cv``: the cross-validation
            table of a model whose α was chosen by :func:`losscore.train.cross_validate`).
    """

    task: str
    loss: str
    loss_params: dict[str, float]
    penalty: str
    alpha: float
    l1_ratio: float
    fit_intercept: bool
    standardize: bool
    coef: FloatArray
    intercept: float | FloatArray
    classes: NDArray[Any] | None
    multiclass: str | None
    objective: float
    objectives: list[float]
    history: list[float]
    n_iter: int
    converged: bool
    stop_reason: str
    optimality: float
    solver: str
    metrics: dict[str, float]
    elapsed_ms: float
    provenance: dict[str, Any]
    feature_mean: FloatArray | None = None
    feature_scale: FloatArray | None = None
    passes: int | None = None  # passes over the data (distributed fits; None in memory)
    extra: dict[str, Any] = field(default_factory=dict)
    feature_names: tuple[str, ...] | None = None  # the columns fitted on, in order

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[-1])

    @property
    def finite(self) -> bool:
        """Whether coefficients, intercept and objective are all finite (every model fitted by
        0.2.0 is; stores written before may hold ones that are not)."""
        values = [self.coef, np.asarray(self.intercept), np.asarray(self.objective)]
        return all(bool(np.isfinite(v).all()) for v in values)

    @property
    def n_outputs(self) -> int:
        """Scores per sample: 1 (regression; two classes with a one-score loss), else the
        number of classes (k > 2, or a multinomial loss even with two)."""
        return 1 if self.coef.ndim == 1 else int(self.coef.shape[0])

    def penalty_params(self) -> dict[str, float]:
        """The parameters the penalty has (none: {}; l2, l1: alpha; elastic_net: alpha and
        l1_ratio), as the request gave them (defaults filled in)."""
        values = {"alpha": self.alpha, "l1_ratio": self.l1_ratio}
        return {p.name: values[p.name] for p in get_penalty(self.penalty).params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitResult:
        """Inverse of :meth:`to_dict` (JSON floats round-trip exactly, so predictions match)."""
        loss = dict(data["loss"])
        name = loss.pop("name")
        penalty = data["penalty"]
        spec = get_penalty(penalty["name"])
        # l1_ratio: the penalty's fixed mix, else the stored one (payloads written before
        # 0.2.0 carry l1_ratio for every penalty)
        l1_ratio = spec.l1_ratio if spec.l1_ratio is not None else penalty.get("l1_ratio", 0.5)
        coef = _floats(data["coef"])
        icpt = _floats(data["intercept"])
        intercept: float | FloatArray = float(icpt) if icpt.ndim == 0 else icpt
        classes = None if data.get("classes") is None else np.asarray(data["classes"])

        def opt(key: str) -> FloatArray | None:
            v = data.get(key)
            return None if v is None else _floats(v)

        def num(v: Any) -> float:
            return float(_floats(v))

        return cls(
            task=data["task"],
            loss=name,
            loss_params={k: num(v) for k, v in loss.items()},
            penalty=spec.name,
            alpha=num(penalty.get("alpha", 0.0)),
            l1_ratio=float(l1_ratio),
            fit_intercept=bool(data["fit_intercept"]),
            standardize=bool(data["standardize"]),
            coef=coef,
            intercept=intercept,
            classes=classes,
            multiclass=data.get("multiclass"),
            objective=num(data["objective"]),
            objectives=[num(v) for v in data.get("objectives", [])],
            history=[num(v) for v in data.get("history", [])],
            n_iter=int(data["n_iter"]),
            converged=bool(data["converged"]),
            stop_reason=str(data["stop_reason"]),
            optimality=num(data["optimality"]),
            solver=str(data["solver"]),
            metrics={k: num(v) for k, v in data.get("metrics", {}).items()},
            elapsed_ms=num(data["elapsed_ms"]),
            provenance=dict(data.get("provenance", {})),
            feature_mean=opt("feature_mean"),
            feature_scale=opt("feature_scale"),
            passes=None if data.get("passes") is None else int(data["passes"]),
            extra=dict(data.get("extra") or {}),
            feature_names=_names(data.get("feature_names")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data (lists, floats, strings); no pickle needed."""

        def arr(x: Any) -> Any:
            return None if x is None else np.asarray(x).tolist()

        return {
            "task": self.task,
            "loss": {"name": self.loss, **self.loss_params},
            "penalty": {"name": self.penalty, **self.penalty_params()},
            "fit_intercept": self.fit_intercept,
            "standardize": self.standardize,
            "coef": arr(self.coef),
            "intercept": arr(self.intercept),
            "classes": arr(self.classes),
            "multiclass": self.multiclass,
            "objective": self.objective,
            "objectives": list(self.objectives),
            "history": list(self.history),
            "n_iter": self.n_iter,
            "converged": self.converged,
            "stop_reason": self.stop_reason,
            "optimality": self.optimality,
            "solver": self.solver,
            "metrics": dict(self.metrics),
            "elapsed_ms": self.elapsed_ms,
            "provenance": dict(self.provenance),
            "feature_mean": arr(self.feature_mean),
            "feature_scale": arr(self.feature_scale),
            "passes": self.passes,
            **({"extra": self.extra} if self.extra else {}),
            **({"feature_names": list(self.feature_names)} if self.feature_names else {}),
        }
