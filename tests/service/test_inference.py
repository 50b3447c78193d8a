"""The Open Inference Protocol routes (``/v2``) in-process: metadata, JSON and binary
inference equal to ``/v1/models/{id}/predict`` (the oracle: the v1 route on the same rows),
and every invalid request a 4xx ``{"error": message}`` naming the problem.

The binary bodies here are written and read by this module, from the protocol's text; the
third-party client (tritonclient) drives a live server in ``tests/clients/test_tritonclient.py``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import losscore
from service.app import create_app
from service.keys import new_key
from service.settings import Settings
from tests.service.conftest import Client

HEADER = "Inference-Header-Content-Length"
RNG = np.random.default_rng(7)
X_TRAIN = RNG.normal(size=(40, 3))
SCORE = X_TRAIN @ [1.0, -2.0, 0.5]
ROWS = RNG.normal(size=(6, 3))

# name → (train body, outputs the model has, datatype of `prediction`)
MODELS: dict[str, tuple[dict[str, Any], list[str], str]] = {
    "regression": (
        {"task": "regression", "loss": {"name": "huber"}, "y": (SCORE + 0.3).tolist()},
        ["prediction", "decision_function"],
        "FP64",
    ),
    "log_loss": (
        {
            "task": "classification",
            "loss": {"name": "log_loss"},
            "y": np.where(SCORE > 0, "yes", "no").tolist(),
        },
        ["prediction", "decision_function", "probabilities"],
        "BYTES",
    ),
    "hinge": (
        {
            "task": "classification",
            "loss": {"name": "hinge"},
            "y": np.where(SCORE > 0.2, 1, -1).tolist(),
        },
        ["prediction", "decision_function"],
        "INT64",
    ),
    "multiclass": (
        {
            "task": "classification",
            "loss": {"name": "softmax_cross_entropy"},
            "y": np.digitize(SCORE, [-1.0, 1.0]).tolist(),
        },
        ["prediction", "decision_function", "probabilities"],
        "INT64",
    ),
    "booleans": (
        {"task": "classification", "loss": {"name": "hinge"}, "y": (SCORE > 0).tolist()},
        ["prediction", "decision_function"],
        "BOOL",
    ),
}


@pytest.fixture(scope="module")
def ids(client: Client) -> dict[str, str]:
    out = {}
    for name, (body, _, _) in MODELS.items():
        r = client.post("/v1/train", json={**body, "X": X_TRAIN.tolist()})
        assert r.status_code == 200, r.text
        out[name] = r.json()["model_id"]
    return out


def _v1(client: Client, model_id: str, X: Any) -> dict[str, Any]:
    """v1 predict's answer, its arrays as nested lists whatever encoding it used (a tensor
    object for a tensor request)."""
    r = client.post(f"/v1/models/{model_id}/predict", json={"X": X})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    for key in ("decision_function", "probability"):
        value = body[key]
        if isinstance(value, dict):
            data = np.asarray([float(v) for v in value["data"]])  # "Infinity" spelled out
            body[key] = data.reshape(value["shape"]).tolist()
    return body


def _json_input(rows: np.ndarray, datatype: str = "FP64", nested: bool = False) -> dict[str, Any]:
    data = rows.tolist() if nested else rows.reshape(-1).tolist()
    return {"name": "X", "shape": list(rows.shape), "datatype": datatype, "data": data}


def _binary_request(
    header: dict[str, Any], *tensors: bytes, content_type: str | None = None
) -> dict[str, Any]:
    """httpx arguments of a binary-extension request: the JSON header, then the bytes."""
    head = json.dumps(header).encode()
    headers = {HEADER: str(len(head))}
    if content_type is not None:
        headers["content-type"] = content_type
    return {"content": head + b"".join(tensors), "headers": headers}


def _decode(r: httpx.Response) -> dict[str, Any]:
    """An inference response, JSON or binary, with every output's values as a NumPy array."""
    assert r.status_code == 200, r.text
    if HEADER.lower() not in r.headers:
        assert r.headers["content-type"] == "application/json"
        body: dict[str, Any] = r.json()
        for out in body["outputs"]:
            out["values"] = np.asarray(out["data"]).reshape(out["shape"])
        return body
    assert r.headers["content-type"] == "application/octet-stream"
    n = int(r.headers[HEADER])
    body = json.loads(r.content[:n])
    offset = n
    for out in body["outputs"]:
        if "data" in out:
            out["values"] = np.asarray(out["data"]).reshape(out["shape"])
            continue
        size = out["parameters"]["binary_data_size"]
        raw = r.content[offset : offset + size]
        offset += size
        out["values"] = _from_bytes(raw, out["datatype"]).reshape(out["shape"])
    assert offset == len(r.content)
    return body


def _from_bytes(raw: bytes, datatype: str) -> np.ndarray:
    if datatype == "BYTES":  # each element: a 4-byte little-endian length, then UTF-8 bytes
        items, i = [], 0
        while i < len(raw):
            (length,) = struct.unpack_from("<I", raw, i)
            items.append(raw[i + 4 : i + 4 + length].decode())
            i += 4 + length
        return np.asarray(items)
    dtype = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8", "BOOL": "?"}[datatype]
    return np.frombuffer(raw, dtype=dtype)


def _check_equal(got: dict[str, Any], want: dict[str, Any], outputs: list[str]) -> None:
    """v2 outputs against v1 predict's: identical values (the same computation)."""
    by_name = {o["name"]: o for o in got["outputs"]}
    assert list(by_name) == outputs
    pred = by_name["prediction"]["values"]
    assert pred.tolist() == want["prediction"]
    scores = by_name["decision_function"]["values"]
    assert scores.tolist() == want["decision_function"]
    if "probabilities" in by_name:
        assert by_name["probabilities"]["values"].tolist() == want["probability"]
    else:
        assert want["probability"] is None


def _error(r: httpx.Response, status: int, *words: str) -> str:
    """The protocol's error: *status*, JSON ``{"error": message}`` only, *words* in it."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    for word in words:
        assert word in body["error"], (word, body["error"])
    message: str = body["error"]
    return message


# -- server ---------------------------------------------------------------------------------------


def test_health_and_server_metadata(client: Client) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    meta = client.get("/v2").json()
    assert meta == {
        "name": "losscore",
        "version": losscore.__version__,
        "extensions": ["binary_tensor_data"],
    }


def test_ready_is_false_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    broken = Client(create_app(Settings(data_dir=tmp_path / "a-file" / "sub", database_url=None)))
    try:
        r = broken.get("/v2/health/ready")
        assert r.status_code == 503 and r.json() == {"ready": False}
        assert broken.get("/v2/health/live").json() == {"live": True}
    finally:
        broken.close()


# -- model metadata -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_model_metadata_follows_the_stored_model(
    client: Client, ids: dict[str, str], name: str
) -> None:
    model_id = ids[name]
    model = client.get(f"/v1/models/{model_id}").json()
    _, outputs, label_type = MODELS[name]
    meta = client.get(f"/v2/models/{model_id}").json()
    assert meta["name"] == model_id and meta["versions"] == ["1"]
    assert meta["platform"] == "losscore_linear"
    assert meta["inputs"] == [{"name": "X", "datatype": "FP64", "shape": [-1, 3]}]
    want = [
        {"name": "prediction", "datatype": label_type, "shape": [-1]},
        {"name": "decision_function", "datatype": "FP64", "shape": [-1, model["n_outputs"]]},
    ]
    if "probabilities" in outputs:
        k = len(model["classes"])
        want.append({"name": "probabilities", "datatype": "FP64", "shape": [-1, k]})
    assert meta["outputs"] == want
    assert client.get(f"/v2/models/{model_id}/versions/1").json() == meta
    ready = client.get(f"/v2/models/{model_id}/ready")
    assert ready.status_code == 200 and ready.json() == {"name": model_id, "ready": True}


# -- inference ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("datatype", "nested"), [("FP64", False), ("FP64", True), ("FP32", False)])
def test_json_infer_equals_v1_predict(
    client: Client, ids: dict[str, str], name: str, datatype: str, nested: bool
) -> None:
    model_id = ids[name]
    rows = ROWS.astype(np.float32) if datatype == "FP32" else ROWS
    body = {"id": f"req-{name}", "inputs": [_json_input(rows, datatype, nested)]}
    r = client.post(f"/v2/models/{model_id}/infer", json=body)
    got = _decode(r)
    assert got["model_name"] == model_id and got["model_version"] == "1"
    assert got["id"] == f"req-{name}"
    v1_rows: Any = (
        {"shape": [6, 3], "dtype": "float32", "data": rows.reshape(-1).tolist()}
        if datatype == "FP32"
        else rows.tolist()
    )
    _check_equal(got, _v1(client, model_id, v1_rows), MODELS[name][1])
    by_name = {o["name"]: o for o in got["outputs"]}
    assert by_name["prediction"]["datatype"] == MODELS[name][2]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "application/json"])
def test_binary_infer_equals_v1_predict(
    client: Client, ids: dict[str, str], name: str, content_type: str | None
) -> None:
    model_id = ids[name]
    for datatype, dtype in (("FP64", "<f8"), ("FP32", "<f4")):
        raw = ROWS.astype(dtype).tobytes()
        head = {
            "inputs": [
                {
                    "name": "X",
                    "shape": [6, 3],
                    "datatype": datatype,
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
        r = client.post(
            f"/v2/models/{model_id}/infer", **_binary_request(head, raw, content_type=content_type)
        )
        got = _decode(r)
        assert all("data" not in o for o in got["outputs"])
        v1_rows = {"shape": [6, 3], "dtype": np.dtype(dtype).name, "data": ROWS.astype(dtype)}
        v1_rows["data"] = v1_rows["data"].reshape(-1).tolist()
        _check_equal(got, _v1(client, model_id, v1_rows), MODELS[name][1])


def test_outputs_chosen_and_mixed_json_and_binary(client: Client, ids: dict[str, str]) -> None:
    model_id = ids["multiclass"]
    want = _v1(client, model_id, ROWS.tolist())
    body = {
        "inputs": [_json_input(ROWS)],
        "outputs": [
            {"name": "probabilities", "parameters": {"binary_data": True}},
            {"name": "prediction"},
        ],
    }
    got = _decode(client.post(f"/v2/models/{model_id}/infer", json=body))
    assert [o["name"] for o in got["outputs"]] == ["probabilities", "prediction"]
    probs, pred = got["outputs"]
    assert probs["parameters"] == {"binary_data_size": 6 * 3 * 8} and "data" not in probs
    assert probs["values"].tolist() == want["probability"]
    assert pred["data"] == want["prediction"] and "id" not in got
    # binary_data false on one output overrides the request's binary_data_output
    body = {
        "inputs": [_json_input(ROWS)],
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "decision_function", "parameters": {"binary_data": False}}],
    }
    r = client.post(f"/v2/models/{model_id}/infer", json=body)
    assert r.headers["content-type"] == "application/json"
    assert r.json()["outputs"][0]["data"] == np.ravel(want["decision_function"]).tolist()


def test_versioned_paths(client: Client, ids: dict[str, str]) -> None:
    model_id = ids["hinge"]
    body = {"inputs": [_json_input(ROWS)]}
    v1 = client.post(f"/v2/models/{model_id}/infer", json=body).json()
    assert client.post(f"/v2/models/{model_id}/versions/1/infer", json=body).json() == v1
    assert client.get(f"/v2/models/{model_id}/versions/1/ready").status_code == 200
    for r in (
        client.get(f"/v2/models/{model_id}/versions/2"),
        client.get(f"/v2/models/{model_id}/versions/2/ready"),
        client.post(f"/v2/models/{model_id}/versions/0/infer", json=body),
    ):
        _error(r, 404, "no version")


def test_a_score_beyond_float64_is_400_in_json_and_inf_in_bytes(
    client: Client, ids: dict[str, str]
) -> None:
    big = np.array([[0.1, 0.2, 0.3], [1e308, -1e308, 1e308]])
    body = {"inputs": [_json_input(big)]}
    _error(
        client.post(f"/v2/models/{ids['regression']}/infer", json=body),
        400,
        "X[1]",
        "leaves the float64 range",
    )
    model_id = ids["hinge"]
    _error(
        client.post(f"/v2/models/{model_id}/infer", json=body),
        400,
        "row 1",
        "binary_data",
    )
    v1 = _v1(client, model_id, big.tolist())
    body["outputs"] = [{"name": "decision_function", "parameters": {"binary_data": True}}]
    got = _decode(client.post(f"/v2/models/{model_id}/infer", json=body))
    scores = got["outputs"][0]["values"]
    assert np.isinf(v1["decision_function"][1][0])
    assert scores.tolist() == v1["decision_function"]


# -- errors -------------------------------------------------------------------------------------


def _input(**changes: Any) -> dict[str, Any]:
    return {**_json_input(ROWS[:2]), **changes}


BAD_JSON: list[tuple[str, Any, str]] = [
    ("no inputs", {"inputs": []}, "inputs"),
    ("no inputs field", {}, "inputs: is required"),
    ("two inputs", {"inputs": [_input(), _input(name="Y")]}, "one input 'X', got 2"),
    ("unknown input name", {"inputs": [_input(name="features")]}, "unknown input 'features'"),
    ("wrong datatype", {"inputs": [_input(datatype="INT64")]}, "inputs[0].datatype"),
    ("bytes datatype", {"inputs": [_input(datatype="BYTES")]}, "'FP32' or 'FP64'"),
    ("data too short", {"inputs": [_input(data=[1.0] * 5)]}, "has 5 values but shape [2, 3]"),
    ("data too long", {"inputs": [_input(data=[1.0] * 7)]}, "has 7 values but shape [2, 3]"),
    ("feature count", {"inputs": [_input(shape=[3, 2])]}, "has 2 features but the model"),
    ("1-d shape", {"inputs": [_input(shape=[6])]}, "X.shape: must be [n, 3]"),
    ("3-d shape", {"inputs": [_input(shape=[1, 2, 3])]}, "X.shape: must be [n, 3]"),
    ("negative dimension", {"inputs": [_input(shape=[-2, 3])]}, "shape"),
    ("no data", {"inputs": [{k: v for k, v in _input().items() if k != "data"}]}, "X.data"),
    ("ragged data", {"inputs": [_input(data=[[1.0, 2.0, 3.0], [1.0, 2.0]])]}, "ragged"),
    ("booleans in data", {"inputs": [_input(data=[True] * 6)]}, "inputs[0].data"),
    ("strings in data", {"inputs": [_input(data=["1"] * 6)]}, "inputs[0].data"),
    ("FP32 overflow", {"inputs": [_input(datatype="FP32", data=[1e39] * 6)]}, "overflows FP32"),
    ("zero rows", {"inputs": [_input(shape=[0, 3], data=[])]}, "no rows"),
    ("both forms", {"inputs": [_input(parameters={"binary_data_size": 48})]}, "not both"),
    ("unknown field", {"inputs": [_input()], "extra": 1}, "extra: is not a known field"),
    ("unknown output", {"inputs": [_input()], "outputs": [{"name": "y"}]}, "unknown output 'y'"),
    (
        "twice the same output",
        {"inputs": [_input()], "outputs": [{"name": "prediction"}, {"name": "prediction"}]},
        "requested twice",
    ),
    (
        "classification extension",
        {
            "inputs": [_input()],
            "outputs": [{"name": "prediction", "parameters": {"classification": 2}}],
        },
        "classification extension is not supported",
    ),
    (
        "binary_data not a boolean",
        {"inputs": [_input()], "parameters": {"binary_data_output": "yes"}},
        "binary_data_output",
    ),
]


@pytest.mark.parametrize(("case", "body", "words"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_invalid_json_requests_are_400_naming_the_problem(
    client: Client, ids: dict[str, str], case: str, body: Any, words: str
) -> None:
    r = client.post(f"/v2/models/{ids['log_loss']}/infer", json=body)
    _error(r, 400, words)


def test_probabilities_of_a_model_without_them_is_400(client: Client, ids: dict[str, str]) -> None:
    body = {"inputs": [_input()], "outputs": [{"name": "probabilities"}]}
    r = client.post(f"/v2/models/{ids['hinge']}/infer", json=body)
    _error(r, 400, "unknown output 'probabilities'", "'prediction', 'decision_function'")


def _binary_head(size: int, datatype: str = "FP64", shape: list[int] | None = None) -> Any:
    return {
        "inputs": [
            {
                "name": "X",
                "shape": shape or [2, 3],
                "datatype": datatype,
                "parameters": {"binary_data_size": size},
            }
        ]
    }


BAD_BINARY: list[tuple[str, dict[str, Any], str]] = [
    (
        "size against shape",
        _binary_request(_binary_head(40), b"\0" * 40),
        "binary_data_size: is 40 bytes but shape [2, 3] of FP64 needs 48",
    ),
    (
        "fewer bytes than the size",
        _binary_request(_binary_head(48), b"\0" * 40),
        "40 bytes follow the JSON header",
    ),
    (
        "more bytes than the size",
        _binary_request(_binary_head(48), b"\0" * 56),
        "56 bytes follow the JSON header",
    ),
    (
        "bytes but no binary input",
        _binary_request({"inputs": [_input()]}, b"\0" * 8),
        "no input has parameters.binary_data_size",
    ),
    (
        "FP32 size",
        _binary_request(_binary_head(48, "FP32"), b"\0" * 48),
        "of FP32 needs 24",
    ),
    (
        "NaN in the bytes",
        _binary_request(_binary_head(48), np.array([0, 0, np.nan, 0, 0, 0], "<f8").tobytes()),
        "must be finite, found NaN",
    ),
    (
        "header length beyond the body",
        {"content": b'{"inputs": []}', "headers": {HEADER: "1000"}},
        "Inference-Header-Content-Length: is 1000 bytes but the body has only 14",
    ),
    (
        "header length not a number",
        {"content": b'{"inputs": []}', "headers": {HEADER: "12abc"}},
        "must be a byte count",
    ),
    (
        "header length cuts the JSON",
        {"content": b'{"inputs": []}', "headers": {HEADER: "5"}},
        "malformed JSON",
    ),
]


@pytest.mark.parametrize(("case", "kwargs", "words"), BAD_BINARY, ids=[c[0] for c in BAD_BINARY])
def test_invalid_binary_requests_are_400_naming_the_problem(
    client: Client, ids: dict[str, str], case: str, kwargs: dict[str, Any], words: str
) -> None:
    r = client.post(f"/v2/models/{ids['regression']}/infer", **kwargs)
    _error(r, 400, words)


def test_unknown_model_malformed_json_and_content_types(
    client: Client, ids: dict[str, str]
) -> None:
    body = {"inputs": [_input()]}
    for r in (
        client.get("/v2/models/no-such-model"),
        client.get("/v2/models/no-such-model/ready"),
        client.post("/v2/models/no-such-model/infer", json=body),
    ):
        _error(r, 404, "no model with id 'no-such-model'")
    url = f"/v2/models/{ids['regression']}/infer"
    _error(client.post(url, content=b'{"inputs": [}'), 400, "malformed JSON")
    dup = b'{"inputs": [], "inputs": []}'
    _error(client.post(url, content=dup), 400, "malformed JSON", "duplicate")
    _error(
        client.post(url, content=b"{}", headers={"content-type": "text/plain"}), 415, "text/plain"
    )
    octets = {"content-type": "application/octet-stream"}
    _error(client.post(url, content=b"{}", headers=octets), 415, HEADER)
    gzip = {"content-encoding": "gzip"}
    _error(client.post(url, content=b"{}", headers=gzip), 415, "Content-Encoding 'gzip'")
    _error(client.get(url), 405)
    _error(client.get("/v2/no-such-route"), 404)


# -- limits, the CPU gate, keys -----------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Client]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=None,
        max_body_bytes=2048,
        max_array_elements=12,
        max_request_elements=40,
        max_cpu_jobs=1,
        max_cpu_queue=0,
    )
    c = Client(create_app(settings))
    yield c
    c.close()


def test_limits_and_the_cpu_gate(limited: Client) -> None:
    train = {**MODELS["regression"][0], "X": X_TRAIN[:5].tolist()}
    train["y"] = train["y"][:5]
    model_id = limited.post("/v1/train", json=train).json()["model_id"]
    url = f"/v2/models/{model_id}/infer"
    ok = {"inputs": [_json_input(ROWS[:4])]}
    assert limited.post(url, json=ok).status_code == 200
    # more rows × features than LOSSCORE_MAX_ARRAY_ELEMENTS, before any array is built
    huge = {"inputs": [{"name": "X", "shape": [10**12, 3], "datatype": "FP64", "data": [0.0]}]}
    _error(limited.post(url, json=huge), 400, "more than the limit of 12")
    five = {"inputs": [_json_input(ROWS[:5])]}
    _error(limited.post(url, json=five), 400, "15 elements, more than the limit of 12")
    # the comma count before parsing (LOSSCORE_MAX_REQUEST_ELEMENTS)
    commas = {"inputs": [_json_input(ROWS[:2])], "id": "," * 100}
    _error(limited.post(url, json=commas), 400, "LOSSCORE_MAX_REQUEST_ELEMENTS")
    # the body size, binary form too (LOSSCORE_MAX_BODY_BYTES)
    head = _binary_head(4096, shape=[4, 3])
    r = limited.post(url, **_binary_request(head, b"\0" * 4096))
    _error(r, 413, "LOSSCORE_MAX_BODY_BYTES")
    # the CPU gate: one slot, no queue; taken, inference is a 503 with Retry-After
    gate = limited.app.state.cpu_gate
    ticket = gate.admit()
    try:
        r = limited.post(url, json=ok)
        _error(r, 503, "capacity")
        assert r.headers["retry-after"] == "1"
    finally:
        ticket.release()
    assert limited.post(url, json=ok).status_code == 200


READER, READER_ENTRY = new_key("reader", ["read"])
EVALUATOR, EVALUATOR_ENTRY = new_key("evaluator", ["evaluate"])
TRAINER, TRAINER_ENTRY = new_key("trainer", ["train"])


def test_model_routes_need_the_read_scope(tmp_path: Path) -> None:
    keys = [READER_ENTRY, EVALUATOR_ENTRY, TRAINER_ENTRY]
    c = Client(create_app(Settings(data_dir=tmp_path, database_url=None, api_keys=keys)))
    try:
        train = {**MODELS["hinge"][0], "X": X_TRAIN.tolist()}
        model_id = c.post("/v1/train", json=train, headers={"x-api-key": TRAINER}).json()[
            "model_id"
        ]
        for path in ("/v2", "/v2/health/live", "/v2/health/ready"):
            assert c.get(path).status_code == 200, path  # open, as /healthz and /readyz
        body = {"inputs": [_json_input(ROWS)]}
        calls = [
            ("GET", f"/v2/models/{model_id}", None),
            ("GET", f"/v2/models/{model_id}/ready", None),
            ("POST", f"/v2/models/{model_id}/infer", body),
        ]
        for method, path, payload in calls:
            r = c.request(method, path, json=payload)
            _error(r, 401, "API key")
            assert r.headers["www-authenticate"] == "Bearer"
            r = c.request(method, path, json=payload, headers={"x-api-key": EVALUATOR})
            _error(r, 403, "lacks the scope 'read'")
            bearer = {"authorization": f"Bearer {READER}"}
            assert c.request(method, path, json=payload, headers=bearer).status_code == 200
    finally:
        c.close()
