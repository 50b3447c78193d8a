"""A Python client generated from the committed spec calls every endpoint of the app."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
import pytest

from tests.service.conftest import Client

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
PACKAGE = "losscore_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client")
    config = out / "config.json"
    config.write_text(
        json.dumps(
            {
                "package_name_override": PACKAGE,
                "content_type_overrides": {"image/svg+xml": "application/octet-stream"},
            }
        )
    )
    exe = Path(sys.executable).with_name("openapi-python-client")
    command = [str(exe) if exe.exists() else shutil.which("openapi-python-client") or "x"]
    result = subprocess.run(
        [
            *command,
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(out / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "will not be generated" not in result.stdout, result.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def sub(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.mark.slow
def test_every_endpoint_through_the_generated_client(generated: ModuleType, client: Client) -> None:
    api = f"{generated.__name__}.api"
    models = sub(generated, "models")
    types = sub(generated, "types")

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        gen = generated.Client(
            base_url="http://testserver",
            httpx_args={"transport": httpx.ASGITransport(app=client.app)},
        )
        async with gen as c:

            async def call(module: str, *args: Any, **kwargs: Any) -> Any:
                mod = importlib.import_module(f"{api}.{module}")
                response = await mod.asyncio_detailed(*args, client=c, **kwargs)
                assert response.status_code == 200, (module, response.content)
                return response

            out["healthz"] = (await call("health.healthz")).parsed
            out["readyz"] = (await call("health.readyz")).parsed
            out["metrics"] = (await call("health.metrics")).content
            out["list_losses"] = (await call("losses.list_losses")).parsed
            out["get_loss"] = (await call("losses.get_loss", "mse")).parsed
            out["loss_curve"] = (await call("losses.loss_curve", "huber", num=5, delta=2.0)).parsed
            out["plot"] = (await call("plots.plot_losses", names="l1,l2")).content
            out["list_norms"] = (await call("norms.list_norms")).parsed
            request = models.EvaluateRequest.from_dict(
                {
                    "loss": {"name": "huber", "delta": 1.0},
                    "prediction": [0.5, 3.0],
                    "target": [0.0, 0.0],
                }
            )
            out["evaluate"] = (await call("evaluate.evaluate", body=request)).parsed
            compare = models.CompareRequest.from_dict(
                {
                    "losses": [{"name": "l1"}, {"name": "l2"}],
                    "prediction": [0.5, 3.0],
                    "target": [0.0, 0.0],
                }
            )
            out["compare"] = (await call("evaluate.compare", body=compare)).parsed
            norm = models.NormEvaluateRequest.from_dict(
                {"norm": {"name": "l1"}, "x": [3.0, -0.5], "step": 1.0}
            )
            out["evaluate_norm"] = (await call("norms.evaluate_norm", body=norm)).parsed
            raw = np.array([1.0, -2.0, 0.0, 0.0]).tobytes()
            # bytes rather than a BinaryIO: httpx's AsyncClient needs a non-blocking body
            binary = types.File(payload=raw, mime_type="application/octet-stream")
            out["evaluate_binary"] = (
                await call(
                    "evaluate.evaluate_binary",
                    body=binary,
                    x_losscore_request=json.dumps({"loss": {"name": "l1"}, "encoding": "list"}),
                )
            ).parsed
            fit = {
                "task": "classification",
                "loss": {"name": "hinge"},
                "X": [[0.0], [1.0], [2.0], [3.0]],
                "y": ["a", "a", "b", "b"],
            }
            trained = await call("training.train", body=models.TrainRequest.from_dict(fit))
            out["train"] = json.loads(trained.content)
            model_id = out["train"]["model_id"]
            upload = models.TrainFilesBody(
                request=json.dumps({"task": "regression", "loss": {"name": "l2"}, "target": "t"}),
                data=types.File(
                    payload=b"x,t\n0,1\n1,3\n2,5\n", file_name="d.csv", mime_type="text/csv"
                ),
            )
            out["train_upload"] = json.loads((await call("training.train", body=upload)).content)
            stream = await call("training.train_stream", body=models.TrainRequest.from_dict(fit))
            out["train_stream"] = stream.content
            listed = await call("models.list_models", limit=10)
            out["list_models"] = json.loads(listed.content)
            out["get_model"] = json.loads((await call("models.get_model", model_id)).content)
            rows = models.PredictRequest.from_dict({"X": [[0.0], [3.0]]})
            predicted = await call("models.predict", model_id, body=rows)
            out["predict"] = json.loads(predicted.content)
            delete = importlib.import_module(f"{api}.models.delete_model")
            out["delete_model"] = (await delete.asyncio_detailed(model_id, client=c)).status_code
        return out

    out = client.call(scenario)
    assert out["healthz"].status == "ok"
    assert out["readyz"].losses >= 17
    assert b"losscore_http_requests_total" in out["metrics"]
    assert len(out["list_losses"].losses) >= 17
    assert out["get_loss"].name == "l2"
    assert out["loss_curve"].value == pytest.approx([4.0, 1.125, 0.0, 1.125, 4.0])
    assert out["plot"].startswith(b"<?xml")
    assert out["list_norms"].norms
    assert out["evaluate"].value == pytest.approx((0.125 + 2.5) / 2)
    assert [r.value for r in out["compare"].results] == pytest.approx([1.75, 4.625])
    assert out["evaluate_norm"].prox == pytest.approx([2.0, 0.0])
    assert out["evaluate_binary"].value == pytest.approx(1.5)
    assert out["train"]["classes"] == ["a", "b"]
    assert out["train_upload"]["coef"] == pytest.approx([2.0], abs=1e-3)
    assert out["train_stream"].rstrip().split(b"\n\n")[-1].startswith(b"event: result")
    assert out["list_models"]["total"] >= 3
    assert out["get_model"]["model_id"] == out["train"]["model_id"]
    assert out["predict"]["prediction"] == ["a", "b"]
    assert out["delete_model"] == 204
