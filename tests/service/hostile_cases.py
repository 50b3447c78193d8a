"""Building blocks of the hostile-input table in ``test_hostile.py``.

A :class:`Case` is one request (method, path, headers, body bytes) with the answer the contract
asks for: the status, the error ``code`` and the ``details[*].field`` at fault (and optionally
the ``index``, a word of the reason, the ``Allow`` header, or a check of a 200's numbers). A case
with ``bug`` set is a known server bug: it runs as ``xfail(strict=True)``, so fixing the bug
makes it pass and the marker must go.

Bodies are bytes, built here: JSON with literals ``json.dumps`` cannot write (:func:`lit`),
base64 tensors, ``.npy`` files with lying headers, multipart forms and raw octets.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import httpx
import numpy as np
import pytest

__all__ = [
    "JSON",
    "Case",
    "Check",
    "RawCase",
    "b64",
    "f4",
    "f8",
    "form",
    "js",
    "lit",
    "npy",
    "npy_raw",
    "octets",
    "tensor",
]

JSON: Mapping[str, str] = {"content-type": "application/json"}
BOUNDARY = "losscore-hostile-7f3a9c"

Check = Callable[[httpx.Response], None]


@dataclass(frozen=True)
class Case:
    """One request over httpx and the answer the contract asks for."""

    id: str
    method: str
    path: str  # "{clf}" / "{reg}" stand for the ids of models trained by the fixture
    status: int
    code: str | None = None  # error code of a 4xx/5xx JSON body (None: no error body expected)
    field: str | None = None  # some details[*].field must be this
    body: bytes | None = None
    headers: Mapping[str, str] = dataclass_field(default_factory=dict)
    index: Sequence[int] | None = None  # ... with this index
    reason: str | None = None  # ... and a reason containing this (the message if no field)
    allow: frozenset[str] | None = None  # a 405's Allow header, as a set of methods
    check: Check | None = None  # more checks of the response (numbers of a 200, SSE events)
    bug: str | None = None  # a known server bug: xfail(strict=True)

    def param(self) -> Any:
        marks = (
            () if self.bug is None else pytest.mark.xfail(strict=True, reason=f"BUG: {self.bug}")
        )
        return pytest.param(self, id=self.id, marks=marks)


@dataclass(frozen=True)
class RawCase:
    """Bytes over a raw socket, in pieces with pauses, for what httpx cannot send: stalls,
    trickles, lying or duplicated framing headers, oversized heads.

    ``status`` None: the server must close the connection without an answer. ``within_s``
    bounds the time to the answer (or the close); ``after_s`` is its lower bound (a 408 must
    not come before the timeout)."""

    id: str
    pieces: Sequence[tuple[bytes, float]]  # (bytes, pause after sending them)
    status: int | None
    within_s: float
    after_s: float = 0.0
    half_close: bool = False  # shut the write side after the last piece
    json_code: str | None = None  # the answer is the common JSON error shape with this code
    contains: bytes | None = None  # the raw answer contains these bytes
    bug: str | None = None

    def param(self) -> Any:
        marks = (
            () if self.bug is None else pytest.mark.xfail(strict=True, reason=f"BUG: {self.bug}")
        )
        return pytest.param(self, id=self.id, marks=marks)


# -- JSON ---------------------------------------------------------------------------------------

_LIT = re.compile(r'"@@lit:(.*?)@@"')


def lit(text: str) -> str:
    """A placeholder that :func:`js` writes as the bare JSON text *text* (``NaN``, ``1e400``,
    ``+Infinity``, a 400-digit integer ...)."""
    return f"@@lit:{text}@@"


def js(value: Any) -> bytes:
    """*value* as JSON bytes (a ``str`` is taken as JSON text already), placeholders of
    :func:`lit` replaced by their literal text."""
    text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    return _LIT.sub(lambda m: m.group(1), text).encode()


# -- arrays -------------------------------------------------------------------------------------


def f8(*values: float) -> bytes:
    """Little-endian float64 bytes."""
    return np.asarray(values, dtype="<f8").tobytes()


def f4(*values: float) -> bytes:
    """Little-endian float32 bytes."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype="<f4").tobytes()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tensor(shape: Any, **payload: Any) -> dict[str, Any]:
    """A tensor object ``{"shape", ...}`` (``dtype``, ``data`` or ``b64`` as given)."""
    return {"shape": shape, **payload}


def npy(arr: Any, *, allow_pickle: bool = False) -> bytes:
    """A well-formed ``.npy`` file of *arr*."""
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_raw(
    header: Mapping[str, Any] | bytes,
    payload: bytes = b"",
    *,
    version: tuple[int, int] = (1, 0),
    length: int | None = None,
) -> bytes:
    """A ``.npy`` file written by hand: any header text (a dict's repr or raw bytes), any
    version, any declared header length, then *payload*."""
    text = header if isinstance(header, bytes) else repr(dict(header)).encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    declared = len(text) if length is None else length
    size = struct.pack("<H", declared) if version == (1, 0) else struct.pack("<I", declared)
    return b"\x93NUMPY" + bytes(version) + size + text + payload


# -- request bodies ------------------------------------------------------------------------------


def form(
    fields: Mapping[str, str] | None = None, files: Mapping[str, bytes] | None = None
) -> dict[str, Any]:
    """``body`` and ``headers`` of a ``multipart/form-data`` request: plain fields, then file
    parts (``filename="<name>.bin"``)."""
    out = io.BytesIO()
    for name, text in (fields or {}).items():
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(text.encode() + b"\r\n")
    for name, data in (files or {}).items():
        out.write(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{name}.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    ctype = f"multipart/form-data; boundary={BOUNDARY}"
    return {"body": out.getvalue(), "headers": {"content-type": ctype}}


def octets(
    header: Mapping[str, Any] | str | None,
    payload: bytes,
    content_type: str | None = "application/octet-stream",
    **extra: str,
) -> dict[str, Any]:
    """``body`` and ``headers`` of ``POST /v1/evaluate/binary``: the JSON part in
    ``X-Losscore-Request`` (a string is sent as it is; None leaves the header out)."""
    headers = dict(extra)
    if content_type is not None:
        headers["content-type"] = content_type
    if header is not None:
        headers["x-losscore-request"] = header if isinstance(header, str) else json.dumps(header)
    return {"body": payload, "headers": headers}
