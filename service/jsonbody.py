"""JSON request bodies: counted before they are parsed, parsed strictly, then validated.

* **Before parsing**, the numbers a body can hold are bounded by its commas (n numbers in
  arrays need at least n − (number of arrays) commas): a body with more commas than twice
  ``LOSSCORE_MAX_REQUEST_ELEMENTS`` is refused without building a Python object, so a
  request's memory stays a bounded multiple of its size.
* **Parsing** (jiter, pydantic's own parser): malformed JSON and duplicate object keys are
  a 400 ``malformed_json`` naming line and column (a duplicate key would otherwise silently
  take its last value). NaN and Infinity literals parse, so the schema can name the field and
  index that hold them.
* **Validation** against the pydantic model (422 with field, index, reason).
"""

from __future__ import annotations

from typing import TypeVar

import jiter
from pydantic import BaseModel

from service.errors import ApiError, ErrorDetail

__all__ = ["JSON_TYPES", "count_check", "is_json_type", "parse_json"]

M = TypeVar("M", bound=BaseModel)
JSON_TYPES = ("application/json",)


def is_json_type(content_type: str) -> bool:
    """``application/json``, ``application/*+json`` or none given."""
    media = content_type.split(";")[0].strip().lower()
    return media in ("", *JSON_TYPES) or (
        media.startswith("application/") and media.endswith("+json")
    )


def count_check(raw: bytes, max_elements: int, field: str = "body") -> None:
    """422 before parsing when *raw* can hold more numbers than the request limit allows."""
    commas = raw.count(b",")
    if commas > 2 * max_elements:
        raise ApiError.invalid(
            field,
            f"holds about {commas} values, more than the limit of {max_elements} per request "
            "(LOSSCORE_MAX_REQUEST_ELEMENTS); send large arrays as b64 or binary",
        )


def parse_json(model: type[M], raw: bytes | str, field: str = "body") -> M:
    """The validated *model* of a JSON text (see the module docstring)."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        value = jiter.from_json(data, catch_duplicate_keys=True)
    except ValueError as exc:
        reason = f"malformed JSON: {exc}"
        detail = ErrorDetail(field=field, reason=reason)
        raise ApiError(400, "malformed_json", f"{field}: {reason}", [detail]) from None
    return model.model_validate(value)
