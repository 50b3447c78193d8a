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

__all__ = ["Interval", "LossKind", "LossSpec", "NormSpec", "ParamSpec", "resolve_params"]

LossKind = Literal["regression", "binary", "multiclass"]


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
class LossSpec:
    """Everything about one loss that is data rather than code.

    ``prediction_domain`` and ``target_domain`` describe accepted values in
    words (e.g. "probabilities in [0, 1]"); ``kinks`` gives the convention used
    for the (sub)gradient and Hessian at every non-differentiable point.
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
    notes: str = ""
    smooth: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, given: Mapping[str, Any], *, field_prefix: str = "loss") -> dict[str, float]:
        return resolve_params(self.name, self.params, given, field_prefix=field_prefix)

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
