"""Exceptions raised by losscore.

Every error carries the *field* it concerns (an argument name such as ``"target"``
or ``"loss.delta"``), the array *index* where one applies, and a human *reason*.
The HTTP layer turns these attributes into a structured 422 response; library
users get an ordinary :class:`ValueError` subclass with a readable message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "InvalidInputError",
    "InvalidParameterError",
    "LosscoreError",
    "UnknownNameError",
]


class LosscoreError(ValueError):
    """Base class: a caller-supplied value is unusable.

    Attributes:
        field: dotted name of the offending argument (``"prediction"``, ``"loss.beta"``).
        reason: what is wrong, without the field name.
        index: the first offending position in the array (a tuple of ints), if any.
    """

    def __init__(self, field: str, reason: str, *, index: Sequence[int] | None = None) -> None:
        self.field = field
        self.reason = reason
        self.index: tuple[int, ...] | None = None if index is None else tuple(int(i) for i in index)
        super().__init__(self.describe())

    @property
    def location(self) -> str:
        """``field`` followed by ``[i, j]`` when an index applies."""
        if self.index is None:
            return self.field
        return f"{self.field}[{', '.join(str(i) for i in self.index)}]"

    def describe(self) -> str:
        return f"{self.location}: {self.reason}"

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled with its attributes (a Dask worker raises it, the caller gets it back intact);
        # the default reduction would call __init__ with the message alone
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[LosscoreError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InvalidInputError(LosscoreError):
    """An input array is malformed: shape, dtype, non-finite values, labels, emptiness."""


class InvalidParameterError(LosscoreError):
    """A loss, norm or solver parameter is unknown, of the wrong type or out of bounds."""


class UnknownNameError(LosscoreError):
    """A loss or norm name is not registered; the message lists the valid names."""

    def __init__(self, field: str, name: str, valid: Sequence[str]) -> None:
        self.name = name
        self.valid = tuple(valid)
        super().__init__(field, f"unknown name {name!r}; valid names are: {', '.join(self.valid)}")
