"""Generated clients of the committed spec, and a live server for them to call.

Three generators, run on ``openapi/openapi.json`` as a user would:

* openapi-python-client (``--fail-on-warning``);
* openapi-generator ``python`` and ``typescript-fetch`` (from the ``openapi-generator-cli``
  PyPI package, which runs the generator JAR on a Java runtime), the TypeScript client
  compiled with ``tsc --strict`` (``make client-tools`` installs TypeScript from npm).

Where Java, Node or TypeScript is missing the tests that need it skip with one line saying
what to install; with ``LOSSCORE_REQUIRE_CLIENT_TESTS=1`` (set by ``.ci/run``) they fail
instead, so CI cannot pass without running them.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from service.auth import ApiKey, sha256_hex
from tests._live import ROOT, live_server
from tests.clients import scenario as sc

SPEC = ROOT / "openapi" / "openapi.json"
TSC = ROOT / ".tools" / "node" / "node_modules" / ".bin" / "tsc"
TYPESCRIPT_LIB = ROOT / ".tools" / "node" / "node_modules" / "typescript"
# generator options, as the README's client section gives them
OPENAPI_GENERATOR_PYTHON = ["-g", "python", "--additional-properties=packageName=ogclient"]
OPENAPI_GENERATOR_TS = [
    "-g",
    "typescript-fetch",
    "--additional-properties=supportsES6=true",
    "--generate-alias-as-model",  # named array schemas stay arrays inside oneOf unions
]
# the only warnings the committed spec may cause: openapi-generator's notice that OpenAPI 3.1
# support is beta (FastAPI writes 3.1), and a ModelUtils line it prints for any array schema
KNOWN_GENERATOR_WARNINGS = (
    "OpenAPI 3.1 support is still in beta",
    "ModelUtils - Failed to get the schema name: null",
)


def require(ok: bool, reason: str) -> None:
    """Skip (locally) or fail (``LOSSCORE_REQUIRE_CLIENT_TESTS=1``, CI) when *ok* is false."""
    if ok:
        return
    if os.environ.get("LOSSCORE_REQUIRE_CLIENT_TESTS") == "1":
        pytest.fail(f"required client test cannot run: {reason}")
    pytest.skip(reason)


def tool(name: str) -> str | None:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else shutil.which(name)


@dataclass(frozen=True)
class Generated:
    """A generated client: its directory, the generator's output and how long it took."""

    path: Path
    log: str
    seconds: float

    def warnings(self) -> list[str]:
        return [line for line in self.log.splitlines() if "WARN" in line or "Warning" in line]


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 300) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    elapsed = time.perf_counter() - started
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{log[-4000:]}"
    return log, elapsed


def _openapi_generator(args: list[str], out: Path) -> Generated:
    exe = tool("openapi-generator-cli")
    require(exe is not None, "openapi-generator-cli not installed (pip install -e '.[test]')")
    require(
        shutil.which("java") is not None, "no Java runtime (apt-get install default-jre-headless)"
    )
    assert exe is not None
    log, seconds = _run([exe, "generate", "-i", str(SPEC), "-o", str(out), *args])
    return Generated(out, log, seconds)


# The server runs with access control on and every route locked (evaluate too): each client
# must send the key through its generated security support (a keyless call is a 401).
# (a fixed key: this module is imported twice, as pytest's conftest and by the tests)
API_KEY = "lk_generated-clients-test-key"
_ENTRY = ApiKey(
    name="generated-clients", sha256=sha256_hex(API_KEY), scopes=["admin"], per_minute=100_000
)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keys = json.dumps([_ENTRY.model_dump()])
    datasets = tmp_path_factory.mktemp("client-datasets")
    (datasets / "preds.csv").write_text(sc.DATASET_CSV, encoding="utf-8")
    with live_server(
        tmp_path_factory.mktemp("client-models"),
        LOSSCORE_API_KEYS=keys,
        LOSSCORE_EVALUATE_OPEN="false",
        LOSSCORE_DATASET_ROOTS=str(datasets),
    ) as base:
        yield base


def _import(root: Path, package: str) -> Iterator[ModuleType]:
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="session")
def opc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, Generated]]:
    """openapi-python-client's package ``opcclient``."""
    exe = tool("openapi-python-client")
    require(exe is not None, "openapi-python-client not installed (pip install -e '.[test]')")
    assert exe is not None
    out = tmp_path_factory.mktemp("opc")
    config = out / "config.yaml"
    # no post hooks: the generator would run ruff on the output, which is not what we test
    config.write_text("package_name_override: opcclient\npost_hooks: []\n", encoding="utf-8")
    target = out / "opcclient"
    log, seconds = _run(
        [
            exe,
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--fail-on-warning",
            "--config",
            str(config),
            "--output-path",
            str(target),
        ]
    )
    yield from ((module, Generated(target, log, seconds)) for module in _import(out, "opcclient"))


@pytest.fixture(scope="session")
def ogpy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, Generated]]:
    """openapi-generator's ``python`` package ``ogclient``."""
    out = tmp_path_factory.mktemp("ogpy")
    generated = _openapi_generator(OPENAPI_GENERATOR_PYTHON, out)
    yield from ((module, generated) for module in _import(out, "ogclient"))


@pytest.fixture(scope="session")
def typescript(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """openapi-generator's ``typescript-fetch`` output, with the scenario, compiled."""
    require(shutil.which("node") is not None, "no Node.js (apt-get install nodejs npm)")
    require(TSC.exists(), "TypeScript not installed (make client-tools, which needs npm)")
    out = tmp_path_factory.mktemp("ts")
    return _openapi_generator(OPENAPI_GENERATOR_TS, out)
