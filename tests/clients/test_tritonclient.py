"""A client nobody here wrote: ``tritonclient[http]`` (PyPI) against a live server's ``/v2``.

Models are trained through ``/v1/train`` on the same server (access control on: every call
carries the key through tritonclient's ``headers=``); ``infer`` in JSON and in the binary
tensor extension, as tritonclient encodes and decodes them, must answer what
``/v1/models/{id}/predict`` answers for the same rows.

tritonclient.http imports gevent and geventhttpclient; neither monkey-patches anything at
import (checked below), so the other tests of the session run as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

import losscore
from tests.clients.conftest import API_KEY
from tests.service.test_inference import MODELS, ROWS, X_TRAIN

pytestmark = pytest.mark.slow

AUTH = {"X-API-Key": API_KEY}


def _auth() -> dict[str, str]:
    """The key as a fresh dict per call: tritonclient adds its own headers (e.g.
    Inference-Header-Content-Length) to the dict it is given."""
    return dict(AUTH)


def test_importing_tritonclient_patches_nothing() -> None:
    import socket
    import threading

    import gevent.monkey

    assert not gevent.monkey.saved  # nothing was monkey-patched
    assert not gevent.monkey.is_module_patched("socket")
    assert not gevent.monkey.is_module_patched("threading")
    assert socket.socket.__module__ == "socket" and threading.Lock is not None


@pytest.fixture(scope="module")
def triton(server: str) -> Iterator[Any]:
    client = httpclient.InferenceServerClient(url=server.removeprefix("http://"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def trained(server: str) -> dict[str, str]:
    ids = {}
    with httpx.Client(base_url=server, headers=_auth(), timeout=120) as http:
        for name, (body, _, _) in MODELS.items():
            r = http.post("/v1/train", json={**body, "X": X_TRAIN.tolist()})
            assert r.status_code == 200, r.text
            ids[name] = r.json()["model_id"]
    return ids


def _v1(server: str, model_id: str, X: Any) -> dict[str, Any]:
    """/v1/models/{id}/predict's answer, arrays as NumPy (a tensor request answers tensors)."""
    r = httpx.post(
        f"{server}/v1/models/{model_id}/predict", json={"X": X}, headers=_auth(), timeout=60
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    for key in ("decision_function", "probability"):
        value = out[key]
        if isinstance(value, dict):
            out[key] = np.asarray(value["data"], dtype=float).reshape(value["shape"])
        elif value is not None:
            out[key] = np.asarray(value, dtype=float)
    return out


def _labels(values: np.ndarray) -> list[Any]:
    """tritonclient's labels as JSON would hold them (BYTES arrive as bytes or str)."""
    return [v.decode() if isinstance(v, bytes) else v for v in values.tolist()]


def test_server_health_and_metadata(triton: Any) -> None:
    assert triton.is_server_live()
    assert triton.is_server_ready()
    meta = triton.get_server_metadata()
    assert meta["name"] == "losscore" and meta["version"] == losscore.__version__
    assert "binary_tensor_data" in meta["extensions"]


def test_model_metadata_and_readiness(triton: Any, trained: dict[str, str]) -> None:
    for name, model_id in trained.items():
        assert triton.is_model_ready(model_id, headers=_auth())
        assert triton.is_model_ready(model_id, model_version="1", headers=_auth())
        assert not triton.is_model_ready(model_id, headers={})  # no key: 401
        meta = triton.get_model_metadata(model_id, headers=_auth())
        assert meta["name"] == model_id and meta["versions"] == ["1"]
        assert meta["inputs"] == [{"name": "X", "datatype": "FP64", "shape": [-1, 3]}]
        assert [o["name"] for o in meta["outputs"]] == MODELS[name][1]
        assert meta["outputs"][0]["datatype"] == MODELS[name][2]
    assert not triton.is_model_ready("no-such-model", headers=_auth())


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("binary_in", [False, True])
@pytest.mark.parametrize("binary_out", [False, True])
def test_infer_equals_v1_predict(
    triton: Any,
    server: str,
    trained: dict[str, str],
    name: str,
    binary_in: bool,
    binary_out: bool,
) -> None:
    model_id = trained[name]
    outputs = MODELS[name][1]
    want = _v1(server, model_id, ROWS.tolist())
    x = httpclient.InferInput("X", list(ROWS.shape), "FP64")
    x.set_data_from_numpy(ROWS, binary_data=binary_in)
    requested = [httpclient.InferRequestedOutput(o, binary_data=binary_out) for o in outputs]
    result = triton.infer(
        model_id, [x], outputs=requested, request_id=f"tc-{name}", headers=_auth()
    )
    response = result.get_response()
    assert response["model_name"] == model_id and response["id"] == f"tc-{name}"
    assert _labels(result.as_numpy("prediction")) == want["prediction"]
    scores = result.as_numpy("decision_function")
    assert scores.dtype == np.float64
    np.testing.assert_array_equal(scores, want["decision_function"])
    if "probabilities" in outputs:
        np.testing.assert_array_equal(result.as_numpy("probabilities"), want["probability"])
    else:
        assert want["probability"] is None


@pytest.mark.parametrize("name", ["log_loss", "multiclass", "booleans"])
def test_fp32_and_default_outputs(
    triton: Any, server: str, trained: dict[str, str], name: str
) -> None:
    """No outputs named: tritonclient asks for every output as binary; FP32 rows equal v1's
    float32 tensor."""
    model_id = trained[name]
    rows = ROWS.astype(np.float32)
    want = _v1(
        server, model_id, {"shape": [6, 3], "dtype": "float32", "data": rows.ravel().tolist()}
    )
    for binary_in in (False, True):
        x = httpclient.InferInput("X", [6, 3], "FP32")
        x.set_data_from_numpy(rows, binary_data=binary_in)
        result = triton.infer(model_id, [x], headers=_auth())
        names = [o["name"] for o in result.get_response()["outputs"]]
        assert names == MODELS[name][1]
        assert _labels(result.as_numpy("prediction")) == want["prediction"]
        np.testing.assert_array_equal(
            result.as_numpy("decision_function"), want["decision_function"]
        )
        if "probabilities" in names:
            np.testing.assert_array_equal(result.as_numpy("probabilities"), want["probability"])


def test_errors_reach_tritonclient_as_messages(triton: Any, trained: dict[str, str]) -> None:
    x = httpclient.InferInput("X", [6, 3], "FP64")
    x.set_data_from_numpy(ROWS, binary_data=True)
    with pytest.raises(InferenceServerException) as unknown:
        triton.infer("no-such-model", [x], headers=_auth())
    assert unknown.value.status() == "404"
    assert "no model with id 'no-such-model'" in unknown.value.message()
    with pytest.raises(InferenceServerException) as keyless:
        triton.infer(trained["hinge"], [x])
    assert keyless.value.status() == "401" and "API key" in keyless.value.message()
    narrow = httpclient.InferInput("X", [6, 2], "FP64")
    narrow.set_data_from_numpy(ROWS[:, :2].copy(), binary_data=True)
    with pytest.raises(InferenceServerException) as wrong:
        triton.infer(trained["hinge"], [narrow], headers=_auth())
    assert wrong.value.status() == "400"
    assert "has 2 features but the model was fitted on 3" in wrong.value.message()
    ints = httpclient.InferInput("X", [6, 3], "INT64")
    ints.set_data_from_numpy(ROWS.astype(np.int64), binary_data=False)
    with pytest.raises(InferenceServerException) as datatype:
        triton.infer(trained["hinge"], [ints], headers=_auth())
    assert datatype.value.status() == "400" and "FP32' or 'FP64" in str(datatype.value)
    with pytest.raises(InferenceServerException) as metadata:
        triton.get_model_metadata("no-such-model", headers=_auth())
    assert metadata.value.status() == "404"
