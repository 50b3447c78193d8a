"""Bodies of ``POST /v1/norms/evaluate``; the ``norm`` union is generated from the specs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from losscore.norms import list_norms
from service.arrays import ArrayIn, ArrayOut, Encoding, OutNumber
from service.errors import register_tags
from service.schemas.params import NamedParams, build_union

__all__ = ["NormEvaluateRequest", "NormEvaluateResponse", "NormIn", "NormParams"]


class NormParams(NamedParams):
    """A norm and its parameters, e.g. ``{"name": "elastic_net", "alpha": 1.0}``."""


_union, NORM_MODELS = build_union(list_norms(), suffix="Norm", base=NormParams, kind_doc="Norm")
register_tags(n for s in list_norms() for n in (s.name, *s.aliases))

if TYPE_CHECKING:
    NormIn: TypeAlias = NormParams
else:
    NormIn = _union


class NormEvaluateRequest(BaseModel):
    """Value and subgradient of a norm at ``x``; the prox of ``step``·norm when given."""

    model_config = ConfigDict(extra="forbid")

    norm: NormIn
    x: ArrayIn = Field(description="A vector (any shape is flattened), or a matrix for nuclear.")
    step: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        strict=True,
        description="Prox step t > 0: prox_{t·g}(x).",
    )
    encoding: Encoding | None = Field(
        None, description="Encoding of response arrays; default: that of `x`."
    )


class NormEvaluateResponse(BaseModel):
    norm: NormIn = Field(description="The norm with its canonical name and every parameter.")
    value: OutNumber
    subgradient: ArrayOut
    prox: ArrayOut | None = Field(description="prox_{step·g}(x), null without `step`.")
    step: float | None
    shape: list[int]
    dtype: Literal["float32", "float64"]
    overflow: bool = Field(
        description="True when some returned number is ±Infinity (as in /v1/evaluate: "
        'such numbers are spelled "Infinity"/"-Infinity").'
    )
