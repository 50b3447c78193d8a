"""What the image's slimmed venv must still do (issue 16), run inside the image:

    docker exec -i NAME python - [--warm-up] < .ci/docker/image_check.py

Imports every module the service, losscore and the Dask scheduler/worker use (pyarrow's
Parquet, dataset and file-system modules, SQLAlchemy's PostgreSQL dialect with psycopg's
binary libpq, ...), then runs each solver family once (normal equations, HiGHS, L-BFGS-B, the
numba interior point and coordinate descent), a Parquet round trip through pyarrow.dataset and
dask.dataframe and a fit on that Dask DataFrame. ``--warm-up`` also compiles every numba
kernel into NUMBA_CACHE_DIR (about 13 s with an empty cache). Also checks the FROM-scratch
root: SQLite, OpenSSL, libc by soname, the malloc tuning, the service's user, a writable /data,
the C.UTF-8 locale, /etc/mime.types, Arrow's time zones, and that no shell or package
manager is left. Exits 1 on any failure.
"""

import importlib
import os
import sys
import tempfile
import time

MODULES = [
    "service.app", "service.__main__", "losscore", "losscore.train", "losscore.train.distributed",
    "losscore.tables", "pyarrow", "pyarrow.parquet", "pyarrow.dataset", "pyarrow.fs",
    "pyarrow.csv", "pyarrow.compute", "dask", "dask.dataframe", "dask.array", "distributed",
    "distributed.cli.dask_scheduler", "distributed.cli.dask_worker", "scipy.optimize",
    "scipy.sparse", "scipy.sparse.linalg", "scipy.linalg", "scipy.special", "scipy.stats",
    "sqlalchemy", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.postgresql.psycopg", "psycopg", "psycopg_binary", "alembic",
    "alembic.command", "orjson", "jiter", "pybase64", "fastapi", "uvicorn", "uvloop", "httptools",
    "websockets", "watchfiles", "pydantic", "pydantic_settings", "multipart", "numba",
    "llvmlite.binding", "pandas", "fsspec", "xxhash", "threadpoolctl", "msgpack", "tornado",
    "yaml", "zict", "cloudpickle", "psutil",
    # standard-library modules backed by the system's shared libraries (runtime_rootfs.py)
    "ssl", "hashlib", "sqlite3", "ctypes", "uuid", "lzma", "bz2", "zlib", "decimal",
    "multiprocessing.shared_memory", "zoneinfo", "pwd", "grp",
]  # fmt: skip


def check_runtime_root():
    """The FROM-scratch root (.ci/docker/runtime_rootfs.py): what the service's processes
    need from the system works, and the distribution's tools are gone."""
    import ctypes
    import hashlib
    import locale
    import mimetypes
    import pwd
    import sqlite3
    import ssl

    import pyarrow as pa
    import pyarrow.compute as pc

    from service.memory import tune_malloc

    problems = []
    if sqlite3.connect(":memory:").execute("select sqlite_version()").fetchone() is None:
        problems.append("sqlite3 answers nothing")
    if hashlib.sha256(b"").hexdigest()[:8] != "e3b0c442":
        problems.append("hashlib sha256")
    ssl.create_default_context()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # Dask's worker memory trimming, by soname
    if not tune_malloc():
        problems.append("service.memory.tune_malloc() did not apply the malloc tuning")
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = None
    if os.getuid() != 0 and user != "losscore":
        problems.append(f"uid {os.getuid()} is {user!r}, not losscore")
    if not os.access("/data", os.W_OK):
        problems.append("/data is not writable by the service's user")
    try:
        locale.setlocale(locale.LC_ALL, "")  # LANG=C.UTF-8 from the image
        if locale.nl_langinfo(locale.CODESET) != "UTF-8":
            problems.append(f"the C library's codeset is {locale.nl_langinfo(locale.CODESET)}")
    except locale.Error as exc:
        problems.append(f"locale {os.environ.get('LANG')!r}: {exc}")
    if mimetypes.guess_type("app.js")[0] != "text/javascript":  # /etc/mime.types read
        problems.append(f".js is {mimetypes.guess_type('app.js')[0]}")
    berlin = pa.array([0], pa.timestamp("s", tz="Europe/Berlin"))  # Arrow's time-zone database
    try:
        if pc.hour(berlin).to_pylist() != [1]:
            problems.append("Arrow's Europe/Berlin is not UTC+1 at the epoch")
    except pa.ArrowException as exc:
        problems.append(f"Arrow's time zones: {exc}")
    tools = ("/bin/sh", "/usr/bin/apt", "/usr/bin/dpkg", "/usr/bin/perl")
    present = [p for p in tools if os.path.exists(p)]
    if present:
        problems.append(f"distribution tools in the image: {present}")
    print(f"  runtime root: sqlite {sqlite3.sqlite_version}, {ssl.OPENSSL_VERSION}, user {user}")
    if problems:
        sys.exit("FAIL: runtime root\n  " + "\n  ".join(problems))


def main():
    start = time.perf_counter()
    failed = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name}: {exc!r}")
    elapsed = time.perf_counter() - start
    print(f"  imported {len(MODULES) - len(failed)} of {len(MODULES)} modules in {elapsed:.2f} s")
    if failed:
        sys.exit("FAIL: imports\n  " + "\n  ".join(failed))
    check_runtime_root()

    import dask.dataframe as dd
    import numpy as np
    import psycopg
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    import scipy.optimize

    from losscore.train import fit, predict

    print(f"  psycopg {psycopg.pq.__impl__}, libpq {psycopg.pq.version()}")
    if psycopg.pq.__impl__ != "binary":
        sys.exit("FAIL: psycopg does not use its binary libpq")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3
    cases = [  # task, loss, penalty, the solver the table picks
        ("regression", "l2", "l2", "normal_equations"),
        ("regression", "l1", "none", "linprog_highs"),
        ("regression", "huber", "l2", "lbfgs"),
        ("classification", "hinge", "l2", "interior_point"),
        ("regression", "l2", "l1", "gram_coordinate_descent"),
    ]
    for task, loss, penalty, solver in cases:
        target = (y > 0).astype(int) if task == "classification" else y
        result = fit(X, target, task=task, loss=loss, penalty=penalty, alpha=0.01)
        predict(result, X[:2])
        coef = np.ravel(result.coef)
        print(f"  fit {loss} + {penalty}: {result.solver}, coef {np.round(coef, 3)}")
        if result.solver != solver or not np.all(np.isfinite(coef)):
            sys.exit(f"FAIL: fit {loss} + {penalty} used {result.solver} (expected {solver})")
        if task == "regression" and not np.allclose(coef, [1.0, -2.0, 0.5], atol=0.05):
            sys.exit(f"FAIL: fit {loss} + {penalty}: coef {coef}")
    lp = scipy.optimize.linprog([1, 1], A_ub=[[-1, -1]], b_ub=[-1], method="highs")
    if lp.status != 0 or abs(lp.fun - 1.0) > 1e-9:
        sys.exit(f"FAIL: linprog HiGHS {lp!r}")
    with tempfile.TemporaryDirectory() as tmp:
        table = pa.table({"a": X[:, 0], "b": X[:, 1], "y": X[:, 0] - 2 * X[:, 1] + 0.3})
        pq.write_table(table, os.path.join(tmp, "part.parquet"))
        if not ds.dataset(tmp, format="parquet").to_table().equals(table):
            sys.exit("FAIL: Parquet round trip through pyarrow.dataset")
        frame = dd.read_parquet(tmp)
        result = fit(frame, "y", features=["a", "b"], task="regression", loss="l2", penalty="none")
        coef = np.ravel(result.coef)
        print(
            f"  Parquet round trip; fit on the Dask DataFrame: {result.solver}, coef {np.round(coef, 6)}"
        )
        if not np.allclose(coef, [1.0, -2.0], atol=1e-8):
            sys.exit(f"FAIL: Dask DataFrame fit coef {coef}")
    if "--warm-up" in sys.argv[1:]:
        import losscore

        start = time.perf_counter()
        losscore.warm_up()
        print("  losscore.warm_up() in %.2f s" % (time.perf_counter() - start))
    print("image check ok")


if __name__ == "__main__":
    main()
