"""A/B timing of two checkouts of losscore on the same machine in the same minutes.

Ratios against peers move with the peers' own times and the machine's load; comparing a
change with the commit before it, alternating processes, isolates the change::

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/ab.py /tmp/before . --rounds 2

Each round runs one process per checkout (``PYTHONPATH`` set to it) that times every case,
best of ``--repeat``, and prints milliseconds; the table shows every round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ALPHA = 1e-4


def _data(n: int, d: int) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    s = X @ rng.normal(size=d)
    W3 = rng.normal(size=(3, d))
    yb = np.where(s + 2 * rng.normal(size=n) > 0, 1, -1)
    yr = s + 1 + rng.standard_t(3, size=n)
    ym = np.argmax(X @ W3.T + 2 * rng.normal(size=(n, 3)), axis=1)
    return X, yb, yr, ym


def _fits(n: int, d: int) -> dict[str, Callable[[], Any]]:
    from losscore.train import fit

    X, yb, yr, ym = _data(n, d)
    specs = {
        "log_loss + l2": (yb, {"task": "classification", "loss": "log_loss", "tol": 1e-6}),
        "softmax + l2": (
            ym,
            {"task": "classification", "loss": "softmax_cross_entropy", "tol": 1e-6},
        ),
        "Ridge": (yr, {"task": "regression", "loss": "l2", "tol": 1e-6}),
        "Lasso": (yr, {"task": "regression", "loss": "l2", "penalty": "l1", "tol": 1e-6}),
        "huber + l2": (yr, {"task": "regression", "loss": "huber", "tol": 1e-6}),
        "hinge + l2": (yb, {"task": "classification", "loss": "hinge", "tol": 1e-4}),
    }
    return {
        f"{n:,} × {d} {name}": (lambda y=y, kw=kw: fit(X, y, alpha=ALPHA, **kw))
        for name, (y, kw) in specs.items()
    }


def _evaluations() -> dict[str, Callable[[], Any]]:
    import losscore

    rng = np.random.default_rng(0)
    p, t = rng.normal(size=10**7), rng.normal(size=10**7)
    labels = (rng.random(10**7) > 0.5).astype(float)
    f, k = rng.normal(size=(10**6, 3)), rng.integers(0, 3, size=10**6)
    return {
        "evaluate l2 10⁷": lambda: losscore.evaluate("l2", p, t),
        "evaluate log_loss 10⁷": lambda: losscore.evaluate("log_loss", p, labels),
        "evaluate softmax 10⁶ × 3": lambda: losscore.evaluate("softmax_cross_entropy", f, k),
    }


def _best(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def worker(repeat: int) -> None:
    """Time every case in this process (losscore from PYTHONPATH); print JSON."""
    out = {}
    for name, fn in _fits(1000, 20).items():
        out[name] = _best(fn, repeat * 10)
    for name, fn in _fits(100_000, 50).items():
        out[name] = _best(fn, repeat)
    for name, fn in _evaluations().items():
        out[name] = _best(fn, repeat * 2)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.repeat)
        return
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for label in ("before", "after"):
            tree = getattr(args, label).resolve()
            env = {**os.environ, "PYTHONPATH": str(tree)}
            cmd = [
                sys.executable,
                __file__,
                str(args.before),
                str(args.after),
                "--worker",
                "--repeat",
                str(args.repeat),
            ]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[label].append(json.loads(done.stdout))
    print("| case | before ms | after ms |\n| --- | ---: | ---: |")
    for name in runs["before"][0]:
        before = ", ".join(f"{r[name]:.3g}" for r in runs["before"])
        after = ", ".join(f"{r[name]:.3g}" for r in runs["after"])
        print(f"| {name} | {before} | {after} |")


if __name__ == "__main__":
    main()
