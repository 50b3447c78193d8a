"""The configured API keys' model (``LOSSCORE_API_KEYS``), apart from ``service.auth``.

``service.settings`` reads it, and the server's parent process (``python -m service``)
reads the settings: this module imports only pydantic, so that process does not import
FastAPI, SQLAlchemy and losscore before starting the workers (service.auth checks keys).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["SCOPES", "ApiKey", "Scope", "sha256_hex"]

Scope = Literal["evaluate", "read", "train", "admin"]
SCOPES: tuple[Scope, ...] = ("evaluate", "read", "train", "admin")


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(BaseModel):
    """One configured key: a name (for logs and metrics), the SHA-256 of the key, its scopes
    and its rate (requests per minute; bursts up to the same number)."""

    name: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Scope] = Field(min_length=1)
    per_minute: int = Field(600, ge=1)
