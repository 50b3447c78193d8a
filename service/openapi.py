"""The OpenAPI document: FastAPI's, plus the schemas of bodies parsed from raw bytes and the
shared array schemas, with nothing unused.

Bodies are parsed with ``Model.model_validate_json(raw)`` (pydantic's Rust JSON parser)
rather than by FastAPI, so FastAPI does not see their models; routes declare them with
:func:`json_body` (one content type per operation: generated clients handle a required body
of one type, not of two) and :func:`build_openapi` adds their schemas. The array schemas of
:mod:`service.arrays` are added where referenced, and component schemas that no operation
reaches are left out.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.schemas.components import COMPONENTS

__all__ = [
    "TAGS",
    "build_openapi",
    "form_body",
    "json_body",
    "json_text",
    "octet_body",
    "sse_events",
]

REF = "#/components/schemas/{model}"
_BODY_MODELS: dict[str, type[BaseModel]] = {}

TAGS: list[dict[str, str]] = [
    {"name": "losses", "description": "The loss catalog and loss curves."},
    {"name": "evaluate", "description": "Loss values, gradients and Hessians."},
    {"name": "norms", "description": "Norms, subgradients and proximal operators."},
    {"name": "plots", "description": "Charts of losses and their derivatives (SVG)."},
    {"name": "training", "description": "Fit linear models (JSON, uploads, progress events)."},
    {"name": "models", "description": "Stored models: list, fetch, predict, delete."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics."},
    {
        "name": "inference",
        "description": "The Open Inference Protocol (KServe v2 REST) for stored models, with "
        'the binary tensor extension; errors are `{"error": message}`.',
    },
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    _BODY_MODELS[model.__name__] = model
    return {"$ref": REF.format(model=model.__name__)}


def json_body(model: type[BaseModel], description: str = "") -> dict[str, Any]:
    """``openapi_extra`` declaring *model* as the route's (required) JSON request body."""
    return {
        "requestBody": {
            "required": True,
            "description": description or (model.__doc__ or "").strip().split("\n")[0],
            "content": {"application/json": {"schema": _ref(model)}},
        }
    }


def json_text(model: type[BaseModel], description: str) -> dict[str, Any]:
    """A string schema holding the JSON text of *model* (a form field or a header): clients
    send a string; ``contentSchema`` says what it must contain."""
    return {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": _ref(model),
        "description": description,
    }


def form_body(
    name: str, description: str, request: type[BaseModel], files: dict[str, tuple[str, bool]]
) -> dict[str, Any]:
    """``openapi_extra``: a required ``multipart/form-data`` body (component *name*) with a
    ``request`` field holding the JSON of *request* and file parts *files* (name →
    (description, required))."""
    properties: dict[str, Any] = {
        "request": json_text(request, f"JSON text of a {request.__name__}.")
    }
    for part, (text, _) in files.items():
        properties[part] = {"type": "string", "format": "binary", "description": text}
    required = ["request", *(part for part, (_, needed) in files.items() if needed)]
    form = {"type": "object", "required": required, "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"multipart/form-data": {"schema": {"$ref": REF.format(model=name)}}},
        },
        "x-form-schema": {name: form},
    }


def octet_body(description: str) -> dict[str, Any]:
    """``openapi_extra``: a required ``application/octet-stream`` body."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    }


def sse_events(events: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """The ``text/event-stream`` media type of a Server-Sent Events response: the body is a
    string to clients; ``x-sse-events`` names the schema of each event's ``data``."""
    return {
        "schema": {"type": "string", "description": "`event: NAME` and `data: JSON` lines."},
        "x-sse-events": {name: _ref(model) for name, model in events.items()},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, with every schema an operation uses and no others."""
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
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for path in doc.get("paths", {}).values():
        for op in path.values():
            schemas.update(op.pop("x-form-schema", {}))
            _document_security(op)
            if PROTOCOL_TAGS & set(op.get("tags", [])):
                # FastAPI's own 422 for path parameters: these routes answer 400 instead
                op["responses"].pop("422", None)
    _add_referenced(doc, schemas)
    used = _reachable(doc, schemas)
    for name in [n for n in schemas if n not in used]:
        del schemas[name]
    app.openapi_schema = doc
    return doc


OPEN_TAGS = {"losses", "evaluate", "norms", "plots"}  # the `evaluate` scope: open by default
PROTOCOL_TAGS = {"inference"}  # the Open Inference Protocol: errors are `InferenceError`
_AUTH_ERRORS = {
    "401": "No API key, or an unknown one (`WWW-Authenticate`).",
    "403": "The API key lacks this route's scope.",
    "429": "The API key is over its rate (`Retry-After`).",
}


def _document_security(op: dict[str, Any]) -> None:
    """A secured operation lists its auth errors; the evaluate routes also allow anonymous
    calls (the `{}` requirement), as they do unless LOSSCORE_EVALUATE_OPEN=false."""
    if "security" not in op:
        return
    tags = set(op.get("tags", []))
    if OPEN_TAGS & tags:
        op["security"].append({})
    body = "InferenceError" if PROTOCOL_TAGS & tags else "ErrorResponse"
    for status, text in _AUTH_ERRORS.items():
        op["responses"].setdefault(
            status,
            {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=body)}}},
            },
        )


def _add_referenced(doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Add the body models and shared array schemas that the document references, until
    every reference resolves."""
    while True:
        missing = _refs(doc) - set(schemas)
        if not missing:
            return
        models = [(m, "validation") for n, m in sorted(_BODY_MODELS.items()) if n in missing]
        if models:
            _, top = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
            for name, schema in top.get("$defs", {}).items():
                schemas.setdefault(name, schema)
        for name in missing & set(COMPONENTS):
            schemas[name] = COMPONENTS[name]
        if not missing & set(schemas):  # nothing resolved in this round
            unknown = ", ".join(sorted(missing))
            raise RuntimeError(f"OpenAPI references without a schema: {unknown}")


def _reachable(doc: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Component names reachable from the operations (through references, transitively)."""
    seen: set[str] = set()
    todo = list(_refs(doc.get("paths", {})))
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(_refs(schemas[name]))
    return seen


def _refs(node: Any) -> set[str]:
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            target = item.get("$ref")
            if isinstance(target, str):
                found.add(target.rsplit("/", 1)[-1])
            for v in item.values():
                walk(v)
        elif isinstance(item, list):
            for v in item:
                walk(v)

    walk(node)
    return found
