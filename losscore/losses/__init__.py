"""The loss registry: every loss by name and alias."""

from __future__ import annotations

from losscore.errors import UnknownNameError
from losscore.losses._base import Loss
from losscore.losses.binary import BINARY_LOSSES
from losscore.losses.multiclass import MULTICLASS_LOSSES
from losscore.losses.regression import REGRESSION_LOSSES
from losscore.spec import LossSpec

__all__ = ["Loss", "get_loss", "list_losses", "loss_names"]

_LOSSES: dict[str, Loss] = {}
_ALIASES: dict[str, str] = {}


def _register(loss: Loss) -> None:
    spec = loss.spec
    for key in (spec.name, *spec.aliases):
        if key in _ALIASES:
            raise RuntimeError(f"loss name {key!r} registered twice")
        _ALIASES[key] = spec.name
    _LOSSES[spec.name] = loss


for _cls in (*REGRESSION_LOSSES, *BINARY_LOSSES, *MULTICLASS_LOSSES):
    _register(_cls())


def loss_names() -> tuple[str, ...]:
    """Canonical names, in catalog order."""
    return tuple(_LOSSES)


def get_loss(name: str | Loss, *, field: str = "loss.name") -> Loss:
    """The loss registered under *name* (a canonical name or an alias, case-insensitive)."""
    if isinstance(name, Loss):
        return name
    key = _ALIASES.get(name.strip().lower()) if isinstance(name, str) else None
    if key is None:
        raise UnknownNameError(field, str(name), loss_names())
    return _LOSSES[key]


def list_losses() -> list[LossSpec]:
    """Every loss's spec, in catalog order (regression, binary, multiclass)."""
    return [loss.spec for loss in _LOSSES.values()]
