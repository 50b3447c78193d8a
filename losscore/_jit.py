"""``numba.njit`` as losscore's compiled kernels use it (private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

__all__ = ["compiled"]


def compiled(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with the on-disk cache when a writable cache location exists (next to
    the module, ``NUMBA_CACHE_DIR`` or the user's cache directory), else compiled in memory
    once per process: numba refuses ``cache=True`` outright when no location is writable
    (a read-only install or container file system), which must not break ``import losscore``.
    Division follows NumPy (no Python ZeroDivisionError checks in the loops).

    numba invalidates a cached function when the file that defines it changes, not when a
    compiled function it calls (from another file) does: after editing such a helper, touch
    the files of its callers or delete their ``__pycache__/*.nbi`` index files.
    """

    def wrap(fn: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, error_model="numpy", **options)(fn)
        except RuntimeError:  # "cannot cache function …: no locator available"
            return njit(cache=False, error_model="numpy", **options)(fn)

    return wrap
