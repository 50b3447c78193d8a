"""API keys for ``LOSSCORE_API_KEYS``: ``python -m service.keys new NAME SCOPE [SCOPE ...]``.

Prints a fresh random key (give it to the client; it is shown once and stored nowhere) and
the JSON entry to add to ``LOSSCORE_API_KEYS`` (its SHA-256, never the key). ``hash``
prints the SHA-256 of a key read from standard input.
"""

from __future__ import annotations

import json
import secrets
import sys

from service.apikeys import SCOPES, ApiKey, sha256_hex

__all__ = ["main", "new_key"]


def new_key(name: str, scopes: list[str], per_minute: int = 600) -> tuple[str, ApiKey]:
    """A random key (256 bits, URL-safe) and its configuration entry."""
    key = "lk_" + secrets.token_urlsafe(32)
    entry = ApiKey.model_validate(
        {"name": name, "sha256": sha256_hex(key), "scopes": scopes, "per_minute": per_minute}
    )
    return key, entry


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "new":
        scopes = argv[2:]
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            print(f"unknown scopes {unknown}; choose from {list(SCOPES)}", file=sys.stderr)
            return 2
        key, entry = new_key(argv[1], scopes)
        print(f"key (give to the client, shown once): {key}")
        print(f"entry for LOSSCORE_API_KEYS: {json.dumps(entry.model_dump())}")
        return 0
    if argv == ["hash"]:
        print(sha256_hex(sys.stdin.read().strip()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
