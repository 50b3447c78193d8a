"""Access control: optional API keys with scopes, per-key rate limits.

Keys are configured as SHA-256 hashes (``LOSSCORE_API_KEYS``, a JSON list of
``{"name", "sha256", "scopes", "per_minute"}``; ``python -m service.keys new NAME SCOPE…``
makes a key and prints its entry). A request presents its key as ``X-API-Key: KEY`` or
``Authorization: Bearer KEY``; the hash of what it presents is compared with every configured
hash in constant time (``hmac.compare_digest``), and no key is ever logged.

Scopes: ``evaluate`` (losses, curves, plots, evaluate, compare, norms), ``read`` (list, get,
predict with models), ``train`` (fit and store), ``admin`` (delete; implies every scope).
Without any configured key access control is off (development). With keys, the evaluate
routes stay open unless ``LOSSCORE_EVALUATE_OPEN=false``. A missing or unknown key is a 401
(``WWW-Authenticate``), a known key without the scope a 403, a key over its rate a 429 with
``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.apikeys import SCOPES, ApiKey, Scope, sha256_hex
from service.errors import ApiError

__all__ = ["ApiKey", "Authenticator", "Principal", "Scope", "require", "sha256_hex"]


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a key's name, or ``anonymous``."""

    name: str
    scopes: frozenset[str]


ANONYMOUS = Principal("anonymous", frozenset(SCOPES))


@dataclass
class _Bucket:
    """A token bucket: ``rate`` tokens per second, at most ``capacity``."""

    rate: float
    capacity: float
    tokens: float
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class Authenticator:
    """Checks a request's key against the configured keys (see the module docstring)."""

    def __init__(self, keys: list[ApiKey], evaluate_open: bool) -> None:
        self.keys = keys
        self.enabled = bool(keys)
        self.evaluate_open = evaluate_open
        self._digests = [bytes.fromhex(k.sha256) for k in keys]
        self._buckets = {
            k.name: _Bucket(k.per_minute / 60.0, float(k.per_minute), float(k.per_minute))
            for k in keys
        }
        self._lock = threading.Lock()

    def _find(self, presented: str) -> ApiKey | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for key, stored in zip(self.keys, self._digests, strict=True):
            if hmac.compare_digest(digest, stored):  # every key compared: constant time
                found = key
        return found

    def check(self, scope: Scope, presented: str | None) -> Principal:
        if not self.enabled or (scope == "evaluate" and self.evaluate_open and not presented):
            return ANONYMOUS
        if not presented:
            raise _unauthorized("this route needs an API key (X-API-Key or Authorization: Bearer)")
        key = self._find(presented)
        if key is None:
            raise _unauthorized("the API key is not valid")
        if scope not in key.scopes and "admin" not in key.scopes:
            raise ApiError(403, "forbidden", f"the key {key.name!r} lacks the scope {scope!r}")
        with self._lock:
            wait = self._buckets[key.name].take()
        if wait > 0:
            retry = max(1, round(wait + 0.5))
            raise ApiError(
                429,
                "rate_limited",
                f"the key {key.name!r} is over its rate of {key.per_minute} requests per minute",
                headers={"Retry-After": str(retry)},
            )
        return Principal(key.name, frozenset(key.scopes))


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKey", description="An API key."
)
_bearer = HTTPBearer(
    auto_error=False, scheme_name="Bearer", description="An API key as a bearer token."
)


def require(scope: Scope) -> Any:
    """A dependency: the request's :class:`Principal` for *scope* (401/403/429 otherwise)."""

    async def principal(
        request: Request,
        api_key: Annotated[str | None, Security(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        auth: Authenticator = request.app.state.auth
        presented = api_key or (bearer.credentials if bearer is not None else None)
        who = auth.check(scope, presented)
        request.state.principal = who.name
        return who

    dep: Callable[..., Coroutine[Any, Any, Principal]] = principal
    return Depends(dep)
