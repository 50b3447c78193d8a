"""``numba.njit`` as the solvers' compiled kernels use it (private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

__all__ = ["FAST", "compiled"]

# reassociation lets the compiler vectorise the length-d dot products (a scalar reduction is
# latency-bound); no flag that assumes finite values or changes the rounding of single ops
FAST = {"reassoc", "contract"}


def compiled(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with the on-disk cache when a writable cache location exists (next to
    the module, ``NUMBA_CACHE_DIR`` or the user's cache directory), else compiled in memory
    once per process: numba refuses ``cache=True`` outright when no location is writable
    (a read-only install or container file system), which must not break ``import losscore``.
    Division follows NumPy (no Python ZeroDivisionError checks in the loops)."""

    def wrap(fn: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, error_model="numpy", **options)(fn)
        except RuntimeError:  # "cannot cache function …: no locator available"
            return njit(cache=False, error_model="numpy", **options)(fn)

    return wrap
