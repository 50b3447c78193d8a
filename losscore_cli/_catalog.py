"""What the tool reads from the loss catalog (:func:`losscore.list_losses`): parameters for
each listed loss, the task a loss trains by default, labels for tables. No loss is named here:
every decision reads a :class:`~losscore.LossSpec`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from losscore import get_loss
from losscore.spec import LossSpec
from losscore_cli._args import ParamAssignment
from losscore_cli._errors import CliError
from losscore_cli._output import fmt

__all__ = ["default_task", "loss_label", "params_for", "spec_of"]


def spec_of(name: str, field: str = "--loss") -> LossSpec:
    """The catalog entry of a loss name or alias (an unknown name lists the valid ones)."""
    return get_loss(name, field=field).spec


def params_for(
    names: Sequence[str], assignments: Sequence[ParamAssignment]
) -> list[dict[str, float]]:
    """The parameters of each listed loss from ``--param`` assignments.

    ``LOSS.NAME=V`` goes to the listed loss LOSS (a name or alias); ``NAME=V`` to every listed
    loss whose catalog entry has a parameter NAME (with one listed loss: to it, whose
    validation then names a parameter it lacks). Values are checked by the library.
    """
    specs = [spec_of(n, "--loss") for n in names]
    out: list[dict[str, float]] = [{} for _ in names]
    for a in assignments:
        if a.loss is not None:
            target = spec_of(a.loss, "--param").name
            hits = [i for i, s in enumerate(specs) if s.name == target]
            if not hits:
                listed = ", ".join(s.name for s in specs)
                raise CliError(
                    f"{a}: {target!r} is not among the listed losses ({listed})", field="--param"
                )
        elif len(specs) == 1:
            hits = [0]
        else:
            hits = [i for i, s in enumerate(specs) if any(p.name == a.name for p in s.params)]
            if not hits:
                raise CliError(
                    f"{a}: none of the listed losses has a parameter {a.name!r}", field="--param"
                )
        for i in hits:
            out[i][a.name] = a.value
    return out


def default_task(spec: LossSpec, given: str | None) -> str:
    """The task to train: the one given, else the loss's only training task."""
    tasks = spec.training.tasks
    if given is not None:
        return given
    if len(tasks) == 1:
        return tasks[0]
    if not tasks:
        return "classification"  # the library then explains that the loss cannot be trained
    raise CliError(
        f"{spec.name!r} trains {' and '.join(tasks)}: choose one with --task", field="--task"
    )


def loss_label(name: str, params: Mapping[str, float]) -> str:
    """``name(k=v, …)``, or the name alone without parameters."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={fmt(v)}' for k, v in params.items())})"
