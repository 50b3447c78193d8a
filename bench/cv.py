"""Cross-validating α against scikit-learn on the same folds and the same grid (issue 14).

Four comparisons, each: the same K folds (scikit-learn's splitter given the same seed; our
folds are shown equal to it in tests/train/test_cv.py), the same grid mapped into each
library's convention, our ``losscore.train.cross_validate`` (default tolerance 1e-8) against
scikit-learn's estimator (its defaults). Printed: the α each chooses (as its grid index), the
wall times and the ratio ours / scikit-learn (goal ≤ 0.5). Last, one warm-started path
against an independent cold fit at every α of its grid, for several loss × penalty pairs.

* ``LassoCV``: scikit-learn minimises (1/2n)‖y − Xw − b‖² + α‖w‖₁, we minimise the mean of
  (f − y)² + α‖w‖₁: our α = 2α_sk. Score: held-out MSE (our ``loss`` for l2).
* ``ElasticNetCV`` (l1_ratio 0.5): likewise α = 2α_sk, the same mix.
* ``LogisticRegressionCV`` (l2, lbfgs, scoring neg_log_loss): C·Σℓ + ½‖w‖² is (1/n)Σℓ + α·½‖w‖²
  with α = 1/(C·n_train); n is divisible by K, so n_train is one number.
* ``GridSearchCV(LinearSVC(loss="hinge"))`` (accuracy): α = 1/(C·n_train); liblinear also
  penalises the intercept, so the objectives differ slightly.

Usage::

    .venv/bin/python bench/cv.py [--n 20000] [--d 40] [--alphas 30] [--folds 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import losscore.train as lt


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def report(name: str, ours_s: float, sk_s: float, ours_i: int, sk_i: int, grid: int) -> None:
    same = "same α" if ours_i == sk_i else f"differs by {abs(ours_i - sk_i)} grid step(s)"
    print(
        f"{name:34s} losscore {ours_s * 1000:8.0f} ms  scikit-learn {sk_s * 1000:8.0f} ms  "
        f"ratio {ours_s / sk_s:5.2f}   chosen index {ours_i:2d} vs {sk_i:2d} of {grid} ({same})",
        flush=True,
    )


def lasso_like(X: Any, y: Any, grid_sk: Any, k: int, seed: int, repeat: int, l1: float) -> None:
    folds = KFold(k, shuffle=True, random_state=seed)
    if l1 == 1.0:
        sk = LassoCV(alphas=grid_sk, cv=folds)
        penalty, name = "l1", "LassoCV"
    else:
        sk = ElasticNetCV(alphas=grid_sk, l1_ratio=l1, cv=folds)
        penalty, name = "elastic_net", f"ElasticNetCV (l1_ratio {l1})"
    sk_s, fitted = best(lambda: sk.fit(X, y), repeat)
    ours_s, cv = best(
        lambda: lt.cross_validate(X, y, task="regression", loss="l2", penalty=penalty,
                                  l1_ratio=l1, alphas=2 * grid_sk, cv=k, random_state=seed),
        repeat,
    )  # fmt: skip
    sk_i = int(np.argmin(np.abs(grid_sk - fitted.alpha_)))
    report(name, ours_s, sk_s, list(cv.alphas).index(cv.alpha_min), sk_i, len(grid_sk))


def logistic(X: Any, y: Any, Cs: Any, k: int, seed: int, repeat: int) -> None:
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    n_train = len(y) * (k - 1) // k
    sk = LogisticRegressionCV(Cs=Cs, cv=folds, l1_ratios=(0.0,), scoring="neg_log_loss",
                              use_legacy_attributes=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs's ConvergenceWarning at its default max_iter
        sk_s, fitted = best(lambda: sk.fit(X, y), repeat)
    alphas = 1.0 / (Cs * n_train)
    ours_s, cv = best(
        lambda: lt.cross_validate(X, y, task="classification", loss="log_loss", penalty="l2",
                                  alphas=alphas, cv=k, random_state=seed, scoring="log_loss"),
        repeat,
    )  # fmt: skip
    sk_i = int(np.argmin(np.abs(Cs - np.ravel(fitted.C_)[0])))
    report("LogisticRegressionCV (l2)", ours_s, sk_s, list(cv.alphas).index(cv.alpha_min), sk_i,
           len(Cs))  # fmt: skip


def linear_svc(X: Any, y: Any, Cs: Any, k: int, seed: int, repeat: int) -> None:
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    n_train = len(y) * (k - 1) // k
    sk = GridSearchCV(LinearSVC(loss="hinge", max_iter=20000), {"C": list(Cs)}, cv=folds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk_s, fitted = best(lambda: sk.fit(X, y), repeat)
    alphas = 1.0 / (Cs * n_train)
    ours_s, cv = best(
        lambda: lt.cross_validate(X, y, task="classification", loss="hinge", penalty="l2",
                                  alphas=alphas, cv=k, random_state=seed, scoring="accuracy"),
        repeat,
    )  # fmt: skip
    sk_i = list(Cs).index(fitted.best_params_["C"])
    report("GridSearchCV(LinearSVC hinge)", ours_s, sk_s, list(cv.alphas).index(cv.alpha_min),
           sk_i, len(Cs))  # fmt: skip


def path_vs_cold(X: Any, y: Any, labels: Any, n_alphas: int, repeat: int) -> None:
    """One warm-started path against a cold fit at every α of the same grid."""
    cases = [
        ("regression", "l2", "l1", y),
        ("regression", "huber", "l1", y),
        ("classification", "log_loss", "l2", labels),
        ("classification", "log_loss", "l1", labels),
        ("classification", "hinge", "l2", labels),
        ("classification", "squared_hinge", "elastic_net", labels),
    ]
    for task, loss, penalty, target in cases:
        opts = {"task": task, "loss": loss, "penalty": penalty}
        path_s, p = best(lambda: lt.path(X, target, n_alphas=n_alphas, **opts), repeat)  # noqa: B023
        cold_s, _ = best(
            lambda: [lt.fit(X, target, alpha=float(a), **opts) for a in p.alphas],  # noqa: B023
            repeat,
        )
        print(
            f"path {loss}+{penalty:12s} {len(p.fits)} alphas: path {path_s * 1000:7.0f} ms, "
            f"independent fits {cold_s * 1000:7.0f} ms, ratio {path_s / cold_s:5.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--d", type=int, default=40)
    parser.add_argument("--alphas", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--svc-n", type=int, default=5000)
    args = parser.parse_args()
    n = args.n - args.n % args.folds
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, args.d))
    w = rng.normal(size=args.d) * (rng.random(args.d) < 0.3)
    y = X @ w + rng.normal(size=n)
    labels = np.where(X @ w + rng.normal(size=n) > 0, 1, -1)
    print(f"{platform.processor() or platform.machine()}, {n} x {args.d}, {args.folds} folds, "
          f"{args.alphas} alphas, best of {args.repeat}")  # fmt: skip
    top = float(np.max(np.abs(X.T @ (y - y.mean()))) / n)  # scikit-learn's alpha_max
    grid_sk = top * np.geomspace(1.0, 1e-3, args.alphas)
    lasso_like(X, y, grid_sk, args.folds, 0, args.repeat, 1.0)
    lasso_like(X, y, grid_sk / 0.5, args.folds, 0, args.repeat, 0.5)
    Cs = np.geomspace(1e-4, 1e2, args.alphas)
    logistic(X, labels, Cs, args.folds, 0, args.repeat)
    m = args.svc_n - args.svc_n % args.folds
    linear_svc(X[:m, :20], labels[:m], np.geomspace(1e-3, 10, min(args.alphas, 12)), args.folds,
               0, args.repeat)  # fmt: skip
    path_vs_cold(X, y, labels, args.alphas, args.repeat)


if __name__ == "__main__":
    main()
