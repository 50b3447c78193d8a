"""Named component schemas written by hand (the shapes generated clients handle; see
:mod:`service.arrays`), referenced from pydantic types through ``WithJsonSchema(ref(...))``.

:func:`service.openapi.build_openapi` adds each one the document references.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMPONENTS", "ref", "register"]

COMPONENTS: dict[str, dict[str, Any]] = {}


def ref(name: str) -> dict[str, Any]:
    """A JSON-schema reference to the component *name*."""
    return {"$ref": f"#/components/schemas/{name}"}


def register(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the component *name*; returns a reference to it."""
    if name in COMPONENTS and COMPONENTS[name] != schema:
        raise RuntimeError(f"component schema {name!r} declared twice")
    COMPONENTS[name] = schema
    return ref(name)
