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
    "server_live",
    "server_ready",
    "server_metadata",
    "model_metadata",
    "model_ready",
    "model_infer",
}
# the Open Inference Protocol's routes (/v2): its error body, and 400 (not 422) for bad input
PROTOCOL_IDS = {
    "server_live",
    "server_ready",
    "server_metadata",
    "model_metadata",
    "model_ready",
    "model_infer",
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
            if op["operationId"] in PROTOCOL_IDS:
                assert path == "/v2" or path.startswith("/v2/"), path
                errors = [s for s in op["responses"] if s.startswith("4")]
                assert "422" not in errors, (path, method)
                assert "requestBody" not in op or "400" in errors, (path, method)
                for status in errors:
                    schema = op["responses"][status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/InferenceError"}
                continue
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
        "cv": "CVProgress",
        "model": "Model",
        "error": "ErrorResponse",
    }


def _validator(component: str) -> Any:
    import jsonschema_rs

    doc = _doc()
    root = {"components": doc["components"], "$ref": f"#/components/schemas/{component}"}
    return jsonschema_rs.validator_for(root)


def test_responses_conform_to_their_named_schemas(client: Any) -> None:
    """Real responses of each route (classification, multiclass, regression, overflow, the
    catalog) against the committed document's schemas (jsonschema-rs, draft 2020-12)."""
    cases: list[tuple[str, Any]] = [
        ("LossList", client.get("/v1/losses")),
        ("LossInfo", client.get("/v1/losses/huber")),
        ("CurveResponse", client.get("/v1/losses/exponential/curve?start=-800&stop=0&num=3")),
        (
            "EvaluateResponse",
            client.post(
                "/v1/evaluate",
                json={
                    "loss": {"name": "exponential"},
                    "prediction": [-1000.0, 0.0],
                    "target": [1, 1],
                    "reduction": "sum",
                },
            ),
        ),
    ]
    bodies = [
        {
            "task": "classification",
            "loss": {"name": "log_loss"},
            "X": [[0.0], [1.0], [2.0], [3.0]],
            "y": ["a", "a", "b", "b"],
            "penalty": {"name": "elastic_net", "alpha": 0.1},
        },
        {
            "task": "classification",
            "loss": {"name": "softmax_cross_entropy"},
            "X": [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]],
            "y": [0, 0, 1, 1, 2, 2],
        },
        {
            "task": "regression",
            "loss": {"name": "quantile", "q": 0.2},
            "penalty": {"name": "none"},
            "X": [[0.0], [1.0], [2.0]],
            "y": [0.5, 1.0, 3.0],
        },
    ]
    for body in bodies:
        trained = client.post("/v1/train", json=body)
        cases.append(("Model", trained))
        model_id = trained.json()["model_id"]
        cases.append(("Model", client.get(f"/v1/models/{model_id}")))
        rows = {"X": {"shape": [2, 1], "data": [0.5, 2.5]}}
        cases.append(("PredictResponse", client.post(f"/v1/models/{model_id}/predict", json=rows)))
    cases.append(("ModelList", client.get("/v1/models?limit=2")))
    for component, response in cases:
        assert response.status_code == 200, (component, response.text)
        errors = [e.message for e in _validator(component).iter_errors(response.json())]
        assert not errors, (component, errors[:3])
    # and the schemas say something: a flat coef is not a Model
    bad = {**cases[4][1].json(), "coef": [1.0]}
    assert not _validator("Model").is_valid(bad)
