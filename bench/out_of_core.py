"""Out of core on one machine: a fit over a Parquet dataset larger than the memory the process
may use (issue 11).

1. Writes a Parquet dataset (``--rows`` × ``--features`` float64 features, a 0/1 label) in
   files of ``--file-rows`` rows, generated file by file (never whole in memory), unless it
   exists.
2. Fits logistic regression (log_loss + l2) and a linear SVM (hinge + l2) over it with
   ``losscore.train.fit`` on Dask's local scheduler (threads, no client: the blocks are read
   again at every pass, never persisted), in a child process whose address space is limited
   with ``RLIMIT_AS`` to ``--limit-gb``, below the dataset's size.
3. Prints the dataset's size, the limit, the child's peak RSS (``VmHWM``), the passes, the time
   and the certificate of each fit.

Usage::

    .venv/bin/python bench/out_of_core.py --dir /tmp/ooc            # 2.4e7 x 20: 4.0 GB
    .venv/bin/python bench/out_of_core.py --rows 2000000 --dir /tmp/ooc-small
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def write_dataset(path: Path, rows: int, features: int, file_rows: int) -> int:
    """The dataset, file by file; returns its size in bytes on disk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.mkdir(parents=True, exist_ok=True)
    done = path / "_complete"
    if not done.exists():
        rng = np.random.default_rng(0)
        w = rng.normal(size=features)
        for i, lo in enumerate(range(0, rows, file_rows)):
            n = min(file_rows, rows - lo)
            X = rng.normal(size=(n, features))
            y = (X @ w + rng.logistic(size=n) > 0).astype(np.int8)
            cols = {f"x{j}": X[:, j] for j in range(features)} | {"label": y}
            pq.write_table(pa.table(cols), path / f"part-{i:04d}.parquet", compression=None)
            del X, y, cols
        done.write_text(json.dumps({"rows": rows, "features": features}))
    return sum(f.stat().st_size for f in path.glob("*.parquet"))


def child(path: str, features: int, limit: int, losses: list[str]) -> None:
    """The fit, under RLIMIT_AS (set before NumPy, pyarrow or Dask is imported)."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import dask
    import dask.dataframe as dd

    from losscore.train import fit

    dask.config.set(scheduler="threads", num_workers=2)
    cols = [f"x{j}" for j in range(features)]
    out = []
    for loss in losses:
        frame = dd.read_parquet(path, columns=[*cols, "label"])
        started = time.perf_counter()
        r = fit(
            frame,
            "label",
            features=cols,
            task="classification",
            loss=loss,
            penalty="l2",
            alpha=1e-4,
            callback=lambda it, obj, opt, el, name=loss: print(
                f"{name} iteration {it}: F {obj:.10f}, optimality {opt:.1e}, {el:.0f} s",
                file=sys.stderr,
                flush=True,
            ),
        )
        out.append(
            {
                "loss": loss,
                "seconds": time.perf_counter() - started,
                "passes": r.passes,
                "solver": r.solver,
                "objective": r.objective,
                "optimality": r.optimality,
                "converged": r.converged,
                "accuracy": r.metrics["accuracy"],
                "blocks": r.provenance["blocks"],
                "persisted": r.provenance["persisted"],
            }
        )
    status = Path("/proc/self/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    print(json.dumps({"fits": out, "peak_rss_kb": peak}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/tmp/losscore-ooc")
    ap.add_argument("--rows", type=int, default=24_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--file-rows", type=int, default=500_000)
    ap.add_argument("--limit-gb", type=float, default=3.0)
    ap.add_argument("--losses", default="log_loss,hinge", help="comma-separated")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    limit = int(args.limit_gb * 2**30)
    if args.child:
        child(args.dir, args.features, limit, args.losses.split(","))
        return
    t = time.perf_counter()
    size = write_dataset(Path(args.dir), args.rows, args.features, args.file_rows)
    print(
        f"dataset: {args.rows:,} x {args.features} float64 + label, {size / 2**30:.2f} GiB "
        f"on disk in {args.dir} (ready in {time.perf_counter() - t:.0f} s)"
    )
    print(
        f"child process: RLIMIT_AS = {args.limit_gb} GiB (below the dataset's size: "
        f"{size > limit}), Dask local scheduler, 2 threads, no client"
    )
    run = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--dir",
            args.dir,
            "--features",
            str(args.features),
            "--limit-gb",
            str(args.limit_gb),
            "--losses",
            args.losses,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if run.returncode != 0:
        print(run.stderr[-3000:])
        raise SystemExit(f"child failed ({run.returncode})")
    res = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"peak RSS of the fitting process: {res['peak_rss_kb'] / 2**20:.2f} GiB "
        f"({res['peak_rss_kb'] * 1024 / size:.2f} x the dataset)"
    )
    print(
        "| loss | blocks | persisted | passes | seconds | s / pass | solver | objective | "
        "optimality | converged | accuracy |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |")
    for f in res["fits"]:
        print(
            f"| {f['loss']} | {f['blocks']} | {f['persisted']} | {f['passes']} | "
            f"{f['seconds']:.1f} | {f['seconds'] / f['passes']:.2f} | {f['solver']} | "
            f"{f['objective']:.10f} | {f['optimality']:.1e} | {f['converged']} | "
            f"{f['accuracy']:.4f} |"
        )


if __name__ == "__main__":
    main()
