"""``service.memory.tune_malloc``: after it, glibc serves a large allocation from the heap
instead of a fresh ``mmap``, as glibc's own accounting (``mallinfo2``: bytes in mmapped
blocks) shows. Each case runs in a fresh interpreter (the tuning is process-wide)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

_PROBE = """
import ctypes, sys
import numpy as np
from service.memory import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
tuned = tune_malloc() if sys.argv[1] == "tuned" else None
before = mallinfo2().hblkhd
block = np.ones(64 * 2**20 // 8)  # 64 MiB, above glibc's default mmap threshold (128 KiB+)
print(tuned, mallinfo2().hblkhd - before)
"""


def _mmapped_growth(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


def test_untuned_allocation_is_mmapped() -> None:
    """The control: without the tuning the 64 MiB block is an mmapped chunk."""
    _, grown = _mmapped_growth("untuned")
    assert grown >= 64 * 2**20


def test_tuned_allocation_comes_from_the_heap() -> None:
    tuned, grown = _mmapped_growth("tuned")
    assert tuned == "True"
    assert grown == 0
