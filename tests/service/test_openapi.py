"""The committed OpenAPI document is current, and its operations are well described."""

from __future__ import annotations

import json
from pathlib import Path

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
    loss = schemas["EvaluateRequest"]["properties"]["loss"]
    assert loss["discriminator"]["propertyName"] == "name"
    assert "mse" in loss["discriminator"]["mapping"]
    assert schemas["ElasticNetNorm"]["properties"]["l1_ratio"]["maximum"] == 1.0
