"""In-cache timings of the compiled log_loss and softmax kernels, ns per element, one thread.

``bench/core.py`` measures whole calls on 10⁷ elements against the memory floor; this
measures the compiled chunk kernels alone on a cache-resident chunk (default 4,096 elements,
or 4,096 // k rows of k logits), which is where their arithmetic shows: value + gradient
(into a caller buffer) and value only, float64 and float32, unweighted, best of
``--repeat`` rounds of ``--calls`` calls. Comparing two versions: run it on each (the numba
cache is keyed by the kernel's file; ``NUMBA_CACHE_DIR`` set to an empty directory avoids a
stale one after editing only a helper in ``losscore/_fused*.py``)::

    PYTHONPATH=. python bench/kernels.py [--classes 10] [--elements 4096]

Figures in bench/RESULTS.md ("log_loss and softmax compiled with multiply-adds").
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from losscore.losses.binary import _log_loss_fused
from losscore.losses.multiclass import _softmax_fused


def _best_ns_per_element(run: Callable[[], Any], elements: int, calls: int, repeat: int) -> float:
    run()  # compiles (or loads) the specialisation
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best / elements * 1e9


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # as the engine passes inputs
    return a


def _log_loss_case(
    dtype: Any, n: int, rng: np.random.Generator
) -> tuple[Callable[..., Any], tuple[Any, ...], int]:
    p = _read_only(rng.normal(0, 3, n).astype(dtype))
    t = _read_only((rng.random(n) < 0.5).astype(dtype))
    one = dtype(1)
    return _log_loss_fused, (p, t, (), None, one, one, dtype(1 / n)), n


def _softmax_case(
    dtype: Any, n: int, k: int, rng: np.random.Generator
) -> tuple[Callable[..., Any], tuple[Any, ...], int]:
    rows = max(1, n // k)
    p = _read_only(rng.normal(0, 3, (rows, k)).astype(dtype))
    t = _read_only(rng.integers(0, k, rows).astype(np.int64))
    one = dtype(1)
    consts = (one, dtype(0))  # no label smoothing
    return _softmax_fused, (p, t, consts, None, one, one, dtype(1 / rows)), rows * k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", type=int, default=4096, help="chunk size (cache-resident)")
    parser.add_argument("--classes", type=int, default=10, help="k for softmax")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"ns per element, {args.elements} elements (softmax k = {args.classes}), best of {args.repeat}"
    )
    for name in ("log_loss", "softmax_cross_entropy"):
        for dtype in (np.float64, np.float32):
            if name == "log_loss":
                kernel, head, elements = _log_loss_case(dtype, args.elements, rng)
            else:
                kernel, head, elements = _softmax_case(dtype, args.elements, args.classes, rng)
            gradient = np.empty(head[0].shape, dtype=dtype)
            acc = dtype(0)
            times = [
                _best_ns_per_element(
                    partial(kernel, *head, None, g, None, acc), elements, args.calls, args.repeat
                )
                for g in (gradient, None)
            ]
            print(
                f"{name:22} {dtype.__name__:8} value+grad {times[0]:5.2f}   value {times[1]:5.2f}"
            )


if __name__ == "__main__":
    main()
