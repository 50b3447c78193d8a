"""Find untyped declarations in generated clients: a response type that is ``Any`` / ``any`` /
an untyped dict would hand users unchecked data.

* openapi-python-client: ``Any`` in a model field (but its ``additional_properties``
  boilerplate) or in the return type of an operation's ``sync``/``asyncio`` functions;
* openapi-generator ``python``: ``Any``/``object`` in a model field or in the typed branch of a
  union wrapper, an API method returning ``object``, a response declared as ``object``;
* typescript-fetch (``untyped_ts.js``, with the TypeScript compiler API): an empty interface,
  a property, index signature or alias typed ``any``/``object``/``unknown``, ``Promise<any>``.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

__all__ = ["no_content_operations", "untyped_python", "untyped_typescript"]

HERE = Path(__file__).resolve().parent
_UNTYPED = {"opc": re.compile(r"\bAny\b"), "ogpy": re.compile(r"\b(Any|object)\b")}
_BOILERPLATE = {
    "additional_properties",
    "one_of_schemas",
    "any_of_schemas",
    "discriminator_value_class_map",
    "model_config",
    "actual_instance",  # the untyped fallback of ogpy's wrappers; the typed branch is checked
}
_DECLARED = re.compile(r"'(\d\d\d|default)': \"(object|Dict\[str, object\]|List\[object\])\"")


def _fields(kind: str, tree: ast.Module, rel: Path) -> list[str]:
    bad = _UNTYPED[kind]
    found = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for st in cls.body:
            if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                name = st.target.id
                if name in _BOILERPLATE or name.startswith(("oneof_schema_", "anyof_schema_")):
                    continue
                if bad.search(ast.unparse(st.annotation)):
                    found.append(
                        f"{rel}:{st.lineno} {cls.name}.{name}: {ast.unparse(st.annotation)}"
                    )
            if isinstance(st, ast.If) and ast.unparse(st.test) == "TYPE_CHECKING":
                for inner in st.body:
                    if isinstance(inner, ast.AnnAssign) and bad.search(
                        ast.unparse(inner.annotation)
                    ):
                        found.append(
                            f"{rel}:{inner.lineno} {cls.name}: {ast.unparse(inner.annotation)}"
                        )
    return found


def _returns(kind: str, tree: ast.Module, rel: Path, no_content: set[str]) -> list[str]:
    if rel.parts[0] != "api" or rel.stem in no_content:
        return []
    bad = _UNTYPED[kind]
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)] + [
        m
        for c in ast.walk(tree)
        if isinstance(c, ast.ClassDef)
        for m in c.body
        if isinstance(m, ast.FunctionDef)
    ]
    found = []
    for fn in functions:
        wanted = (
            fn.name in ("sync", "sync_detailed", "asyncio", "asyncio_detailed")
            if kind == "opc"
            else not fn.name.startswith("_") and not fn.name.endswith("_without_preload_content")
        )
        returns = ast.unparse(fn.returns) if fn.returns is not None else ""
        if (
            wanted
            and fn.name.removesuffix("_with_http_info") not in no_content
            and bad.search(returns)
        ):
            found.append(f"{rel}:{fn.lineno} {fn.name} -> {returns}")
    return found


def no_content_operations(spec: dict[str, object]) -> set[str]:
    """Operation ids whose success response has no body (e.g. a 204): a client's "nothing"
    for them (``Any`` in openapi-python-client) is not an untyped response."""
    found = set()
    for item in spec["paths"].values():  # type: ignore[attr-defined]
        for op in item.values():
            ok = [r for code, r in op["responses"].items() if code.startswith("2")]
            if ok and all("content" not in r for r in ok):
                found.add(op["operationId"])
    return found


def untyped_python(kind: str, package: Path, no_content: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Untyped declarations in a generated Python package (``opc`` or ``ogpy``)."""
    found: list[str] = []
    files = sorted([*package.glob("models/*.py"), *package.glob("api/**/*.py")])
    assert files, f"no generated modules under {package}"
    for path in files:
        rel = path.relative_to(package)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        found += _fields(kind, tree, rel) + _returns(kind, tree, rel, set(no_content))
        if kind == "ogpy" and rel.parts[0] == "api":
            found += [f"{rel}: response {m[0]} declared {m[1]}" for m in _DECLARED.findall(text)]
    return found


def untyped_typescript(generated: Path, typescript_lib: Path) -> list[str]:
    """Untyped declarations in typescript-fetch output (models/, apis/)."""
    done = subprocess.run(
        ["node", str(HERE / "untyped_ts.js"), str(typescript_lib), str(generated)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("UNTYPED")]
