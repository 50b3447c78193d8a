"""The loss catalog: every loss by name and alias.

A loss is one :class:`Loss` subclass (its spec as data, a chunk kernel, and, for training,
its capabilities: ``spec.training``, :meth:`Loss.piecewise_linear` / :meth:`Loss.ramps`).
The built-in losses are registered here; :func:`register_loss` adds another, which then
evaluates, draws curves and trains wherever its capabilities allow, with no edit elsewhere.
"""

from __future__ import annotations

from losscore._registry import Registry
from losscore.losses._base import Loss, Ramps
from losscore.losses.binary import BINARY_LOSSES
from losscore.losses.multiclass import MULTICLASS_LOSSES
from losscore.losses.regression import REGRESSION_LOSSES
from losscore.spec import LossSpec

__all__ = [
    "Loss",
    "Ramps",
    "get_loss",
    "list_losses",
    "loss_names",
    "register_loss",
    "unregister_loss",
]

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


def register_loss(loss: Loss) -> None:
    """Add *loss* to the catalog (its name and aliases must be new)."""
    _REGISTRY.register(loss)


def unregister_loss(name: str) -> None:
    """Remove the loss registered under the canonical *name* (and its aliases)."""
    _REGISTRY.unregister(name)
