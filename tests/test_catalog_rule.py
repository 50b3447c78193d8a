"""The one-catalog rule: outside ``losscore/losses/`` no code (the library, the command-line
tool, the service) compares a value with a loss's name (or alias); what differs between losses
is read from the catalog instead."""

from __future__ import annotations

import ast
from pathlib import Path

import losscore

ROOT = Path(__file__).resolve().parents[1]
NAMES = {n for s in losscore.list_losses() for n in (s.name, *s.aliases)}
# penalties share two names with losses ("l1", "l2"); these files compare penalty names
PENALTY_NAMES = {"none", "l1", "l2", "elastic_net"}


def _constants(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {c for elt in node.elts for c in _constants(elt)}
    return set()


def _name_comparisons(path: Path) -> list[str]:
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            named = set().union(*(_constants(s) for s in sides)) & NAMES
            if named - PENALTY_NAMES:
                found.append(f"{where}:{node.lineno}: {sorted(named)}")
        elif isinstance(node, ast.Match):
            for case in node.cases:
                pattern = ast.dump(case.pattern)
                if any(f"value='{n}'" in pattern for n in NAMES - PENALTY_NAMES):
                    found.append(f"{where}:{case.pattern.lineno}")
    return found


def test_no_loss_name_comparisons_outside_the_catalog() -> None:
    files = [
        p
        for package in ("losscore", "losscore_cli", "service")
        for p in sorted((ROOT / package).rglob("*.py"))
        if "losses" not in p.relative_to(ROOT).parts[:2]
    ]
    assert len(files) > 30
    assert any(p.parts[-2:] == ("losscore_cli", "__init__.py") for p in files)
    found = [hit for p in files for hit in _name_comparisons(p)]
    assert not found, "loss names compared outside losscore/losses/:\n" + "\n".join(found)


def test_the_rule_catches_a_comparison(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text('def f(loss):\n    return loss.name in ("hinge", "x")\n', encoding="utf-8")
    assert _name_comparisons(bad)
    bad.write_text('def f(loss):\n    return loss.name == "mse"\n', encoding="utf-8")
    assert _name_comparisons(bad)
