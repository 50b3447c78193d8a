"""Chunked, optionally threaded execution of elementwise work (private).

Large arrays are processed in chunks small enough for their temporaries to
stay in cache; NumPy releases the GIL inside ufuncs, so chunks run on a small
thread pool. The pool size is ``LOSSCORE_NUM_THREADS`` (default: the CPU count).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

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


_scratch = threading.local()


def scratch(slot: int, n: int, dtype: np.dtype[Any]) -> NDArray[Any]:
    """A reusable 1-d buffer of *n* elements owned by the calling thread (one per *slot*).

    Kernels use it for chunk temporaries: a fresh chunk-sized array per ufunc call costs
    a malloc, and glibc serves arrays of 128 KiB and more with mmap or trims them back to
    the OS, so every chunk would pay page faults. Callers must not keep or return it;
    *n* above ``CHUNK_ELEMENTS`` gets a fresh array.
    """
    if n > CHUNK_ELEMENTS:
        return np.empty(n, dtype=dtype)
    bufs: dict[tuple[int, np.dtype[Any]], NDArray[Any]] = _scratch.__dict__.setdefault("bufs", {})
    buf = bufs.get((slot, dtype))
    if buf is None or buf.shape[0] < n:
        buf = bufs[(slot, dtype)] = np.empty(CHUNK_ELEMENTS, dtype=dtype)
    return buf[:n]


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    chunk = max(1, chunk)
    return [(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def map_chunks(func: Callable[[int, int], T], bounds: Sequence[tuple[int, int]]) -> list[T]:
    """``[func(lo, hi) for lo, hi in bounds]``, on the pool when there is enough work.

    Results come back in order; the first exception (in chunk order) is raised.

    One task per thread (the calling thread is one of them) takes the next chunk index
    from a shared counter until none is left: no future per chunk. Chunk indices are
    taken in increasing order and a taken chunk is always finished, so after a failure
    every earlier chunk has run and the first exception in chunk order is known.
    """
    workers = min(thread_count(), len(bounds))
    if len(bounds) < _MIN_CHUNKS_FOR_THREADS or workers == 1:
        return [func(lo, hi) for lo, hi in bounds]
    results: list[T | None] = [None] * len(bounds)
    errors: dict[int, BaseException] = {}
    counter = itertools.count()
    take = threading.Lock()

    def work() -> None:
        while not errors:
            with take:
                i = next(counter)
            if i >= len(bounds):
                return
            lo, hi = bounds[i]
            try:
                results[i] = func(lo, hi)
            except BaseException as exc:
                errors[i] = exc
                return

    pool = _get_pool()
    futures = [pool.submit(work) for _ in range(workers - 1)]
    work()
    for f in futures:
        if not f.cancel():  # a task that never started has nothing to finish
            f.result()
    if errors:
        raise errors[min(errors)]
    return cast("list[T]", results)
