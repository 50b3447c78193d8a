"""losscore against dask-ml on one Dask cluster and one Parquet dataset (issue 11).

(Named ``dask_fit.py``, not ``dask.py``: a file named after a library shadows it for every
script run from this directory.)

Starts a ``distributed.LocalCluster`` (``--workers`` processes, one thread each), reads the
Parquet dataset written by ``bench/out_of_core.py``'s generator (``--rows`` × ``--features``
float64, a 0/1 label; a regression target is derived on the workers), persists it as Dask
arrays on the workers, and fits on the same persisted arrays:

* logistic regression, alpha = ``--alpha`` (F = mean log-loss + alpha/2·‖w‖²): losscore
  (``log_loss`` + l2), and dask-ml's ``LogisticRegression`` with ``C = 1 / (n·alpha)`` (dask-glm
  minimises Σ log-loss + (1/C)·½‖β‖²: the same F times n, except that it also penalises the
  intercept) with its ``lbfgs``, ``admm`` and ``newton`` solvers at their defaults;
* least squares, F = mean (f − y)² + alpha/2·‖w‖²: losscore (``l2`` + l2) and dask-ml's
  ``LinearRegression`` (``C = 1 / (n·alpha)``, dask-glm's Σ(y − Xβ)² + (1/C)·½‖β‖²);
* the losses dask-ml does not have: hinge, squared hinge, Huber (δ = 1), quantile (q = 0.5).

Each fit's distance to the optimum is (F(w, b) − F*)/F*, with F evaluated by one Dask pass
over the same data for every library, and F* the lowest F found by any fit (losscore's
certificate bounds how far that is from the true optimum). Reported: seconds, passes (losscore's
count), relative distance, and the workers' peak RSS.

Usage (the dataset is written on first use; several minutes at the default size)::

    .venv/bin/python bench/dask_fit.py                        # 1e7 x 20 (1.6 GB)
    .venv/bin/python bench/dask_fit.py --rows 1000000 --dir /tmp/losscore-bench-1m
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from out_of_core import write_dataset


def _peak_rss_mb(client: Any) -> float:
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return max(peaks.values()) / 1024


def _objective(kind: str, X: Any, y: Any, w: np.ndarray, b: float, alpha: float) -> float:
    """F(w, b) in losscore's convention, by one Dask pass (the same for every library)."""
    import dask.array as da

    f = X @ w + b
    if kind == "logistic":
        m = (2.0 * y - 1.0) * f
        data = da.logaddexp(0.0, -m).mean()
    else:
        data = ((f - y) ** 2).mean()
    return float(data.compute()) + 0.5 * alpha * float(w @ w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/tmp/losscore-bench-1e7")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--file-rows", type=int, default=500_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=1e-4)
    ap.add_argument("--skip", nargs="*", default=[], help="dask-ml solvers to skip")
    ap.add_argument("--no-peers", action="store_true", help="losscore's fits only")
    ap.add_argument(
        "--other-losses",
        default="hinge,squared_hinge,huber,quantile",
        help="the losses dask-ml does not have, comma-separated",
    )
    args = ap.parse_args()

    import dask
    import dask.dataframe as dd
    import dask_ml
    import distributed
    from dask_ml.linear_model import LinearRegression, LogisticRegression

    from losscore.train import fit

    size = write_dataset(Path(args.dir), args.rows, args.features, args.file_rows)
    print(f"# bench/dask_fit.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"dask {dask.__version__}, distributed {distributed.__version__}, "
        f"dask-ml {dask_ml.__version__}"
    )
    print(
        f"data: {args.rows:,} x {args.features} float64 ({size / 2**30:.2f} GiB Parquet), "
        f"LocalCluster of {args.workers} worker processes x 1 thread, alpha = {args.alpha:g}"
    )
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    cols = [f"x{j}" for j in range(args.features)]
    frame = dd.read_parquet(args.dir, columns=[*cols, "label"])
    both = frame.to_dask_array(lengths=True).astype(np.float64)
    X = both[:, : args.features].persist()
    yc = both[:, args.features].persist()
    rng = np.random.default_rng(1)
    w_true = rng.normal(size=args.features)
    yr = (X @ w_true + 0.5 * (2 * yc - 1)).persist()  # a regression target on the workers
    distributed.wait([X, yc, yr])
    n = args.rows
    rows: list[dict[str, Any]] = []

    def record(
        task: str,
        who: str,
        seconds: float,
        w: np.ndarray,
        b: float,
        passes: Any = "",
        note: str = "",
    ) -> None:
        kind = "logistic" if task == "logistic" else "squares"
        F = _objective(kind, X, yc if kind == "logistic" else yr, w, b, args.alpha)
        rows.append(
            {"task": task, "who": who, "s": seconds, "F": F, "passes": passes, "note": note}
        )
        print(
            f"  {task:9s} {who:28s} {seconds:8.1f} s  F = {F:.12f}  passes {passes} {note}",
            flush=True,
        )

    for task, y, loss in (("logistic", yc, "log_loss"), ("squares", yr, "l2")):
        if args.no_peers:
            break
        t = time.perf_counter()
        r = fit(
            X,
            y,
            task="classification" if task == "logistic" else "regression",
            loss=loss,
            penalty="l2",
            alpha=args.alpha,
        )
        record(
            task,
            f"losscore {r.solver}",
            time.perf_counter() - t,
            np.asarray(r.coef),
            float(r.intercept),
            r.passes,
            f"optimality {r.optimality:.1e}",
        )
        est_cls = LogisticRegression if task == "logistic" else LinearRegression
        for solver in ("lbfgs", "admm", "newton"):
            if solver in args.skip:
                continue
            est = est_cls(solver=solver, C=1.0 / (n * args.alpha))
            t = time.perf_counter()
            est.fit(X, y)
            record(
                task,
                f"dask-ml {solver}",
                time.perf_counter() - t,
                np.asarray(est.coef_),
                float(est.intercept_),
            )

    params_of: dict[str, dict[str, float]] = {"huber": {"delta": 1.0}, "quantile": {"q": 0.5}}
    for loss in [name for name in args.other_losses.split(",") if name]:
        params = params_of.get(loss, {})
        task = "classification" if "hinge" in loss else "regression"
        t = time.perf_counter()
        r = fit(
            X,
            yc if task == "classification" else yr,
            task=task,
            loss=loss,
            loss_params=params,
            penalty="l2",
            alpha=args.alpha,
        )
        print(
            f"  {loss:9s} losscore {r.solver:20s} {time.perf_counter() - t:8.1f} s  "
            f"F = {r.objective:.12f}  passes {r.passes}  optimality {r.optimality:.1e}  "
            f"converged {r.converged}",
            flush=True,
        )
    print(f"workers' peak RSS: {_peak_rss_mb(client):.0f} MiB each at most")
    print()
    if not rows:
        client.close()
        cluster.close()
        return
    print("| task | fit | seconds | passes | (F − F*) / F* |")
    print("| --- | --- | ---: | ---: | ---: |")
    for task in ("logistic", "squares"):
        best = min(r["F"] for r in rows if r["task"] == task)
        for r in (r for r in rows if r["task"] == task):
            print(
                f"| {task} | {r['who']} | {r['s']:.1f} | {r['passes']} | "
                f"{(r['F'] - best) / best:.1e} |"
            )
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
