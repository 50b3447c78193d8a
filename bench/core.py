"""Core benchmark: losscore.evaluate (value + elementwise + gradient) against PyTorch CPU.

For ``smooth_l1``, ``huber``, ``l2`` and ``log_loss`` on N float64 elements (default 10**7)
this times ``losscore.evaluate(name, pred, target, reduction="mean")`` and PyTorch's
forward + backward on the same arrays, in the same process, best of ``--repeat`` runs after
a warm-up, and prints ms and the ratio losscore / torch. It also measures the peak extra
memory of one ``losscore.evaluate`` call with tracemalloc (NumPy reports its data buffers to
it), in units of the input array's size, excluding the inputs, and how much of that peak is
the returned arrays (elementwise + gradient).

PyTorch is optional: without it losscore is timed alone. Run it with any Python that can
import numpy, losscore and (optionally) torch, e.g.::

    PYTHONPATH=/work/main /tmp/benchenv/bin/python bench/core.py

See bench/README.md.
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
import tracemalloc
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

from losscore._parallel import thread_count

try:
    import torch
    import torch.nn.functional as tnf
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]
    tnf = None  # type: ignore[assignment]

LOSSES = ("smooth_l1", "huber", "l2", "log_loss")
TORCH_NAMES = {
    "smooth_l1": "smooth_l1_loss",
    "huber": "huber_loss",
    "l2": "mse_loss",
    "log_loss": "binary_cross_entropy_with_logits",
}


@dataclass
class Row:
    loss: str
    losscore_ms: float
    torch_ms: float | None
    peak_arrays: float
    returned_arrays: float

    @property
    def ratio(self) -> float | None:
        return None if self.torch_ms is None else self.losscore_ms / self.torch_ms


def make_data(name: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets: residuals spread over both branches of the kinked losses;
    labels in {0, 1} (float64, as PyTorch's BCE-with-logits takes them) for log_loss."""
    rng = np.random.default_rng(seed)
    pred = rng.standard_normal(n) * 2.0
    if name == "log_loss":
        target = (rng.random(n) < 0.5).astype(np.float64)
    else:
        target = rng.standard_normal(n)
    return pred, target


def best_of(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Best wall time in ms of each function over *repeat* rounds, after one warm-up call
    each. The functions alternate within a round, so background load hits them alike.
    Results are dropped before the next call: each call allocates its outputs afresh, as
    a user's would."""
    for fn in fns:
        out = fn()
        del out
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            t1 = time.perf_counter()
            del out
            best[i] = min(best[i], t1 - t0)
    return [b * 1e3 for b in best]


def losscore_call(name: str, pred: np.ndarray, target: np.ndarray) -> Callable[[], Any]:
    def run() -> Any:
        r = losscore.evaluate(name, pred, target, reduction="mean")
        return r.value, r.elementwise, r.gradient

    return run


def torch_call(name: str, pred: np.ndarray, target: np.ndarray) -> Callable[[], Any]:
    assert torch is not None
    x = torch.from_numpy(pred).requires_grad_(True)
    t = torch.from_numpy(target)
    fn = getattr(tnf, TORCH_NAMES[name])

    def run() -> Any:
        x.grad = None
        loss = fn(x, t, reduction="mean")
        loss.backward()
        return loss.item(), x.grad

    return run


def peak_memory(name: str, pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(peak extra bytes, returned bytes) of one evaluate call, in units of pred.nbytes."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        r = losscore.evaluate(name, pred, target, reduction="mean")
        peak = tracemalloc.get_traced_memory()[1] - base
        returned = r.elementwise.nbytes + r.gradient.nbytes
        del r
    finally:
        tracemalloc.stop()
    return peak / pred.nbytes, returned / pred.nbytes


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
    lines = [
        f"date:        {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:     {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.machine()}",
        f"python:      {platform.python_version()}  numpy {np.__version__}  "
        f"losscore {losscore.__version__}",
        f"threads:     losscore {thread_count()} "
        f"(LOSSCORE_NUM_THREADS={env_threads or 'unset'}, default = CPU count)",
    ]
    if torch is not None:
        lines.append(
            f"torch:       {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}"
        )
    else:
        lines.append("torch:       not importable: timing losscore alone")
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    lines.append(f"env:         {blas or 'OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset'}")
    lines.append(f"size:        {n:,} float64 elements, reduction='mean', best of {repeat}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(
        f"load:        {load} (1/5/15-min load average at start; other processes share the CPUs)"
    )
    return lines


def run(names: list[str], n: int, repeat: int) -> list[Row]:
    rows = []
    for name in names:
        pred, target = make_data(name, n)
        calls = [losscore_call(name, pred, target)]
        if torch is not None:
            calls.append(torch_call(name, pred, target))
        times = best_of(calls, repeat)
        peak, returned = peak_memory(name, pred, target)
        rows.append(Row(name, times[0], times[1] if len(times) > 1 else None, peak, returned))
    return rows


def table(rows: list[Row]) -> list[str]:
    out = [
        "| loss | torch function | losscore ms | torch ms | ratio | peak extra memory "
        "(input arrays) | of which returned |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        th = "n/a" if r.torch_ms is None else f"{r.torch_ms:.1f}"
        ratio = "n/a" if r.ratio is None else f"{r.ratio:.2f}"
        out.append(
            f"| {r.loss} | {TORCH_NAMES[r.loss]} | {r.losscore_ms:.1f} | {th} | {ratio} "
            f"| {r.peak_arrays:.2f} | {r.returned_arrays:.2f} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10**7, help="elements (default 10**7)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per case (best is kept)")
    p.add_argument("--loss", action="append", choices=LOSSES, help="only these losses")
    p.add_argument(
        "--threads",
        type=int,
        help="thread count for both: sets LOSSCORE_NUM_THREADS and torch.set_num_threads",
    )
    args = p.parse_args(argv)
    names = args.loss or list(LOSSES)
    if args.threads:
        os.environ["LOSSCORE_NUM_THREADS"] = str(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    for line in header(args.n, args.repeat):
        print(line)
    print()
    for line in table(run(names, args.n, args.repeat)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
