"""Write the app's OpenAPI document: ``python -m service.openapi_export openapi/openapi.json``.

The output is deterministic (sorted keys, indent 2, trailing newline) so the committed
file can be compared with ``app.openapi()`` by a test (``make openapi`` regenerates it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from service.app import create_app
from service.settings import Settings

__all__ = ["main", "render"]


def render(doc: dict[str, Any] | None = None) -> str:
    """The OpenAPI document as committed text."""
    if doc is None:
        doc = create_app(Settings()).openapi()
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write to the path in *argv* (or stdout without one)."""
    text = render()
    if not argv:
        sys.stdout.write(text)
        return 0
    path = Path(argv[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
