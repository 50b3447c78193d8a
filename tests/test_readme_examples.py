"""Every command block of the README runs verbatim from the repository root against a live
server at 127.0.0.1:8000 (the address the README uses), so the README cannot rot.

* ``sh`` blocks run in bash with ``set -e``; ``curl`` is wrapped to fail on an HTTP
  error (``--fail-with-body``), so a 4xx or 5xx fails the block instead of printing an error.
* ``python`` blocks run in this interpreter (the project's environment).
* A block preceded by ``<!-- readme-test: skip: reason -->`` is not run (it starts a server,
  builds the container, or is a fragment over the reader's own data); the reason must be given.

The commands run from a copy-free working directory: the repository root, with the outputs
they write going to /tmp (a test checks that no block leaves a file in the repository).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests._live import ROOT, start_server

README = ROOT / "README.md"
PORT = 8000  # the README's address
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(\S.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    code: str
    skip: str | None  # the reason it is not run


def blocks() -> list[Block]:
    out: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        previous = next((x for x in reversed(lines[:start]) if x.strip()), "")
        skip = SKIP.search(previous)
        code = "\n".join(lines[start + 1 : j]) + "\n"
        out.append(Block(start + 1, m.group(1), code, skip.group(1) if skip else None))
        i = j + 1
    return out


RUNNABLE = [b for b in blocks() if b.language in ("sh", "python") and b.skip is None]


def test_every_block_is_run_or_says_why_not() -> None:
    for block in blocks():
        if block.language in ("sh", "python"):
            assert block.skip is None or len(block.skip) > 10, block
    assert len(RUNNABLE) >= 6  # the curl, upload, streaming, inference and CLI blocks


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if not _port_free(PORT):
        message = f"port {PORT} is in use: the README's commands address 127.0.0.1:{PORT}"
        if os.environ.get("LOSSCORE_REQUIRE_CLIENT_TESTS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    proc = start_server(tmp_path_factory.mktemp("readme-store"), PORT)
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a ``curl`` that fails on HTTP errors (showing the body)."""
    real = shutil.which("curl")
    if real is None:
        pytest.skip("curl is not installed")
    d = tmp_path_factory.mktemp("shim")
    (d / "curl").write_text(f'#!/bin/sh\nexec {real} --fail-with-body "$@"\n', encoding="utf-8")
    (d / "curl").chmod(0o755)
    return d


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=[f"line{b.line}-{b.language}" for b in RUNNABLE])
def test_readme_block_runs_verbatim(block: Block, server: None, shim: Path) -> None:
    before = _repository_files()
    env = {**os.environ, "PATH": f"{shim}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    if block.language == "sh":
        cmd = ["bash", "-e", "-c", block.code]
    else:
        cmd = [sys.executable, "-c", block.code]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"README line {block.line} printed nothing"
    assert _repository_files() == before, "a README command wrote into the repository"


def _repository_files() -> set[str]:
    """Files git would see as new or changed (outputs must go to /tmp)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.splitlines())
