"""The two generated Python clients call every endpoint of a live server (``scenario.py``).

Requests are built with each client's typed models (constructors for a few, ``from_dict``
for the rest, as a user with JSON at hand would); responses are the client's parsed models,
turned back into JSON with its own ``to_dict`` and checked against losscore.
"""

from __future__ import annotations

import base64
import io
import json
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.clients import scenario as sc
from tests.clients.conftest import API_KEY, KNOWN_GENERATOR_WARNINGS, SPEC, Generated
from tests.clients.untyped import no_content_operations, untyped_python

pytestmark = pytest.mark.slow


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) of a Server-Sent Events body."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


class OpenApiPythonClient:
    """openapi-python-client: functions per operation, attrs models."""

    def __init__(self, pkg: ModuleType, base: str) -> None:
        self.pkg = pkg
        self.client = pkg.AuthenticatedClient(  # the key as a bearer token
            base_url=base,
            token=API_KEY,
            raise_on_unexpected_status=True,
            timeout=httpx.Timeout(120),
        )
        self.base = base
        self.m = __import__(f"{pkg.__name__}.models", fromlist=["*"])
        self.types = __import__(f"{pkg.__name__}.types", fromlist=["*"])

    def op(self, tag: str, name: str) -> Any:
        return __import__(f"{self.pkg.__name__}.api.{tag}.{name}", fromlist=["*"])

    def call(self, tag: str, name: str, *args: Any, **kwargs: Any) -> Any:
        result = self.op(tag, name).sync(*args, client=self.client, **kwargs)
        assert not isinstance(result, self.m.ErrorResponse), (name, result.to_dict())
        return result

    def file(self, data: bytes, name: str, mime: str = "application/octet-stream") -> Any:
        return self.types.File(payload=io.BytesIO(data), file_name=name, mime_type=mime)

    def run(self) -> dict[str, Any]:
        m = self.m
        r: dict[str, Any] = {}
        r["healthz"] = self.call("health", "healthz").to_dict()
        r["readyz"] = self.call("health", "readyz").to_dict()
        r["metrics"] = "losscore_http_requests_total" in self.call("health", "metrics")
        with self.pkg.Client(base_url=self.base, raise_on_unexpected_status=True) as keyless:
            refused = self.op("models", "list_models").sync(client=keyless)
        r["keyless"] = refused.error.status if isinstance(refused, m.ErrorResponse) else None
        r["list_losses"] = [x.name for x in self.call("losses", "list_losses").losses]
        r["get_loss"] = self.call("losses", "get_loss", "mse").to_dict()
        r["curve"] = self.call(
            "losses", "loss_curve", "huber", start=-3, stop=3, num=5, delta=2.0
        ).to_dict()
        svg = self.call("plots", "plot_losses", names="l1,l2")
        r["plot"] = svg if isinstance(svg, str) else svg.payload.read().decode()
        r["list_norms"] = [x.name for x in self.call("norms", "list_norms").norms]
        r["evaluate_norm"] = self.call(
            "norms", "evaluate_norm", body=m.NormEvaluateRequest.from_dict(sc.NORM)
        ).to_dict()
        typed = m.EvaluateRequest(  # typed construction: a 2-d nested list and a loss model
            loss=m.HuberLoss(name=m.HuberLossName.HUBER, delta=1.0),
            prediction=[[0.5, 3.0], [-2.0, 0.1]],
            target=[[0.0, 0.0], [0.0, 0.0]],
            hessian=True,
        )
        r["evaluate_list"] = self.call("evaluate", "evaluate", body=typed).to_dict()
        for key, body in (
            ("evaluate_data32", sc.EVALUATE_DATA32),
            ("evaluate_b64", sc.EVALUATE_B64),
            ("evaluate_scalar", sc.EVALUATE_SCALAR),
            ("evaluate_overflow", sc.EVALUATE_OVERFLOW),
        ):
            r[key] = self.call(
                "evaluate", "evaluate", body=m.EvaluateRequest.from_dict(body)
            ).to_dict()
        r["compare"] = self.call(
            "evaluate", "compare", body=m.CompareRequest.from_dict(sc.COMPARE)
        ).to_dict()
        r["evaluate_dataset"] = self.call(
            "evaluate",
            "evaluate_dataset",
            body=m.DatasetEvaluateRequest.from_dict(sc.EVALUATE_DATASET),
        ).to_dict()
        r["evaluate_binary"] = self.call(
            "evaluate",
            "evaluate_binary",
            body=self.file(base64.b64decode(sc.INPUTS["binary_octets"]), "arrays.bin"),
            x_losscore_request=json.dumps(sc.BINARY_HEADER),
        ).to_dict()
        form = m.EvaluateNpyForm(
            request=json.dumps(sc.NPY_HEADER),
            prediction=self.file(base64.b64decode(sc.INPUTS["npy_prediction"]), "p.npy"),
            target=self.file(base64.b64decode(sc.INPUTS["npy_target"]), "t.npy"),
        )
        r["evaluate_npy"] = self.call("evaluate", "evaluate_npy", body=form).to_dict()
        for key, body in (
            ("train_classification", sc.TRAIN_CLASSIFICATION),
            ("train_multiclass", sc.TRAIN_MULTICLASS),
            ("train_regression", sc.TRAIN_REGRESSION),
            ("train_tensors", sc.TRAIN_TENSORS),
        ):
            r[key] = self.call("training", "train", body=m.TrainRequest.from_dict(body)).to_dict()
        upload = m.TrainUploadForm(
            request=json.dumps(sc.TRAIN_UPLOAD),
            data=self.file(sc.INPUTS["csv"].encode(), "data.csv", "text/csv"),
        )
        r["train_upload"] = self.call("training", "train_upload", body=upload).to_dict()
        text = self.call(
            "training", "train_stream", body=m.TrainRequest.from_dict(sc.TRAIN_CLASSIFICATION)
        )
        events = _events(text)
        r["train_stream"] = {
            "events": [e for e, _ in events],
            "first_progress": m.TrainProgress.from_dict(events[0][1]).to_dict(),
            "model": m.Model.from_dict(events[-1][1]).to_dict(),
        }
        listed, cursor = [], None
        while True:
            page = self.call("models", "list_models", limit=2, cursor=cursor)
            listed += [s.model_id for s in page.models]
            cursor = page.next_cursor
            if not isinstance(cursor, str):
                break
        r["list_models"] = listed
        cls_id = r["train_classification"]["model_id"]
        r["get_model"] = self.call("models", "get_model", cls_id).to_dict()
        rows = m.PredictRequest(x=sc.INPUTS["Xc"][:5])
        r["predict_list"] = self.call("models", "predict", cls_id, body=rows).to_dict()
        xm = sc._b64(__import__("numpy").asarray(sc.INPUTS["Xm"][:5]))
        rows = m.PredictRequest.from_dict({"X": {"shape": [5, 2], "b64": xm}})
        r["predict_b64"] = self.call(
            "models", "predict", r["train_multiclass"]["model_id"], body=rows
        ).to_dict()
        gone = r["train_regression"]["model_id"]
        deleted = self.op("models", "delete_model").sync_detailed(gone, client=self.client)
        after = self.op("models", "get_model").sync_detailed(gone, client=self.client)
        r["delete"] = {"deleted": deleted.status_code, "then": after.status_code}
        return r


class OpenApiGeneratorPython:
    """openapi-generator ``python``: API classes per tag, pydantic models."""

    def __init__(self, pkg: ModuleType, base: str) -> None:
        self.pkg = pkg
        self.api = pkg.ApiClient(pkg.Configuration(host=base, api_key={"ApiKey": API_KEY}))
        self.base = base

    def run(self) -> dict[str, Any]:
        p = self.pkg
        health, losses, plots = p.HealthApi(self.api), p.LossesApi(self.api), p.PlotsApi(self.api)
        norms, ev, train, models = (
            p.NormsApi(self.api),
            p.EvaluateApi(self.api),
            p.TrainingApi(self.api),
            p.ModelsApi(self.api),
        )
        r: dict[str, Any] = {}
        r["healthz"] = health.healthz().to_dict()
        r["readyz"] = health.readyz().to_dict()
        r["metrics"] = "losscore_http_requests_total" in health.metrics()
        with p.ApiClient(p.Configuration(host=self.base)) as keyless:
            try:
                p.ModelsApi(keyless).list_models()
                r["keyless"] = None
            except p.ApiException as exc:  # UnauthorizedException
                r["keyless"] = exc.status
        r["list_losses"] = [x.name for x in losses.list_losses().losses]
        r["get_loss"] = losses.get_loss("mse").to_dict()
        r["curve"] = losses.loss_curve("huber", start=-3, stop=3, num=5, delta=2.0).to_dict()
        svg = plots.plot_losses(names="l1,l2")
        r["plot"] = bytes(svg).decode() if not isinstance(svg, str) else svg
        r["list_norms"] = [x.name for x in norms.list_norms().norms]
        r["evaluate_norm"] = norms.evaluate_norm(p.NormEvaluateRequest.from_dict(sc.NORM)).to_dict()
        typed = p.EvaluateRequest(  # typed construction: a 2-d nested list and a loss model
            loss=p.Loss(p.HuberLoss(name="huber", delta=1.0)),
            prediction=p.ArrayIn([[0.5, 3.0], [-2.0, 0.1]]),
            target=p.ArrayIn([[0.0, 0.0], [0.0, 0.0]]),
            hessian=True,
        )
        r["evaluate_list"] = ev.evaluate(typed).to_dict()
        for key, body in (
            ("evaluate_data32", sc.EVALUATE_DATA32),
            ("evaluate_b64", sc.EVALUATE_B64),
            ("evaluate_scalar", sc.EVALUATE_SCALAR),
            ("evaluate_overflow", sc.EVALUATE_OVERFLOW),
        ):
            r[key] = ev.evaluate(p.EvaluateRequest.from_dict(body)).to_dict()
        r["compare"] = ev.compare(p.CompareRequest.from_dict(sc.COMPARE)).to_dict()
        r["evaluate_dataset"] = ev.evaluate_dataset(
            p.DatasetEvaluateRequest.from_dict(sc.EVALUATE_DATASET)
        ).to_dict()
        r["evaluate_binary"] = ev.evaluate_binary(
            x_losscore_request=json.dumps(sc.BINARY_HEADER),
            body=base64.b64decode(sc.INPUTS["binary_octets"]),
        ).to_dict()
        r["evaluate_npy"] = ev.evaluate_npy(
            request=json.dumps(sc.NPY_HEADER),
            prediction=("p.npy", base64.b64decode(sc.INPUTS["npy_prediction"])),
            target=("t.npy", base64.b64decode(sc.INPUTS["npy_target"])),
        ).to_dict()
        for key, body in (
            ("train_classification", sc.TRAIN_CLASSIFICATION),
            ("train_multiclass", sc.TRAIN_MULTICLASS),
            ("train_regression", sc.TRAIN_REGRESSION),
            ("train_tensors", sc.TRAIN_TENSORS),
        ):
            r[key] = train.train(p.TrainRequest.from_dict(body)).to_dict()
        r["train_upload"] = train.train_upload(
            request=json.dumps(sc.TRAIN_UPLOAD), data=("data.csv", sc.INPUTS["csv"].encode())
        ).to_dict()
        events = _events(train.train_stream(p.TrainRequest.from_dict(sc.TRAIN_CLASSIFICATION)))
        r["train_stream"] = {
            "events": [e for e, _ in events],
            "first_progress": p.TrainProgress.from_dict(events[0][1]).to_dict(),
            "model": p.Model.from_dict(events[-1][1]).to_dict(),
        }
        listed, cursor = [], None
        while True:
            page = models.list_models(limit=2, cursor=cursor)
            listed += [s.model_id for s in page.models]
            cursor = page.next_cursor
            if cursor is None:
                break
        r["list_models"] = listed
        cls_id = r["train_classification"]["model_id"]
        r["get_model"] = models.get_model(cls_id).to_dict()
        rows = p.PredictRequest.from_dict({"X": sc.INPUTS["Xc"][:5]})
        r["predict_list"] = models.predict(cls_id, rows).to_dict()
        xm = sc._b64(__import__("numpy").asarray(sc.INPUTS["Xm"][:5]))
        rows = p.PredictRequest.from_dict({"X": {"shape": [5, 2], "b64": xm}})
        r["predict_b64"] = models.predict(r["train_multiclass"]["model_id"], rows).to_dict()
        gone = r["train_regression"]["model_id"]
        deleted = models.delete_model_with_http_info(gone).status_code
        with pytest.raises(p.exceptions.NotFoundException):
            models.get_model(gone)
        r["delete"] = {"deleted": deleted, "then": 404}
        return r


def _normalise(results: dict[str, Any]) -> dict[str, Any]:
    """to_dict() leaves out null fields in openapi-generator's models: put them back."""
    for key in (
        "evaluate_list",
        "evaluate_b64",
        "evaluate_scalar",
        "evaluate_data32",
        "evaluate_overflow",
    ):
        results[key].setdefault("value", None)
        results[key].setdefault("hessian", None)
    for got in results["compare"]["results"]:
        got.setdefault("hessian", None)
    for key in ("predict_list", "predict_b64"):
        results[key].setdefault("probability", None)
    return results


def _check_generated(gen: Generated, kind: str, package: ModuleType) -> None:
    unexpected = [w for w in gen.warnings() if not any(k in w for k in KNOWN_GENERATOR_WARNINGS)]
    assert not unexpected, unexpected
    no_content = no_content_operations(json.loads(SPEC.read_text(encoding="utf-8")))
    assert no_content == {"delete_model"}
    found = untyped_python(kind, gen.path if kind == "opc" else gen.path / "ogclient", no_content)
    assert not found, "untyped generated code:\n" + "\n".join(found)
    assert package.__name__ in ("opcclient", "ogclient")


def test_openapi_python_client(opc: tuple[ModuleType, Generated], server: str) -> None:
    package, generated = opc
    _check_generated(generated, "opc", package)
    driver = OpenApiPythonClient(package, server)
    with driver.client:
        results = driver.run()
    sc.check(_normalise(results))


def test_openapi_generator_python(ogpy: tuple[ModuleType, Generated], server: str) -> None:
    package, generated = ogpy
    _check_generated(generated, "ogpy", package)
    driver = OpenApiGeneratorPython(package, server)
    with driver.api:
        results = driver.run()
    sc.check(_normalise(results))
