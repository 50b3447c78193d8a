"""The OpenAPI document: FastAPI's, plus the schemas of bodies parsed from raw bytes.

Bodies are parsed with ``Model.model_validate_json(raw)`` (pydantic's Rust JSON
parser) rather than by FastAPI, so FastAPI does not see their models; routes
declare them with :func:`json_body` and :func:`build_openapi` adds their schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

__all__ = ["TAGS", "binary_body", "build_openapi", "json_body", "json_or_form_body"]

REF = "#/components/schemas/{model}"
_BODY_MODELS: dict[str, type[BaseModel]] = {}

TAGS: list[dict[str, str]] = [
    {"name": "losses", "description": "The loss catalog and loss curves."},
    {"name": "evaluate", "description": "Loss values, gradients and Hessians."},
    {"name": "norms", "description": "Norms, subgradients and proximal operators."},
    {"name": "plots", "description": "Charts of losses and their derivatives (SVG)."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics."},
]


def json_body(model: type[BaseModel], description: str = "") -> dict[str, Any]:
    """``openapi_extra`` declaring *model* as the route's JSON request body."""
    _BODY_MODELS[model.__name__] = model
    ref = {"$ref": REF.format(model=model.__name__)}
    return {
        "requestBody": {
            "required": True,
            "description": description or (model.__doc__ or "").strip().split("\n")[0],
            "content": {"application/json": {"schema": ref}},
        }
    }


def binary_body(header_model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for the binary evaluate route (octet-stream or multipart .npy)."""
    _BODY_MODELS[header_model.__name__] = header_model
    ref = {"$ref": REF.format(model=header_model.__name__)}
    npy = {"type": "string", "format": "binary", "description": "A .npy file (no pickles)."}
    return {
        "parameters": [
            {
                "name": "X-Losscore-Request",
                "in": "header",
                "required": False,
                "description": (
                    "The JSON part (BinaryEvaluateHeader) for application/octet-stream bodies."
                ),
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "description": "prediction, target[, weight] little-endian bytes",
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["request", "prediction", "target"],
                        "properties": {
                            "request": {
                                "type": "string",
                                "description": "JSON text of a BinaryEvaluateHeader.",
                            },
                            "prediction": npy,
                            "target": npy,
                            "weight": npy,
                        },
                    }
                },
            },
        },
        "x-header-schema": ref,
    }


def json_or_form_body(
    model: type[BaseModel], form_model: type[BaseModel], files: dict[str, str]
) -> dict[str, Any]:
    """``openapi_extra``: *model* as JSON, or ``multipart/form-data`` with a ``request``
    field (JSON text of *form_model*) and the file parts *files* (name → description)."""
    extra = json_body(model)
    _BODY_MODELS[form_model.__name__] = form_model
    properties: dict[str, Any] = {
        "request": {
            "type": "string",
            "description": f"JSON text of a {form_model.__name__}.",
        }
    }
    for name, description in files.items():
        properties[name] = {"type": "string", "format": "binary", "description": description}
    body = extra["requestBody"]
    body["content"]["multipart/form-data"] = {
        "schema": {"type": "object", "required": ["request"], "properties": properties}
    }
    # The body is needed (an empty one is a 400), but openapi-python-client 0.29 emits
    # `body: A | B | Unset` without importing Unset when a multi-content body is required
    # (openapi-generators/openapi-python-client#1451): declared optional so clients import.
    body["required"] = False
    extra["x-header-schema"] = {"$ref": REF.format(model=form_model.__name__)}
    return extra


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, with every body schema under ``components``."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
        separate_input_output_schemas=False,
    )
    used = _used_refs(doc)
    models = [(m, "validation") for name, m in sorted(_BODY_MODELS.items()) if name in used]
    if models:
        _, top = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in top.get("$defs", {}).items():
            schemas.setdefault(name, schema)
    for path in doc.get("paths", {}).values():
        for op in path.values():
            op.pop("x-header-schema", None)
    app.openapi_schema = doc
    return doc


def _used_refs(doc: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.add(ref.rsplit("/", 1)[-1])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc.get("paths", {}))
    return found
