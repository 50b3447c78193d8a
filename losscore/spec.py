"""Losses and norms described as data.

One :class:`LossSpec` per loss carries everything a client needs to know: names,
kind, parameters with defaults and valid intervals, the label convention, the
formula and its derivative in LaTeX, the convention at each kink, and a
reference. The service's catalog, the OpenAPI schemas and the docs are all
generated from these objects, so there is exactly one source of truth.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from losscore.errors import InvalidParameterError

__all__ = [
    "Interval",
    "KinkSpec",
    "LossKind",
    "LossSpec",
    "NormSpec",
    "ParamSpec",
    "PenaltySpec",
    "PredictionKind",
    "ProbabilityLink",
    "TargetKind",
    "Task",
    "TrainingSpec",
    "resolve_params",
]

LossKind = Literal["regression", "binary", "multiclass"]
TargetKind = Literal["real", "binary_label", "probability", "class"]
"""What a loss's target is: a real value; a binary label ({-1, +1} or {0, 1}); a probability
in [0, 1]; a class (an index in [0, k), or a row of class probabilities)."""
PredictionKind = Literal["score", "probability"]
"""What a loss's prediction is: a real score (a value, logit or decision value), or a
probability in [0, 1]."""
Task = Literal["classification", "regression"]
ProbabilityLink = Literal["logistic", "softmax"]
"""How scores become class probabilities: p = σ(f) per score (one-vs-rest scores normalised
to sum to 1), or p = softmax(f) over the classes."""


@dataclass(frozen=True)
class Interval:
    """A real interval with optional open ends; ``None`` means unbounded."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_inclusive))
        )

    def __str__(self) -> str:
        left = (
            "(-inf" if self.low is None else ("[" if self.low_inclusive else "(") + f"{self.low:g}"
        )
        right = (
            "inf)"
            if self.high is None
            else f"{self.high:g}" + ("]" if self.high_inclusive else ")")
        )
        return f"{left}, {right}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "low_inclusive": self.low_inclusive,
            "high_inclusive": self.high_inclusive,
            "text": str(self),
        }


@dataclass(frozen=True)
class ParamSpec:
    """One real-valued parameter of a loss or norm."""

    name: str
    default: float
    interval: Interval
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "interval": self.interval.as_dict(),
            "description": self.description,
        }


def resolve_params(
    owner: str,
    specs: tuple[ParamSpec, ...],
    given: Mapping[str, Any],
    *,
    field_prefix: str = "loss",
) -> dict[str, float]:
    """Fill defaults and validate *given* against *specs*.

    Raises :class:`InvalidParameterError` naming ``{field_prefix}.{param}`` for an
    unknown name, a non-number, a non-finite number or a value outside its interval.
    """
    known = {p.name: p for p in specs}
    for name in given:
        if name not in known:
            valid = ", ".join(known) or "none"
            raise InvalidParameterError(
                f"{field_prefix}.{name}",
                f"{owner!r} has no parameter {name!r} (its parameters: {valid})",
            )
    out: dict[str, float] = {}
    for p in specs:
        raw = given.get(p.name, p.default)
        if isinstance(raw, bool | np.bool_) or not isinstance(raw, numbers.Real):
            raise InvalidParameterError(
                f"{field_prefix}.{p.name}", f"must be a number, got {raw!r}"
            )
        value = float(raw)
        if not p.interval.contains(value):
            raise InvalidParameterError(
                f"{field_prefix}.{p.name}", f"must lie in {p.interval}, got {value!r}"
            )
        out[p.name] = value
    return out


@dataclass(frozen=True)
class KinkSpec:
    """A point where a loss is not twice differentiable, on the axis of its curve (the residual
    f − y, the margin y·f, or the true-class margin; see :mod:`losscore.curves`).

    It lies at x = ``offset`` + ``scale`` · params[``param``] (x = ``offset`` without a
    parameter). ``order`` 1: the gradient jumps there (the loss's ``kinks`` text gives the
    subgradient convention); ``order`` 2: the gradient is continuous and only the second
    derivative jumps.
    """

    offset: float = 0.0
    param: str | None = None
    scale: float = 1.0
    order: Literal[1, 2] = 1

    def location(self, params: Mapping[str, float]) -> float:
        if self.param is None:
            return self.offset
        return self.offset + self.scale * float(params[self.param])

    def as_dict(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "param": self.param,
            "scale": self.scale,
            "order": self.order,
        }


@dataclass(frozen=True)
class TrainingSpec:
    """What training needs to know about a loss (its capabilities), as data.

    ``tasks``: the tasks a linear model can be trained for with this loss (empty: evaluate
    only). ``multinomial``: the loss takes one score per class, shape (n, k), and is trained
    jointly over the classes; otherwise it takes one score per sample and k > 2 classes are
    trained one-vs-rest. ``probability``: how the scores of a trained model read as class
    probabilities (None: they do not). ``constant_hessian``: h when ℓ(f) = h/2·(f − y)²
    exactly (a quadratic: the exact normal equations and Gram solvers apply).
    ``zero_at_zero``: ℓ ≥ 0 everywhere and ℓ(y, 0) = 0 for every label, so w = 0, b = 0
    minimise F for every penalty. ``linear_pieces``: ℓ is linear with a non-zero slope on
    some interval of the score, so there ∂²ℓ/∂f² = 0 while ∂ℓ/∂f ≠ 0 (the linear tails of
    huber and smooth_l1, every piece of l1 or hinge); a Newton step −ℓ'/ℓ'' is then unbounded
    (gradient boosting's leaf values, :mod:`losscore.integrations`). Whether a loss is
    piecewise linear (and its ramps) depends on its parameters:
    :meth:`losscore.Loss.piecewise_linear` and :meth:`losscore.Loss.ramps`.
    """

    tasks: tuple[Task, ...] = ()
    multinomial: bool = False
    probability: ProbabilityLink | None = None
    constant_hessian: float | None = None
    zero_at_zero: bool = False
    linear_pieces: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "multinomial": self.multinomial,
            "probability": self.probability,
            "constant_hessian": self.constant_hessian,
            "zero_at_zero": self.zero_at_zero,
            "linear_pieces": self.linear_pieces,
        }


NOT_TRAINABLE = TrainingSpec()


@dataclass(frozen=True, kw_only=True)
class LossSpec:
    """Everything about one loss that is data rather than code.

    ``prediction_domain`` and ``target_domain`` describe accepted values in
    words (e.g. "probabilities in [0, 1]"); ``kinks`` gives the convention used
    for the (sub)gradient and Hessian at every non-differentiable point, and
    ``kink_points`` where those points are. ``target`` and ``prediction`` say what
    the two inputs are (they choose the dtype rule of evaluate and the x axis of a
    curve); ``training`` lists what training needs (:class:`TrainingSpec`).
    """

    name: str
    aliases: tuple[str, ...]
    kind: LossKind
    title: str
    params: tuple[ParamSpec, ...]
    label_convention: str
    prediction_domain: str
    target_domain: str
    formula: str
    derivative: str
    second_derivative: str
    kinks: str
    reference: str
    target: TargetKind
    prediction: PredictionKind = "score"
    notes: str = ""
    smooth: bool = True
    kink_points: tuple[KinkSpec, ...] = ()
    training: TrainingSpec = NOT_TRAINABLE
    extra: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, given: Mapping[str, Any], *, field_prefix: str = "loss") -> dict[str, float]:
        return resolve_params(self.name, self.params, given, field_prefix=field_prefix)

    @property
    def trainable(self) -> bool:
        return bool(self.training.tasks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "kind": self.kind,
            "title": self.title,
            "parameters": [p.as_dict() for p in self.params],
            "label_convention": self.label_convention,
            "prediction_domain": self.prediction_domain,
            "target_domain": self.target_domain,
            "formula": self.formula,
            "derivative": self.derivative,
            "second_derivative": self.second_derivative,
            "kinks": self.kinks,
            "reference": self.reference,
            "notes": self.notes,
            "smooth": self.smooth,
            "target": self.target,
            "prediction": self.prediction,
            "kink_points": [k.as_dict() for k in self.kink_points],
            "training": self.training.as_dict(),
        }


@dataclass(frozen=True)
class NormSpec:
    """A norm or regulariser described as data (value, subgradient and prox formulas)."""

    name: str
    aliases: tuple[str, ...]
    title: str
    params: tuple[ParamSpec, ...]
    domain: str
    formula: str
    subgradient: str
    prox: str
    reference: str

    def resolve(self, given: Mapping[str, Any], *, field_prefix: str = "norm") -> dict[str, float]:
        return resolve_params(self.name, self.params, given, field_prefix=field_prefix)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "title": self.title,
            "parameters": [p.as_dict() for p in self.params],
            "domain": self.domain,
            "formula": self.formula,
            "subgradient": self.subgradient,
            "prox": self.prox,
            "reference": self.reference,
        }


@dataclass(frozen=True, kw_only=True)
class PenaltySpec:
    """A training penalty alpha·R(w) described as data: its parameters (with defaults and
    intervals) and R. ``l1_ratio`` is the fixed mix of the elastic-net form
    R = l1_ratio·‖w‖₁ + (1 − l1_ratio)/2·‖w‖² that this penalty is (None: a parameter);
    ``alpha`` is a parameter unless the penalty is ``none``."""

    name: str
    aliases: tuple[str, ...] = ()
    title: str
    params: tuple[ParamSpec, ...]
    formula: str
    l1_ratio: float | None

    def resolve(
        self, given: Mapping[str, Any], *, field_prefix: str = "penalty"
    ) -> dict[str, float]:
        return resolve_params(self.name, self.params, given, field_prefix=field_prefix)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "title": self.title,
            "parameters": [p.as_dict() for p in self.params],
            "formula": self.formula,
        }
