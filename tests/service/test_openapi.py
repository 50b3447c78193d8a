"""The committed OpenAPI document is current, and its operations are well described."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from service.openapi_export import render

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"

EXPECTED_IDS = {
    "evaluate",
    "compare",
    "evaluate_binary",
    "list_losses",
    "get_loss",
    "loss_curve",
    "plot_losses",
    "evaluate_norm",
    "list_norms",
    "healthz",
    "readyz",
    "metrics",
    "evaluate_npy",
    "train",
    "train_upload",
    "train_stream",
    "train_stream_upload",
    "list_models",
    "get_model",
    "predict",
    "delete_model",
}


def test_committed_spec_is_current(app: FastAPI) -> None:
    committed = SPEC.read_text(encoding="utf-8")
    current = render(app.openapi())
    assert committed == current, (
        "openapi/openapi.json is stale: regenerate it with `make openapi` "
        "(python -m service.openapi_export openapi/openapi.json) and commit it"
    )


def test_operation_ids_tags_and_errors() -> None:
    doc = json.loads(SPEC.read_text(encoding="utf-8"))
    seen = set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            seen.add(op["operationId"])
            assert op.get("tags"), (path, method)
            if op["operationId"] in {"healthz", "readyz", "metrics", "list_losses", "list_norms"}:
                continue
            errors = [s for s in op["responses"] if s.startswith("4")]
            assert "422" in errors, (path, method)
            for status in errors:
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert seen >= EXPECTED_IDS


def test_loss_union_carries_each_loss_parameters() -> None:
    schemas = json.loads(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]
    huber = schemas["HuberLoss"]
    assert huber["properties"]["delta"]["default"] == 1.0
    assert huber["properties"]["delta"]["exclusiveMinimum"] == 0.0
    assert set(huber["properties"]["name"]["enum"]) >= {"huber"}
    assert schemas["EvaluateRequest"]["properties"]["loss"]["$ref"].endswith("/Loss")
    loss = schemas["Loss"]
    assert loss["discriminator"]["propertyName"] == "name"
    assert "mse" in loss["discriminator"]["mapping"]
    assert schemas["ElasticNetNorm"]["properties"]["l1_ratio"]["maximum"] == 1.0


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return doc


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in _doc()["paths"].items() for m, op in item.items()]


def test_every_success_response_has_a_named_or_typed_schema() -> None:
    """No ``{}`` schema: generated clients would return Any for it."""
    for path, method, op in _operations():
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in response.get("content", {}).items():
                schema = content["schema"]
                assert schema, (path, method, status, media)
                if media == "application/json":
                    assert set(schema) == {"$ref"}, (path, method, schema)
                else:
                    assert schema.get("type") == "string", (path, method, media)


def test_request_bodies_are_required_and_of_one_content_type() -> None:
    for path, method, op in _operations():
        body = op.get("requestBody")
        if body is None:
            continue
        assert body["required"] is True, (path, method)
        assert len(body["content"]) == 1, (path, method)  # one operation per content type


def test_no_unused_component_schemas() -> None:
    doc = _doc()

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    schemas = doc["components"]["schemas"]
    reached, todo = set(), list(refs(doc["paths"]))
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(refs(schemas[name]))
    assert set(schemas) == reached, set(schemas) - reached


def test_one_shape_per_concept() -> None:
    schemas = _doc()["components"]["schemas"]
    model, summary = schemas["Model"]["properties"], schemas["ModelSummary"]["properties"]
    for key in ("loss", "penalty", "created_at", "classes", "task"):
        assert model[key] == summary[key], key
    assert model["created_at"]["format"] == "date-time"
    assert model["coef"]["items"]["items"]["type"] == "number"  # [n_outputs][n_features]
    assert model["intercept"]["items"]["type"] == "number"  # [n_outputs]
    assert model["loss"]["$ref"].endswith("/TrainableLoss")
    assert model["penalty"]["$ref"].endswith("/Penalty")
    train = schemas["TrainRequest"]["properties"]
    assert train["loss"] == {k: v for k, v in model["loss"].items() if k != "description"} | {
        "description": train["loss"]["description"]
    }
    l2 = schemas["L2Penalty"]["properties"]
    assert set(l2) == {"name", "alpha"}  # no l1_ratio echoed for l2
    stream = _doc()["paths"]["/v1/train/stream"]["post"]["responses"]["200"]["content"]
    events = stream["text/event-stream"]["x-sse-events"]
    assert {k: v["$ref"].rsplit("/", 1)[-1] for k, v in events.items()} == {
        "progress": "TrainProgress",
        "model": "Model",
        "error": "ErrorResponse",
    }
