"""A name → object registry with aliases, shared by the loss and norm catalogs (private)."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar, cast

from losscore.errors import UnknownNameError

__all__ = ["Registry"]


class _Spec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


class _HasSpec(Protocol):
    @property
    def spec(self) -> Any: ...


T = TypeVar("T", bound=_HasSpec)


class Registry(Generic[T]):
    """Objects by canonical name, in registration (catalog) order, found by name or alias.

    Lookup is case-insensitive and ignores surrounding spaces; an unknown name raises
    :class:`UnknownNameError` listing the canonical names.
    """

    def __init__(self, kind: str, base: type[Any]) -> None:
        self.kind = kind
        self.base = base
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, item: T) -> None:
        spec: _Spec = item.spec
        keys = [k.strip().lower() for k in (spec.name, *spec.aliases)]
        taken = [k for k in keys if k in self._aliases] + [
            k for i, k in enumerate(keys) if k in keys[:i]
        ]
        if taken or spec.name in self._items:  # checked first: nothing is half registered
            raise RuntimeError(f"{self.kind} name {(taken or [spec.name])[0]!r} registered twice")
        for key in keys:
            self._aliases[key] = spec.name
        self._items[spec.name] = item

    def unregister(self, name: str) -> None:
        """Remove the object registered under the canonical *name* and its aliases."""
        item = self._items.pop(name)
        spec: _Spec = item.spec
        for key in (spec.name, *spec.aliases):
            self._aliases.pop(key.strip().lower(), None)

    def names(self) -> tuple[str, ...]:
        """Canonical names, in catalog order."""
        return tuple(self._items)

    def get(self, name: object, field: str) -> T:
        """The object registered under *name* (an instance of the base class passes through)."""
        if isinstance(name, self.base):
            return cast(T, name)
        key = self._aliases.get(name.strip().lower()) if isinstance(name, str) else None
        if key is None:
            raise UnknownNameError(field, str(name), self.names())
        return self._items[key]

    def items(self) -> list[T]:
        """Every object, in catalog order."""
        return list(self._items.values())
