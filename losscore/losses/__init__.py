"""The loss registry: every loss by name and alias."""

from __future__ import annotations

from losscore._registry import Registry
from losscore.losses._base import Loss
from losscore.losses.binary import BINARY_LOSSES
from losscore.losses.multiclass import MULTICLASS_LOSSES
from losscore.losses.regression import REGRESSION_LOSSES
from losscore.spec import LossSpec

__all__ = ["Loss", "get_loss", "list_losses", "loss_names"]

_REGISTRY: Registry[Loss] = Registry("loss", Loss)
for _cls in (*REGRESSION_LOSSES, *BINARY_LOSSES, *MULTICLASS_LOSSES):
    _REGISTRY.register(_cls())


def loss_names() -> tuple[str, ...]:
    """Canonical names, in catalog order."""
    return _REGISTRY.names()


def get_loss(name: str | Loss, *, field: str = "loss.name") -> Loss:
    """The loss registered under *name* (a canonical name or an alias, case-insensitive)."""
    return _REGISTRY.get(name, field)


def list_losses() -> list[LossSpec]:
    """Every loss's spec, in catalog order (regression, binary, multiclass)."""
    return [loss.spec for loss in _REGISTRY.items()]
