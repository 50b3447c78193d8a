"""Pydantic models generated from losscore's specs: one model per loss or norm.

Each model has ``name`` (a ``Literal`` of the canonical name and its aliases) and
that loss's own parameters with their defaults and bounds as field constraints,
so the OpenAPI document and generated clients carry every loss's parameters.
The union over all models is discriminated on ``name``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model
from typing_extensions import TypeAliasType

from losscore.spec import Interval, ParamSpec

__all__ = ["WIDE_TAGS", "NamedParams", "build_union", "named_union", "param_field", "pascal"]


class NamedParams(BaseModel):
    """Base of the generated models: a ``name`` and real-valued parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str

    def params(self) -> dict[str, float]:
        """The numeric parameters (everything but ``name``), defaults filled in; a widened
        parameter given as its other type is left out."""
        return {
            k: float(v)
            for k, v in self.model_dump(exclude={"name"}).items()
            if isinstance(v, int | float)
        }


def pascal(name: str) -> str:
    """``squared_l2`` → ``SquaredL2``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _bounds(interval: Interval) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if interval.low is not None:
        out["ge" if interval.low_inclusive else "gt"] = interval.low
    if interval.high is not None:
        out["le" if interval.high_inclusive else "lt"] = interval.high
    return out


def param_field(p: ParamSpec) -> tuple[Any, Any]:
    """``(annotation, FieldInfo)`` for one parameter, with its bounds and default."""
    bounds: dict[str, Any] = _bounds(p.interval)
    info = Field(
        p.default,
        description=f"{p.description} Valid interval: {p.interval}.",
        allow_inf_nan=False,
        strict=True,
        **bounds,
    )
    return float, info


WIDE_TAGS = ("number", "object")  # the branches of a widened parameter (not error fields)


def _branch(value: Any) -> str:
    return "object" if isinstance(value, dict | BaseModel) else "number"


def _widened(p: ParamSpec, other: Any) -> tuple[Any, Any]:
    """A number (with the parameter's bounds) or *other* (a JSON object): a union chosen by
    the JSON type, so an error names only the branch the value was meant for."""
    number = Annotated[float, Field(allow_inf_nan=False, strict=True, **_bounds(p.interval))]
    union = Annotated[
        Annotated[number, Tag("number")] | Annotated[other, Tag("object")],
        Discriminator(_branch),
    ]
    info = Field(
        p.default,
        description=f"{p.description} Valid interval: {p.interval}; or {other.__doc__}",
    )
    return union, info


def named_union(name: str, models: Sequence[type[NamedParams]], description: str) -> Any:
    """The union of *models* discriminated on ``name``, as the component schema *name*."""
    union = Union[tuple(models)]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAliasType(
        name,
        Annotated[union, Field(discriminator="name", description=description)],
    )


def build_union(
    specs: Sequence[Any],
    *,
    suffix: str,
    base: type[NamedParams],
    kind_doc: str,
    widen: Mapping[str, Any] | None = None,
) -> tuple[Any, list[type[NamedParams]]]:
    """The discriminated union over one generated model per spec (the component schema
    named *suffix*: ``Loss``, ``Norm``, ``Penalty``), and the models. ``widen``: parameter
    name → another type the parameter also accepts (the penalty's α: a number or a
    cross-validation request)."""
    models: list[type[NamedParams]] = []
    for spec in specs:
        names = (spec.name, *spec.aliases)
        fields: dict[str, Any] = {
            "name": (
                Literal[names],
                Field(description=f"`{spec.name}` or an alias: {', '.join(names[1:]) or 'none'}."),
            )
        }
        for p in spec.params:
            fields[p.name] = param_field(p)
            if widen and p.name in widen:
                fields[p.name] = _widened(p, widen[p.name])
        doc = f"{kind_doc} `{spec.name}`: {spec.title}. Formula: ${spec.formula}$"
        model = create_model(f"{pascal(spec.name)}{suffix}", __base__=base, __doc__=doc, **fields)
        models.append(model)
    description = f"A {kind_doc.lower()} and its parameters, selected by `name`."
    return named_union(suffix, models, description), models
