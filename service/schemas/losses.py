"""The ``loss`` field: a discriminated union generated from :func:`losscore.list_losses`."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import losscore
from service.errors import register_tags
from service.schemas.params import NamedParams, build_union

__all__ = ["LOSS_MODELS", "LossIn", "LossParams"]


class LossParams(NamedParams):
    """A loss and its parameters, e.g. ``{"name": "huber", "delta": 1.0}``."""


_union, LOSS_MODELS = build_union(
    losscore.list_losses(), suffix="Loss", base=LossParams, kind_doc="Loss"
)
register_tags(n for s in losscore.list_losses() for n in (s.name, *s.aliases))

if TYPE_CHECKING:
    LossIn: TypeAlias = LossParams
else:
    LossIn = _union
