"""Core benchmark: ``losscore.evaluate`` against the memory-bandwidth floor and PyTorch CPU.

For smooth_l1, huber, l2, log_loss and hinge on N elements (default 10**7) and
softmax_cross_entropy on N/10 rows of 10 logits, in float64 and float32, in a plain process
(no allocator tuning), this times, best of ``--repeat`` after a warm-up, the calls alternating
within each round so that background load hits them alike:

* ``fresh``: ``evaluate(name, p, t, reduction="mean")`` (value, elementwise and gradient into
  newly allocated arrays, as a plain call makes them);
* ``value+grad``: ``outputs=["value", "gradient"]`` into a caller-owned ``gradient_out``;
* ``value``: ``outputs=["value"]`` (reads the inputs, writes nothing of their size);
* PyTorch's forward + backward of the same loss (``--no-torch`` or no torch: skipped);

and, in the same run, the floors: NumPy passes over the same arrays in cache-sized chunks on
losscore's thread pool (and as one whole-array call; the faster is kept): reading the two
inputs (``np.subtract`` into a cache-resident scratch), reading two and writing one
(``np.subtract(p, t, out=g)``), reading two and writing two (that, then a copy of the chunk
into a second output). It prints each time with its ratio to its floor, PyTorch's ratio, the
float32/float64 speed per element, and the goals of issue 16:

* value + gradient with caller buffers ≤ 1.5 × the read-2-write-2 floor;
* value only ≤ 1.2 × the read-2 floor;
* float32 at least 1.7 × faster than float64 per element (value + gradient, buffers).

Run it with any Python that imports numpy, numba, losscore (and, optionally, torch)::

    PYTHONPATH=. /tmp/benchenv/bin/python bench/core.py

See bench/README.md; figures in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:  # run from a checkout without installing losscore
    import losscore
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import losscore

from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks, scratch, thread_count

try:
    import torch
    import torch.nn.functional as tnf
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]
    tnf = None  # type: ignore[assignment]

LOSSES = ("smooth_l1", "huber", "l2", "log_loss", "hinge", "softmax_cross_entropy")
CLASSES = 10
GOAL_VALUE_GRAD = 1.5
GOAL_VALUE = 1.2
GOAL_FLOAT32 = 1.7
Call = Callable[[], Any]


@dataclass
class Row:
    loss: str
    dtype: str
    times: dict[str, float]  # ms by case

    def ratio(self, case: str, floor: str) -> float:
        return self.times[case] / self.times[floor]


def make_data(name: str, n: int, dtype: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Residuals spread over both branches of the kinked losses; labels in {0, 1} (in the
    prediction's dtype, as PyTorch takes them); class indices for softmax (n/10 rows)."""
    rng = np.random.default_rng(seed)
    if name == "softmax_cross_entropy":
        rows = n // CLASSES
        return (rng.standard_normal((rows, CLASSES)) * 2).astype(dtype), rng.integers(
            0, CLASSES, rows
        )
    pred = (rng.standard_normal(n) * 2.0).astype(dtype)
    if name in ("log_loss", "hinge"):
        return pred, (rng.random(n) < 0.5).astype(dtype)
    return pred, rng.standard_normal(n).astype(dtype)


def best_of(calls: dict[str, Call], repeat: int) -> dict[str, float]:
    """Best wall time in ms of each call over *repeat* rounds, after a warm-up call each;
    results are dropped before the next call (a fresh call's arrays are freed, as a user's)."""
    for fn in calls.values():
        fn()
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for case, fn in calls.items():
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            t1 = time.perf_counter()
            del out
            best[case] = min(best[case], t1 - t0)
    return {case: b * 1e3 for case, b in best.items()}


def floor_calls(p: np.ndarray, t: np.ndarray) -> dict[str, Call]:
    """NumPy passes over the loss's own arrays: read 2; read 2, write 1; read 2, write 2."""
    t2 = t.reshape(t.shape + (1,) * (p.ndim - t.ndim)).astype(p.dtype)
    a, b = np.empty_like(p), np.empty_like(p)
    row = p.size // p.shape[0]
    rows = max(1, CHUNK_ELEMENTS // row)
    bounds = chunk_bounds(p.shape[0], rows)

    def read2(lo: int, hi: int) -> None:  # into each thread's cache-resident scratch
        out = scratch(0, (hi - lo) * row, p.dtype).reshape((hi - lo, *p.shape[1:]))
        np.subtract(p[lo:hi], t2[lo:hi], out=out)

    def read2_write1(lo: int, hi: int) -> None:
        np.subtract(p[lo:hi], t2[lo:hi], out=a[lo:hi])

    def read2_write2(lo: int, hi: int) -> None:
        np.subtract(p[lo:hi], t2[lo:hi], out=a[lo:hi])
        np.copyto(b[lo:hi], a[lo:hi])

    calls: dict[str, Call] = {
        "floor read 2": lambda: map_chunks(read2, bounds),
        "floor read 2 write 1": lambda: map_chunks(read2_write1, bounds),
        "floor read 2 write 2": lambda: map_chunks(read2_write2, bounds),
    }
    if p.shape == t2.shape:  # whole-array NumPy calls too (single-threaded)
        calls["floor read 2 (1 call)"] = lambda: float(np.vdot(p, t2))
        calls["floor read 2 write 1 (1 call)"] = lambda: np.subtract(p, t2, out=a)
    return calls


def losscore_calls(
    name: str, p: np.ndarray, t: np.ndarray, fresh_only: bool = False
) -> dict[str, Call]:
    fresh: dict[str, Call] = {"fresh": lambda: losscore.evaluate(name, p, t, reduction="mean")}
    if fresh_only:
        return fresh
    g = np.empty_like(p)
    return {
        **fresh,
        "value+grad": lambda: (
            losscore.evaluate(name, p, t, outputs=["value", "gradient"], gradient_out=g).value
        ),
        "value": lambda: losscore.evaluate(name, p, t, outputs=["value"]).value,
    }


def torch_call(name: str, p: np.ndarray, t: np.ndarray) -> Call:
    """PyTorch's forward + backward; hinge written out (PyTorch has no binary hinge loss)."""
    assert torch is not None
    x = torch.from_numpy(p).requires_grad_(True)
    if name == "softmax_cross_entropy":
        y = torch.from_numpy(t)

        def loss() -> Any:
            return tnf.cross_entropy(x, y)
    elif name == "hinge":
        y = torch.from_numpy(t * 2 - 1)

        def loss() -> Any:
            return torch.clamp(1 - x * y, min=0).mean()
    else:
        y = torch.from_numpy(t)
        fn = {
            "smooth_l1": tnf.smooth_l1_loss,
            "huber": tnf.huber_loss,
            "l2": tnf.mse_loss,
            "log_loss": tnf.binary_cross_entropy_with_logits,
        }[name]

        def loss() -> Any:
            return fn(x, y)

    def run() -> Any:
        x.grad = None
        out = loss()
        out.backward()
        return out.item(), x.grad

    return run


def measure(
    name: str, n: int, dtype: Any, repeat: int, with_torch: bool, fresh_only: bool = False
) -> Row:
    p, t = make_data(name, n, dtype)
    if fresh_only:  # the plain call alone: runs against older losscore versions too
        return Row(name, np.dtype(dtype).name, best_of(losscore_calls(name, p, t, True), repeat))
    calls = {**losscore_calls(name, p, t), **floor_calls(p, t)}
    if with_torch and torch is not None:
        calls["torch"] = torch_call(name, p, t)
    times = best_of(calls, repeat)
    for floor in ("floor read 2", "floor read 2 write 1"):
        if floor + " (1 call)" in times:
            times[floor] = min(times[floor], times.pop(floor + " (1 call)"))
    return Row(name, np.dtype(dtype).name, times)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def header(n: int, repeat: int) -> list[str]:
    env_threads = os.environ.get("LOSSCORE_NUM_THREADS", "")
    malloc = sorted(k for k in os.environ if k.startswith("MALLOC_"))
    return [
        f"date:     {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:  {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.machine()}",
        f"python:   {platform.python_version()}  numpy {np.__version__}  "
        f"losscore {losscore.__version__}",
        f"threads:  losscore {thread_count()} (LOSSCORE_NUM_THREADS={env_threads or 'unset'})",
        f"malloc:   {', '.join(malloc) or 'no MALLOC_* tuning (a plain process)'}",
        f"torch:    {torch.__version__ + f', {torch.get_num_threads()} threads' if torch else 'absent'}",
        f"size:     {n:,} elements ({n // CLASSES:,} x {CLASSES} for softmax), best of {repeat}",
        f"load:     {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15-min at start)",
    ]


def table(rows: list[Row]) -> list[str]:
    out = [
        "| loss | dtype | floor r2 | floor r2w1 | floor r2w2 | fresh | value+grad (buffer) "
        "| / r2w2 | value only | / r2 | torch | value+grad / torch |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        tm = r.times
        th = f"{tm['torch']:.1f}" if "torch" in tm else "n/a"
        tr = f"{tm['value+grad'] / tm['torch']:.2f}" if "torch" in tm else "n/a"
        out.append(
            f"| {r.loss} | {r.dtype} | {tm['floor read 2']:.1f} | {tm['floor read 2 write 1']:.1f} "
            f"| {tm['floor read 2 write 2']:.1f} | {tm['fresh']:.1f} | {tm['value+grad']:.1f} "
            f"| {r.ratio('value+grad', 'floor read 2 write 2'):.2f} | {tm['value']:.1f} "
            f"| {r.ratio('value', 'floor read 2'):.2f} | {th} | {tr} |"
        )
    return out


def goals(rows: list[Row]) -> list[str]:
    out = []
    by = {(r.loss, r.dtype): r for r in rows}
    for r in rows:
        vg = r.ratio("value+grad", "floor read 2 write 2")
        v = r.ratio("value", "floor read 2")
        out.append(
            f"{r.loss:<22} {r.dtype:<8} value+grad {vg:.2f} x floor "
            f"({'met' if vg <= GOAL_VALUE_GRAD else 'MISSED'}, goal {GOAL_VALUE_GRAD}); "
            f"value {v:.2f} x floor ({'met' if v <= GOAL_VALUE else 'MISSED'}, goal {GOAL_VALUE})"
        )
        if r.dtype == "float32" and (r.loss, "float64") in by:
            speed = by[(r.loss, "float64")].times["value+grad"] / r.times["value+grad"]
            out.append(
                f"{'':<22} float32 is {speed:.2f} x faster per element "
                f"({'met' if speed >= GOAL_FLOAT32 else 'MISSED'}, goal {GOAL_FLOAT32})"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10**7, help="elements (default 10**7)")
    p.add_argument("--repeat", type=int, default=7, help="timed runs per case (best is kept)")
    p.add_argument("--loss", action="append", choices=LOSSES, help="only these losses")
    p.add_argument("--dtype", action="append", choices=("float64", "float32"))
    p.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    p.add_argument(
        "--fresh-only",
        action="store_true",
        help="time only the plain call (to compare with an older losscore on PYTHONPATH)",
    )
    args = p.parse_args(argv)
    for line in header(args.n, args.repeat):
        print(line)
    rows = [
        measure(name, args.n, np.dtype(d), args.repeat, not args.no_torch, args.fresh_only)
        for name in args.loss or LOSSES
        for d in args.dtype or ("float64", "float32")
    ]
    if args.fresh_only:
        for r in rows:
            print(f"{r.loss:<22} {r.dtype:<8} fresh {r.times['fresh']:.1f} ms")
        return 0
    print()
    print("\n".join(table(rows)))
    print()
    print("\n".join(goals(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
