"""The README's settings table lists every setting the service reads (and no other)."""

from __future__ import annotations

import re
from pathlib import Path

from service.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.add(str(choices[0]) if choices else f"LOSSCORE_{name.upper()}")
    return names


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    table = text[text.index("### Settings (environment variables)") : text.index("### Endpoints")]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == _env_names()
