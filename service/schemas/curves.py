"""Query parameters of the curve and plot routes, generated from the loss specs.

Every parameter of any loss is an optional query parameter; a parameter the
chosen loss does not have is a 422 naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

import losscore
from service.arrays import ArrayOut
from service.schemas.losses import LossIn

__all__ = [
    "CurveKink",
    "CurveQuery",
    "CurveResponse",
    "PlotQuery",
    "loss_param_fields",
    "param_values",
]


def loss_param_fields() -> dict[str, Any]:
    """One optional float field per distinct loss parameter name."""
    owners: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for spec in losscore.list_losses():
        for p in spec.params:
            owners.setdefault(p.name, []).append(f"{spec.name} (default {p.default:g})")
            descriptions.setdefault(p.name, p.description)
    return {
        name: (
            float | None,
            Field(
                None,
                allow_inf_nan=False,
                description=f"{descriptions[name]} Used by: {', '.join(owners[name])}.",
            ),
        )
        for name in sorted(owners)
    }


class _GridQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: float = Field(-3.0, allow_inf_nan=False, description="First x of the grid.")
    stop: float = Field(3.0, allow_inf_nan=False, description="Last x of the grid (> start).")
    num: int = Field(
        201,
        ge=2,
        description="Number of grid points; at most `LOSSCORE_MAX_CURVE_POINTS` (default 10001).",
    )


class _PlotBase(_GridQuery):
    names: str = Field(
        "l1,l2,smooth_l1", description="Comma-separated loss names (or aliases), at most 8."
    )


if TYPE_CHECKING:
    CurveQuery = _GridQuery
    PlotQuery = _PlotBase
else:
    CurveQuery = create_model("CurveQuery", __base__=_GridQuery, **loss_param_fields())
    PlotQuery = create_model("PlotQuery", __base__=_PlotBase, **loss_param_fields())


def param_values(query: BaseModel, exclude: set[str]) -> dict[str, float]:
    """The loss parameters given in a query model (unset ones left out)."""
    return {k: float(v) for k, v in query.model_dump(exclude=exclude).items() if v is not None}


class CurveKink(BaseModel):
    """A point of the grid's range where the loss is not twice differentiable."""

    x: float
    order: Literal[1, 2] = Field(
        description="1: the gradient jumps (a subgradient convention applies); 2: only the "
        "second derivative does."
    )


class CurveResponse(BaseModel):
    """ℓ(x), dℓ/dx and d²ℓ/dx² on a grid; x is the residual, the margin or the probability."""

    loss: LossIn
    x_label: str
    x: list[float]
    value: ArrayOut = Field(description="ℓ(x), shape [num] (a tensor object if it overflows).")
    gradient: ArrayOut = Field(description="dℓ/dx, shape [num].")
    hessian: ArrayOut = Field(
        description="d²ℓ/dx², shape [num]; at a kink, the loss's documented convention."
    )
    kinks: list[CurveKink] = Field(description="The loss's kinks on [start, stop].")
    overflow: bool
