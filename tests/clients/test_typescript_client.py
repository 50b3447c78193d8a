"""The typescript-fetch client, compiled with ``tsc --strict`` together with ``scenario.ts``
(typed requests: nested lists, tensors, the loss and penalty unions), calls every endpoint of
a live server; its parsed responses are checked against losscore (``scenario.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.clients import scenario as sc
from tests.clients.conftest import (
    API_KEY,
    KNOWN_GENERATOR_WARNINGS,
    TSC,
    TYPESCRIPT_LIB,
    Generated,
)
from tests.clients.untyped import untyped_typescript

pytestmark = pytest.mark.slow

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "ES2020",
        "lib": ["dom", "es2020"],
        "module": "commonjs",
        "moduleResolution": "node",
        "types": ["node"],
        "typeRoots": [str(TYPESCRIPT_LIB.parent / "@types")],
        "outDir": "dist",
        "skipLibCheck": True,
    },
    "include": ["*.ts", "apis/*.ts", "models/*.ts"],
}


def test_typescript_fetch_client(typescript: Generated, server: str) -> None:
    unexpected = [
        w for w in typescript.warnings() if not any(k in w for k in KNOWN_GENERATOR_WARNINGS)
    ]
    assert not unexpected, unexpected
    found = untyped_typescript(typescript.path, TYPESCRIPT_LIB)
    assert not found, "untyped generated code:\n" + "\n".join(found)

    root = typescript.path
    shutil.copy(sc.HERE / "scenario.ts", root / "scenario.ts")
    (root / "tsconfig.json").write_text(json.dumps(TSCONFIG), encoding="utf-8")
    compiled = subprocess.run(
        [str(TSC), "-p", str(root)], capture_output=True, text=True, timeout=300, check=False
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    inputs = root / "inputs.json"
    sc.write_inputs(inputs)
    ran = subprocess.run(
        ["node", str(root / "dist" / "scenario.js"), str(inputs)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BASE": server, "API_KEY": API_KEY},
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    for key in ("evaluate_list", "evaluate_b64", "evaluate_scalar", "evaluate_data32"):
        results[key].setdefault("hessian", None)
    sc.check(results)
