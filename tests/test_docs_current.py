"""docs/LOSSES.md is generated from the specs; it must match them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_losses_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("render", ROOT / "tools" / "render_losses_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "LOSSES.md").read_text(encoding="utf-8")
    assert committed == module.render(), "docs/LOSSES.md is stale: run `make docs`"


def test_every_loss_is_documented_with_formula_and_kinks() -> None:
    import losscore

    text = (ROOT / "docs" / "LOSSES.md").read_text(encoding="utf-8")
    for s in losscore.list_losses():
        assert f"### `{s.name}`" in text
        assert s.formula and s.derivative and s.kinks and s.reference
