"""The service over HTTP with the standard library alone (``urllib``): JSON requests, a
``multipart/form-data`` upload, and the Server-Sent Events of a training stream.

Arrays travel as tensor objects with base64 float64 data (``{"shape", "dtype", "b64"}``, the
service's exact encoding) and come back the same way (``"encoding": "b64"``). An error answer
becomes a :class:`~losscore_cli._errors.RemoteError` carrying the service's message, code and
fields; a server that cannot be reached is one too (status 0).
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

import numpy as np
from numpy.typing import NDArray

import losscore
from losscore_cli._errors import CliError, RemoteError
from losscore_cli._types import Evaluated, Predicted

__all__ = [
    "Client",
    "FilePart",
    "array_out",
    "fit_dict",
    "multipart",
    "sse_events",
    "tensor",
]

TIMEOUT_S = 60.0
STREAM_TIMEOUT_S = 3600.0  # between two reads of a training stream (progress comes often)


@dataclass(frozen=True)
class FilePart:
    """One part of a multipart body: a form field (``filename`` None) or a file."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = "application/octet-stream"


def multipart(parts: Sequence[FilePart]) -> tuple[bytes, str]:
    """The body and content type of a ``multipart/form-data`` request."""
    boundary = f"losscore-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {part.content_type}\r\n\r\n"
        chunks += [head.encode(), part.data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def sse_events(lines: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` of each Server-Sent Event in a stream of lines (``event:`` and
    ``data:`` fields, several ``data:`` lines joined by newlines, comments skipped; an event
    ends at a blank line)."""
    event, data = "message", list[str]()
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def tensor(array: Any) -> dict[str, Any]:
    """A float64 tensor object with base64 data (exact; compact)."""
    arr = np.ascontiguousarray(array, dtype="<f8")
    return {
        "shape": list(arr.shape),
        "dtype": "float64",
        "b64": base64.b64encode(arr.tobytes()).decode("ascii"),
    }


def _number(value: Any) -> float:
    """A JSON number of the service (overflow is the string "Infinity" or "-Infinity")."""
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return math.nan if value is None else float(value)


def array_out(value: Any) -> NDArray[np.float64]:
    """An array of a response: a number, a nested list, or a tensor object."""
    if isinstance(value, Mapping):
        shape = [int(d) for d in value["shape"]]
        dtype = np.dtype("<f4" if value.get("dtype") == "float32" else "<f8")
        if value.get("b64") is not None:
            flat = np.frombuffer(base64.b64decode(value["b64"]), dtype=dtype)
        else:
            flat = np.array([_number(v) for v in value["data"]], dtype=dtype)
        return flat.astype(np.float64).reshape(shape)
    if isinstance(value, list):
        return np.array([array_out(v) for v in value], dtype=np.float64)
    return np.array(_number(value))


def fit_dict(model: Mapping[str, Any]) -> dict[str, Any]:
    """The library's model JSON (:meth:`losscore.FitResult.to_dict`, readable by
    ``FitResult.from_dict``) from the service's ``Model``, whose ``coef`` is always
    [n_outputs][n_features] (the library keeps (d,) and a number for one output)."""
    one = int(model["n_outputs"]) == 1
    out: dict[str, Any] = {
        key: model.get(key)
        for key in (
            "task",
            "loss",
            "penalty",
            "fit_intercept",
            "standardize",
            "classes",
            "multiclass",
            "objective",
            "objectives",
            "history",
            "n_iter",
            "converged",
            "stop_reason",
            "optimality",
            "solver",
            "elapsed_ms",
            "provenance",
            "feature_mean",
            "feature_scale",
            "passes",
        )
    }
    out["coef"] = model["coef"][0] if one else model["coef"]
    out["intercept"] = model["intercept"][0] if one else model["intercept"]
    out["metrics"] = {k: v for k, v in (model.get("metrics") or {}).items() if v is not None}
    out["objectives"] = [_number(v) for v in model.get("objectives") or []]
    out["history"] = [_number(v) for v in model.get("history") or []]
    if model.get("cv") is not None:
        out["extra"] = {"cv": model["cv"]}
    if model.get("feature_names"):
        out["feature_names"] = list(model["feature_names"])
    return out


class Client:
    """Requests to one service (base URL, optional API key)."""

    def __init__(self, base: str, api_key: str | None = None) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CliError(f"{base!r} is not an http:// or https:// URL", field="--server")
        self.base = base.rstrip("/")
        self.api_key = api_key

    def _headers(self, content_type: str | None, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": f"losscore-cli/{losscore.__version__}"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        return headers

    def _open(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        accept: str = "application/json",
        timeout: float = TIMEOUT_S,
    ) -> Any:
        request = Request(
            self.base + path,
            data=body,
            method=method,
            headers=self._headers(content_type, accept),
        )
        try:
            return urlopen(request, timeout=timeout)
        except HTTPError as exc:
            with exc:
                raise _error(exc.code, exc.read()) from None
        except URLError as exc:
            raise RemoteError(f"cannot reach the server at {self.base} ({exc.reason})") from None
        except (TimeoutError, ConnectionError) as exc:
            raise RemoteError(f"no answer from the server at {self.base} ({exc})") from None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """A JSON request; the decoded JSON answer (None for an empty one)."""
        data = None if body is None else json.dumps(body).encode()
        content_type = None if body is None else "application/json"
        with self._open(method, path, data, content_type) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def stream(self, path: str, body: bytes, content_type: str) -> Iterator[tuple[str, Any]]:
        """The events of a Server-Sent Events answer, their data decoded from JSON."""
        with self._open(
            "POST", path, body, content_type, "text/event-stream", STREAM_TIMEOUT_S
        ) as response:
            for event, data in sse_events(response):
                yield event, json.loads(data)

    # -- the routes ----------------------------------------------------------------------------

    def evaluate(
        self,
        losses: Sequence[tuple[str, dict[str, float]]],
        prediction: NDArray[Any],
        target: NDArray[Any],
        weight: NDArray[Any] | None,
        reduction: str,
        hessian: bool,
    ) -> list[Evaluated]:
        """``POST /v1/evaluate`` for one loss, ``POST /v1/compare`` for several."""
        body: dict[str, Any] = {
            "prediction": tensor(prediction),
            "target": tensor(target),
            "reduction": reduction,
            "hessian": hessian,
            "encoding": "b64",
        }
        if weight is not None:
            body["weight"] = tensor(weight)
        specs = [{"name": name, **params} for name, params in losses]
        if len(specs) == 1:
            results = [self.call("POST", "/v1/evaluate", {**body, "loss": specs[0]})]
        else:
            results = self.call("POST", "/v1/compare", {**body, "losses": specs})["results"]
        weight_sum = float(np.sum(weight)) if weight is not None else None
        return [_evaluated(r, weight_sum) for r in results]

    def model(self, model_id: str) -> dict[str, Any]:
        """``GET /v1/models/{id}``."""
        result: dict[str, Any] = self.call("GET", f"/v1/models/{quote(model_id, safe='')}")
        return result

    def models(self, limit: int | None) -> tuple[list[dict[str, Any]], str | None]:
        """``GET /v1/models`` page after page (newest first) until *limit* models (None: all);
        the models and the cursor of the rest (None when there is none)."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = 500 if limit is None else min(500, limit - len(out))
            query = {"limit": page, **({"cursor": cursor} if cursor else {})}
            answer = self.call("GET", f"/v1/models?{urlencode(query)}")
            out += answer["models"]
            cursor = answer["next_cursor"]
            if cursor is None or (limit is not None and len(out) >= limit):
                return out, cursor

    def delete(self, model_id: str) -> None:
        """``DELETE /v1/models/{id}``."""
        self.call("DELETE", f"/v1/models/{quote(model_id, safe='')}")

    def predict(self, model: Mapping[str, Any], X: NDArray[np.float64]) -> Predicted:
        """``POST /v1/models/{id}/predict`` with the rows as a tensor."""
        path = f"/v1/models/{quote(str(model['model_id']), safe='')}/predict"
        answer = self.call("POST", path, {"X": tensor(X)})
        probability = answer.get("probability")
        return Predicted(
            prediction=np.asarray(answer["prediction"]),
            decision_function=array_out(answer["decision_function"]).reshape(X.shape[0], -1),
            probability=None if probability is None else array_out(probability),
            classes=model.get("classes"),
        )


def _evaluated(answer: Mapping[str, Any], weight_sum: float | None) -> Evaluated:
    loss = dict(answer["loss"])
    name = str(loss.pop("name"))
    value = answer.get("value")
    elementwise = array_out(answer["elementwise"])
    hessian = answer.get("hessian")
    return Evaluated(
        loss=name,
        params={k: float(v) for k, v in loss.items()},
        reduction=str(answer["reduction"]),
        value=None if value is None else _number(value),
        elementwise=elementwise,
        gradient=array_out(answer["gradient"]),
        hessian=None if hessian is None else array_out(hessian),
        weight_sum=float(elementwise.size) if weight_sum is None else weight_sum,
    )


def _error(status: int, raw: bytes) -> RemoteError:
    """The service's ``{"error": {status, code, message, details}}`` (or whatever came)."""
    try:
        body = json.loads(raw)["error"]
        message = str(body["message"])
        details = [(str(d["field"]), str(d["reason"])) for d in body.get("details") or []]
        return RemoteError(message, status=status, code=str(body.get("code", "")), details=details)
    except (ValueError, KeyError, TypeError):
        text = raw.decode("utf-8", errors="replace").strip()[:300]
        return RemoteError(text or "the server answered an error without a body", status=status)


def stream_error(data: Mapping[str, Any]) -> RemoteError:
    """The ``error`` event of a training stream (an ``ErrorResponse``)."""
    return _error(int(data.get("error", {}).get("status", 0)), json.dumps(data).encode())
