"""JSON bodies made of chunks: megabytes of base64 are sent as they are, never copied.

Arrays in the b64 encoding become :class:`Blob` values. :func:`dumps_chunks` serialises
the rest with orjson (NumPy-aware) and splices each blob's bytes in as a separate chunk,
so a 10⁶-element response is neither concatenated nor decoded to ``str``.
:class:`ChunkedResponse` sends the chunks with one ``Content-Length``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["Blob", "Chunk", "ChunkedResponse", "array_chunk", "dumps", "dumps_chunks"]

Chunk = bytes | memoryview
"""A piece of a response body: bytes, or a byte view of a NumPy buffer (sent without a copy)."""


class Blob:
    """Bytes that are already a valid JSON string body (e.g. base64), quotes excluded.

    Deliberately not a dataclass: orjson would serialise a dataclass by itself.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _has_blob(obj: Any) -> bool:
    if isinstance(obj, Blob):
        return True
    if isinstance(obj, dict):
        return any(_has_blob(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_has_blob(v) for v in obj)
    return False


def _chunks(obj: Any, out: list[bytes]) -> None:
    """Append the JSON of *obj* to *out*: subtrees without a :class:`Blob` through orjson, the
    containers that hold one written out around it, so a blob lands exactly where it stands
    (no textual marker that user data could imitate)."""
    if isinstance(obj, Blob):
        out += (b'"', obj.data, b'"')
    elif isinstance(obj, dict) and _has_blob(obj):
        out.append(b"{")
        for i, (key, value) in enumerate(obj.items()):
            out.append((b"," if i else b"") + orjson.dumps(str(key)) + b":")
            _chunks(value, out)
        out.append(b"}")
    elif isinstance(obj, list | tuple) and _has_blob(obj):
        out.append(b"[")
        for i, value in enumerate(obj):
            if i:
                out.append(b",")
            _chunks(value, out)
        out.append(b"]")
    else:
        out.append(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY))


def dumps_chunks(obj: Any) -> list[bytes]:
    """JSON of *obj* as a list of chunks (NumPy arrays and :class:`Blob` values allowed)."""
    if not _has_blob(obj):
        return [orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)]
    out: list[bytes] = []
    _chunks(obj, out)
    return _merge_small(out)


def _merge_small(chunks: list[bytes]) -> list[bytes]:
    """Join runs of small chunks (punctuation, keys) so a response is a few ASGI messages;
    blobs (large) stay separate chunks and are never copied."""
    merged: list[bytes] = []
    run: list[bytes] = []
    for chunk in chunks:
        if len(chunk) >= 1 << 16:
            if run:
                merged.append(b"".join(run))
                run = []
            merged.append(chunk)
        else:
            run.append(chunk)
    if run:
        merged.append(b"".join(run))
    return merged


def array_chunk(arr: NDArray[Any]) -> memoryview:
    """The bytes of *arr* in memory order as a flat view, without copying.

    *arr* must be C-contiguous; the view keeps the array alive until it is sent.
    """
    if not arr.flags.c_contiguous:
        raise ValueError("array_chunk needs a C-contiguous array")
    return arr.reshape(-1).view(np.uint8).data


def dumps(obj: Any) -> bytes:
    """JSON of *obj* as one ``bytes``."""
    chunks = dumps_chunks(obj)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class ChunkedResponse(Response):
    """A response whose body is sent as several ASGI messages (known total length).

    Chunks may be memoryviews of NumPy buffers: uvicorn hands them to the transport
    as they are, so megabytes of results are never copied into ``bytes`` first.
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        status_code: int = 200,
        media_type: str = "application/json",
        headers: dict[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.chunks = [c for c in chunks if c]
        super().__init__(b"", status_code, headers, media_type, background)
        self.headers["content-length"] = str(sum(len(c) for c in self.chunks))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        last = len(self.chunks) - 1
        if last < 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        for i, chunk in enumerate(self.chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < last})
        if self.background is not None:
            await self.background()
