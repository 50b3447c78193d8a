"""glibc malloc tuning for large requests (Linux only; a no-op elsewhere).

A 10⁶-element request allocates some 100 MB of short-lived buffers (body, decoded
arrays, results, encoded response). By default glibc serves each with a fresh
``mmap`` and returns it on free, so every request pays page faults on all of it,
which cost more than the computation itself. Raising the mmap and trim thresholds
keeps freed memory in the heap for reuse (the process keeps its peak size).
Enabled by ``LOSSCORE_TUNE_MALLOC`` (default true).
"""

from __future__ import annotations

import ctypes
import logging

__all__ = ["tune_malloc"]

log = logging.getLogger("service")

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

_done = False


def tune_malloc() -> bool:
    """Apply the thresholds once per process; True when glibc accepted them."""
    global _done
    if _done:
        return True
    try:
        # the process's own symbols, libc's among them: no library search, which needs
        # ldconfig or a compiler (``ctypes.util.find_library``) that the image does not have
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (Windows: no CDLL(None))
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, 512 * 1024 * 1024),
            (M_TRIM_THRESHOLD, 1024 * 1024 * 1024),
            (M_TOP_PAD, 64 * 1024 * 1024),
        )
    )
    if not ok:
        log.warning("mallopt refused the malloc tuning")
    _done = ok
    return ok
