"""The loss and norm catalog as response models (from ``LossSpec.as_dict()``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["IntervalInfo", "LossInfo", "LossList", "NormInfo", "NormList", "ParamInfo"]


class IntervalInfo(BaseModel):
    """A parameter's valid interval; null ends are unbounded."""

    low: float | None
    high: float | None
    low_inclusive: bool
    high_inclusive: bool
    text: str


class ParamInfo(BaseModel):
    name: str
    default: float
    interval: IntervalInfo
    description: str


class LossInfo(BaseModel):
    """Everything about one loss: names, parameters, conventions, formulas (LaTeX)."""

    name: str
    aliases: list[str]
    kind: Literal["regression", "binary", "multiclass"]
    title: str
    parameters: list[ParamInfo]
    label_convention: str
    prediction_domain: str
    target_domain: str
    formula: str
    derivative: str
    second_derivative: str
    kinks: str
    reference: str
    notes: str
    smooth: bool


class LossList(BaseModel):
    losses: list[LossInfo]


class NormInfo(BaseModel):
    """A norm or regulariser: names, parameters, formulas of value, subgradient and prox."""

    name: str
    aliases: list[str]
    title: str
    parameters: list[ParamInfo]
    domain: str
    formula: str
    subgradient: str
    prox: str
    reference: str


class NormList(BaseModel):
    norms: list[NormInfo]
