"""Train + predict throughput and latency of the model store's configurations (issue 12).

Three configurations, each for ``--seconds`` under ``--clients`` client threads that loop
"train a small model, then predict with it" round robin over the replicas:

* ``sqlite x1``: one service process on its embedded SQLite store;
* ``postgresql x1``: one service process on a real PostgreSQL (a throwaway cluster made by
  tests/postgres.py, as the tests make it);
* ``postgresql x3``: three service processes on that PostgreSQL (replicas).

Every process runs ``python -m service`` with ``WORKERS=1``. Printed: operations per second
and p50 / p99 latency of train and of predict, per configuration. On a 2-core machine the
three replicas share the same two cores as the database and the clients: the figures show the
store's overhead and contention, not scale-out.

Usage::

    .venv/bin/python bench/store.py                 # 15 s per configuration, 8 clients
    .venv/bin/python bench/store.py --seconds 5 --clients 4
"""

from __future__ import annotations

import argparse
import platform
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests._live import served  # noqa: E402
from tests.postgres import PostgresServer, find_bindir  # noqa: E402

BODY = {
    "task": "regression",
    "loss": {"name": "huber"},
    "penalty": {"name": "l2", "alpha": 0.01},
    "X": [[float(i), float(i % 3)] for i in range(40)],
    "y": [float(2 * i + 1) for i in range(40)],
}
PREDICT = {"X": [[1.0, 2.0], [3.0, 0.0]]}


def _load(bases: list[str], clients: int, seconds: float) -> dict[str, list[float]]:
    """Each client loops train → predict until the time is up; latencies in seconds."""
    times: dict[str, list[float]] = {"train": [], "predict": []}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        n = 0
        with httpx.Client(timeout=60) as c:
            while time.monotonic() < deadline:
                base = bases[(i + n) % len(bases)]
                n += 1
                t0 = time.perf_counter()
                r = c.post(f"{base}/v1/train", json=BODY)
                t1 = time.perf_counter()
                if r.status_code != 200:  # 503 overloaded: back off as Retry-After asks
                    time.sleep(0.05)
                    continue
                model_id = r.json()["model_id"]
                other = bases[n % len(bases)]  # predict through another replica
                p = c.post(f"{other}/v1/models/{model_id}/predict", json=PREDICT)
                t2 = time.perf_counter()
                assert p.status_code == 200, p.text
                with lock:
                    times["train"].append(t1 - t0)
                    times["predict"].append(t2 - t1)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def _row(name: str, times: dict[str, list[float]], seconds: float) -> str:
    cells = [name]
    for op in ("train", "predict"):
        lat = np.array(times[op]) * 1e3
        cells += [
            f"{lat.size / seconds:.0f}",
            f"{np.percentile(lat, 50):.1f}" if lat.size else "-",
            f"{np.percentile(lat, 99):.1f}" if lat.size else "-",
        ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL server binaries not found: apt-get install postgresql")
    print(f"# bench/store.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"{platform.machine()}, Python {platform.python_version()}, {args.clients} clients, "
        f"{args.seconds:g} s per configuration, WORKERS=1 per process"
    )
    print()
    print(
        "| configuration | train/s | train p50 ms | train p99 ms | predict/s | "
        "predict p50 ms | predict p99 ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    pg = PostgresServer(bindir)
    pg.start()
    try:
        with TemporaryDirectory(prefix="losscore-bench-store-") as tmp:
            configs = [
                ("sqlite x1", None, 1),
                ("postgresql x1", "pg", 1),
                ("postgresql x3", "pg", 3),
            ]
            for name, db, count in configs:
                url = pg.create_database() if db else None
                env = {"WORKERS": "1", "LOSSCORE_MAX_CPU_JOBS": "2"}
                if url:
                    env["LOSSCORE_DATABASE_URL"] = url
                with ExitStack() as stack:
                    bases = []
                    for i in range(count):
                        d = Path(tmp) / f"{name.replace(' ', '-')}-{i}"
                        d.mkdir()
                        bases.append(stack.enter_context(served(d, **env)).base)
                    _load(bases, args.clients, 2.0)  # warm-up: kernels, pools
                    times = _load(bases, args.clients, args.seconds)
                print(_row(name, times, args.seconds), flush=True)
    finally:
        pg.remove()


if __name__ == "__main__":
    main()
