"""One BLAS thread for the skinny blocked products of a fit (private).

Every pass over X in ``losscore.train`` is a sequence of small products on cache-sized row
blocks (x·w, gᵀX, block Gram matrices with d or k·d columns). OpenBLAS's threaded versions
of these gain nothing (they are memory- or call-overhead-bound) but synchronise two threads
per call; on a 2-core machine with anything else running (the data hash thread of the fit
itself, another process) the waiting threads made whole fits 2–6× slower (measured: log_loss
at 10⁶ × 20, 0.36 s single-threaded vs 0.76–2.2 s threaded). :func:`single_threaded_blas`
limits the BLAS libraries to one thread while a fit runs, through ``threadpoolctl`` when it
is installed (otherwise it does nothing).

The limit is process-wide; nested or concurrent fits share it (reference-counted: the first
fit in sets it, the last one out restores the original thread counts). Small fits (below
``MIN_ELEMENTS``) and wide ones (more than ``MAX_WIDTH`` columns, where threaded Gram products
do pay) run unchanged.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["MAX_WIDTH", "MIN_ELEMENTS", "single_threaded_blas"]

MIN_ELEMENTS = 1 << 20  # n·width below this: a fit takes milliseconds, leave BLAS alone
MAX_WIDTH = 256  # wider problems: threaded Gram/matrix products are worth their threads

_lock = threading.Lock()
_depth = 0
_limiter: Any = None
_controller: Any = None
_controller_failed = False


def _get_controller() -> Any:
    global _controller, _controller_failed
    if _controller is None and not _controller_failed:
        try:
            module = importlib.import_module("threadpoolctl")
            _controller = module.ThreadpoolController()
        except Exception:  # not installed, or an unsupported platform
            _controller_failed = True
    return _controller


@contextmanager
def single_threaded_blas(n: int, width: int) -> Iterator[None]:
    """Run the block with one BLAS thread when an n × width problem is large and skinny.

    ``LOSSCORE_FIT_BLAS_THREADS=keep`` disables it.
    """
    global _depth, _limiter
    if (
        n * width < MIN_ELEMENTS
        or width > MAX_WIDTH
        or os.environ.get("LOSSCORE_FIT_BLAS_THREADS", "").strip().lower() == "keep"
    ):
        yield
        return
    with _lock:
        if _depth == 0:
            controller = _get_controller()
            if controller is not None:
                _limiter = controller.limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None
