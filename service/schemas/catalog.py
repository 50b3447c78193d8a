"""The loss and norm catalog as response models (from ``LossSpec.as_dict()``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "IntervalInfo",
    "KinkInfo",
    "LossInfo",
    "LossList",
    "NormInfo",
    "NormList",
    "ParamInfo",
    "TrainingInfo",
]


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


class KinkInfo(BaseModel):
    """Where a loss is not twice differentiable, on its curve's x axis:
    x = offset + scale·parameter (x = offset without a parameter)."""

    offset: float
    param: str | None
    scale: float
    order: Literal[1, 2] = Field(
        description="1: the gradient jumps there; 2: only the second derivative does."
    )


class TrainingInfo(BaseModel):
    """What training knows about a loss (its capabilities; docs/TRAINING.md)."""

    tasks: list[Literal["classification", "regression"]] = Field(
        description="The tasks it trains; empty: evaluate only."
    )
    multinomial: bool = Field(description="One score per class, trained jointly.")
    probability: Literal["logistic", "softmax"] | None = Field(
        description="How a trained model's scores read as probabilities (null: they do not)."
    )
    constant_hessian: float | None = Field(description="h when ℓ = h/2·(f − y)².")
    zero_at_zero: bool = Field(description="ℓ ≥ 0 = ℓ(y, 0): w = 0 is optimal.")
    linear_pieces: bool = Field(
        description="ℓ is linear with a non-zero slope somewhere: ℓ″ = 0 while ℓ′ ≠ 0 there."
    )


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
    target: Literal["real", "binary_label", "probability", "class"]
    prediction: Literal["score", "probability"]
    kink_points: list[KinkInfo]
    training: TrainingInfo


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
