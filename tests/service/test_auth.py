"""API keys: 401 without or with an unknown key, 403 without the scope, 429 over the rate,
evaluate open unless locked, keys never in the logs, CORS only when configured."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.keys import new_key
from service.settings import Settings
from tests.service.conftest import Client

READER, READER_ENTRY = new_key("reader", ["read"])
TRAINER, TRAINER_ENTRY = new_key("trainer", ["train", "read"])
ADMIN, ADMIN_ENTRY = new_key("admin", ["admin"])
SLOW, SLOW_ENTRY = new_key("slow", ["evaluate"], per_minute=2)
BODY = {"task": "regression", "loss": {"name": "l2"}, "X": [[0.0], [1.0]], "y": [0.0, 1.0]}
EVAL = {"loss": {"name": "l1"}, "prediction": [1.0], "target": [0.0]}


def _client(tmp_path: Path, **overrides: Any) -> Client:
    keys = [READER_ENTRY, TRAINER_ENTRY, ADMIN_ENTRY, SLOW_ENTRY]
    settings = Settings(data_dir=tmp_path, database_url=None, api_keys=keys, **overrides)
    return Client(create_app(settings))


@pytest.fixture
def secured(tmp_path: Path) -> Any:
    c = _client(tmp_path)
    yield c
    c.close()


def _h(key: str, bearer: bool = False) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"} if bearer else {"x-api-key": key}


def test_scopes_and_status_codes(secured: Client) -> None:
    r = secured.post("/v1/train", json=BODY)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"
    assert secured.post("/v1/train", json=BODY, headers=_h("lk_wrong")).status_code == 401
    assert secured.post("/v1/train", json=BODY, headers=_h(READER)).status_code == 403
    trained = secured.post("/v1/train", json=BODY, headers=_h(TRAINER, bearer=True))
    assert trained.status_code == 200, trained.text
    model_id = trained.json()["model_id"]
    assert secured.get("/v1/models").status_code == 401
    assert secured.get("/v1/models", headers=_h(READER)).status_code == 200
    assert secured.get(f"/v1/models/{model_id}", headers=_h(READER)).status_code == 200
    rows = {"X": [[0.5]]}
    assert (
        secured.post(f"/v1/models/{model_id}/predict", json=rows, headers=_h(READER)).status_code
        == 200
    )
    assert (
        secured.request("DELETE", f"/v1/models/{model_id}", headers=_h(TRAINER)).status_code == 403
    )
    assert secured.request("DELETE", f"/v1/models/{model_id}", headers=_h(ADMIN)).status_code == 204
    # evaluate is open by default, even with keys configured; health never needs one
    assert secured.post("/v1/evaluate", json=EVAL).status_code == 200
    assert secured.get("/healthz").status_code == 200


def test_evaluate_can_be_locked(tmp_path: Path) -> None:
    c = _client(tmp_path, evaluate_open=False)
    try:
        assert c.post("/v1/evaluate", json=EVAL).status_code == 401
        assert c.get("/v1/losses").status_code == 401
        assert c.post("/v1/evaluate", json=EVAL, headers=_h(READER)).status_code == 403
        assert c.post("/v1/evaluate", json=EVAL, headers=_h(ADMIN)).status_code == 200
    finally:
        c.close()


def test_rate_limit_per_key(secured: Client) -> None:
    codes = [
        secured.post("/v1/evaluate", json=EVAL, headers=_h(SLOW)).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    r = secured.post("/v1/evaluate", json=EVAL, headers=_h(SLOW))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    # another key, and anonymous evaluate, are not affected
    assert secured.post("/v1/evaluate", json=EVAL).status_code == 200


def test_keys_never_reach_the_logs(secured: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        secured.post("/v1/train", json=BODY, headers=_h(TRAINER))
        secured.post("/v1/train", json=BODY, headers=_h("lk_not-a-key-" + "x" * 20))
        secured.post("/v1/train", json={**BODY, "y": [1.0]}, headers=_h(TRAINER, bearer=True))
    text = caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert TRAINER not in text and "not-a-key" not in text


def test_the_contract_declares_the_schemes() -> None:
    doc = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key.",
    }
    assert schemes["Bearer"]["scheme"] == "bearer"
    train = doc["paths"]["/v1/train"]["post"]
    assert train["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert {"401", "403", "429"} <= set(train["responses"])
    assert {} in doc["paths"]["/v1/evaluate"]["post"]["security"]
    assert "security" not in doc["paths"]["/healthz"]["get"]


def test_cors_off_by_default_and_configurable(tmp_path: Path) -> None:
    off = Client(create_app(Settings(data_dir=tmp_path, database_url=None)))
    on = Client(
        create_app(
            Settings(data_dir=tmp_path, database_url=None, cors_origins="https://app.example")
        )
    )
    try:
        pre = {"origin": "https://app.example", "access-control-request-method": "POST"}
        assert (
            "access-control-allow-origin"
            not in off.request("OPTIONS", "/v1/evaluate", headers=pre).headers
        )
        r = on.request(
            "OPTIONS",
            "/v1/evaluate",
            headers={**pre, "access-control-request-headers": "x-api-key"},
        )
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        other = on.request(
            "OPTIONS", "/v1/evaluate", headers={**pre, "origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    finally:
        off.close()
        on.close()


def test_the_key_tool_prints_a_key_and_its_entry(capsys: pytest.CaptureFixture[str]) -> None:
    from service.auth import sha256_hex
    from service.keys import main

    assert main(["new", "ci", "train", "read"]) == 0
    out = capsys.readouterr().out.splitlines()
    key = out[0].split(": ", 1)[1]
    entry = json.loads(out[1].split(": ", 1)[1])
    assert entry["sha256"] == sha256_hex(key) and key not in out[1]
    assert main(["new", "ci", "root"]) == 2
