"""Chunked, optionally threaded execution of elementwise work (private).

Large arrays are processed in chunks small enough for their temporaries to
stay in cache; NumPy releases the GIL inside ufuncs, so chunks run on a small
thread pool. The pool size is ``LOSSCORE_NUM_THREADS`` (default: the CPU count).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

CHUNK_ELEMENTS = 1 << 15
_MIN_CHUNKS_FOR_THREADS = 4

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def thread_count() -> int:
    raw = os.environ.get("LOSSCORE_NUM_THREADS", "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return os.cpu_count() or 1


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="losscore")
        return _pool


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    chunk = max(1, chunk)
    return [(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def map_chunks(func: Callable[[int, int], T], bounds: Sequence[tuple[int, int]]) -> list[T]:
    """``[func(lo, hi) for lo, hi in bounds]``, on the pool when there is enough work.

    Results come back in order; the first exception (in chunk order) is raised.
    """
    if len(bounds) < _MIN_CHUNKS_FOR_THREADS or thread_count() == 1:
        return [func(lo, hi) for lo, hi in bounds]
    pool = _get_pool()
    futures = [pool.submit(func, lo, hi) for lo, hi in bounds]
    return [f.result() for f in futures]
