"""Training speed and accuracy: scikit-learn vs losscore.train in one run.

For each size and (loss, penalty) the same objective

    F(w, b) = (1/n) Σᵢ ℓ(yᵢ, xᵢ·w + b) + alpha·R(w)

is minimised by losscore and by the matching scikit-learn estimator (parameters mapped as in
docs/TRAINING.md). Printed per case: wall time of each (best of ``--repeat``), the ratio
losscore / scikit-learn, and each one's objective gap (F − F*) / F* against the best objective
any run reached (F*, which includes a tight-tolerance losscore run).

Usage:  .venv/bin/python bench/train.py [--quick] [--repeat R] [--sizes 1000x20,100000x50]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LogisticRegression,
    QuantileRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC

import losscore
from losscore.train import fit

ALPHA = 1e-4


@dataclass
class Case:
    """One (loss, penalty) pair, the scikit-learn estimator that minimises the same F."""

    name: str
    task: str  # "binary", "multiclass" or "regression"
    loss: str
    penalty: str
    sklearn_name: str
    make: Callable[[int], Any]  # n -> unfitted sklearn estimator
    params: dict[str, float] = field(default_factory=dict)
    l1_ratio: float = 0.5
    fit_intercept: bool = True
    fast_tol: float = (
        1e-6  # losscore tol of the timed run (smooth: gradient; smoothing: relative F)
    )
    max_n: int | None = None  # skip above this size (scikit-learn too slow)


def cases() -> list[Case]:
    C = lambda n: 1.0 / (ALPHA * n)  # noqa: E731
    return [
        Case(
            "log_loss + l2",
            "binary",
            "log_loss",
            "l2",
            "LogisticRegression(lbfgs)",
            lambda n: LogisticRegression(C=C(n), max_iter=10_000),
        ),
        Case(
            "log_loss + l1",
            "binary",
            "log_loss",
            "l1",
            "LogisticRegression(saga, l1)",
            lambda n: LogisticRegression(C=C(n), l1_ratio=1.0, solver="saga", max_iter=10_000),
            max_n=200_000,
        ),
        Case(
            "softmax + l2",
            "multiclass",
            "softmax_cross_entropy",
            "l2",
            "LogisticRegression(multinomial)",
            lambda n: LogisticRegression(C=C(n), max_iter=10_000),
        ),
        Case(
            "squared_hinge + l2 (no intercept)",
            "binary",
            "squared_hinge",
            "l2",
            "LinearSVC(primal)",
            lambda n: LinearSVC(C=C(n), dual=False, fit_intercept=False, max_iter=100_000),
            fit_intercept=False,
        ),
        Case(
            "modified_huber + l2",
            "binary",
            "modified_huber",
            "l2",
            "SGDClassifier(modified_huber)",
            lambda n: SGDClassifier(loss="modified_huber", alpha=ALPHA),
        ),
        Case("l2 + l2", "regression", "l2", "l2", "Ridge", lambda n: Ridge(alpha=ALPHA * n / 2)),
        Case("l2 + l1", "regression", "l2", "l1", "Lasso", lambda n: Lasso(alpha=ALPHA / 2)),
        Case(
            "l2 + elastic_net(0.5)",
            "regression",
            "l2",
            "elastic_net",
            "ElasticNet",
            lambda n: ElasticNet(alpha=ALPHA / 2, l1_ratio=0.5),
        ),
        Case(
            "huber(1) + l2",
            "regression",
            "huber",
            "l2",
            "SGDRegressor(huber)",
            lambda n: SGDRegressor(loss="huber", epsilon=1.0, alpha=ALPHA),
            params={"delta": 1.0},
        ),
        Case(
            "hinge + l2",
            "binary",
            "hinge",
            "l2",
            "SGDClassifier(hinge)",
            lambda n: SGDClassifier(loss="hinge", alpha=ALPHA),
            fast_tol=1e-4,
        ),
        Case(
            "epsilon_insensitive(0.1) + l2",
            "regression",
            "epsilon_insensitive",
            "l2",
            "SGDRegressor(epsilon_insensitive)",
            lambda n: SGDRegressor(loss="epsilon_insensitive", epsilon=0.1, alpha=ALPHA),
            params={"epsilon": 0.1},
            fast_tol=1e-4,
        ),
        Case(
            "quantile(0.5) + l1",
            "regression",
            "quantile",
            "l1",
            "QuantileRegressor(highs)",
            lambda n: QuantileRegressor(quantile=0.5, alpha=ALPHA),
            params={"q": 0.5},
            max_n=20_000,
        ),
    ]


def make_data(n: int, d: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    score = X @ w
    W3 = rng.normal(size=(3, d))
    return {
        "X": X,
        "binary": np.where(score + 2.0 * rng.normal(size=n) > 0, 1, -1),
        "regression": score + 1.0 + rng.standard_t(3, size=n),
        "multiclass": np.argmax(X @ W3.T + 2.0 * rng.normal(size=(n, 3)), axis=1),
    }


def objective(case: Case, X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: Any) -> float:
    """F for any (coef, intercept), from losscore.evaluate (independent of the solvers)."""
    f = X @ np.asarray(coef).T + intercept
    if case.task == "binary":
        f = f.reshape(-1)
    value = losscore.evaluate(case.loss, f, y, **case.params).value
    assert value is not None
    w = np.asarray(coef)
    R = {
        "l2": 0.5 * float(np.sum(w * w)),
        "l1": float(np.abs(w).sum()),
        "elastic_net": case.l1_ratio * float(np.abs(w).sum())
        + (1 - case.l1_ratio) / 2 * float(np.sum(w * w)),
    }[case.penalty]
    return float(value) + ALPHA * R


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_case(case: Case, data: dict[str, Any], repeat: int) -> dict[str, Any]:
    X, y = data["X"], data[case.task]
    n = X.shape[0]
    task = "regression" if case.task == "regression" else "classification"
    kw: dict[str, Any] = {
        "task": task,
        "loss": case.loss,
        "loss_params": case.params,
        "penalty": case.penalty,
        "alpha": ALPHA,
        "l1_ratio": case.l1_ratio,
        "fit_intercept": case.fit_intercept,
        "max_iter": 100_000,
    }
    kw["tol"] = case.fast_tol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sk, est = best_time(lambda: case.make(n).fit(X, y), repeat)
    t_lc, res = best_time(lambda: fit(X, y, **kw), repeat)
    sk_coef = est.coef_ if case.task == "multiclass" else np.ravel(est.coef_)
    sk_icpt = (
        est.intercept_
        if case.task == "multiclass"
        else float(np.ravel(est.intercept_)[0])
        if np.ndim(est.intercept_)
        else float(est.intercept_)
    )
    F_sk = objective(case, X, y, sk_coef, sk_icpt)
    F_lc = objective(case, X, y, res.coef, res.intercept)
    tight = fit(X, y, **{**kw, "tol": 1e-10})
    F_star = min(F_sk, F_lc, objective(case, X, y, tight.coef, tight.intercept))
    return {
        "t_sk": t_sk,
        "t_lc": t_lc,
        "gap_sk": (F_sk - F_star) / abs(F_star),
        "gap_lc": (F_lc - F_star) / abs(F_star),
        "solver": res.solver,
        "tol": case.fast_tol,
        "converged": res.converged,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="sizes 1000x20 and 20000x20 only")
    ap.add_argument("--sizes", help="comma-separated NxD list, e.g. 1000x20,100000x50")
    ap.add_argument(
        "--repeat", type=int, default=0, help="best of R timings (default: 3 / 2 / 1 by size)"
    )
    ap.add_argument("--only", help="substring filter on case names")
    args = ap.parse_args()
    if args.sizes:
        sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [(1000, 20), (20_000, 20)]
    else:
        sizes = [(1000, 20), (100_000, 50), (1_000_000, 20)]
    print(
        f"# losscore.train vs scikit-learn {sklearn.__version__}; numpy {np.__version__}; "
        f"python {platform.python_version()}; alpha = {ALPHA:g}; {time.strftime('%Y-%m-%d')}"
    )
    print(
        "| n × d | loss + penalty | scikit-learn | sklearn s | losscore s | ratio | sklearn gap | losscore gap | losscore tol | losscore solver |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n, d in sizes:
        data = make_data(n, d)
        repeat = args.repeat or (3 if n <= 20_000 else 2 if n <= 200_000 else 1)
        for case in cases():
            if args.only and args.only not in case.name:
                continue
            if case.max_n is not None and n > case.max_n:
                print(
                    f"| {n:,} × {d} | {case.name} | {case.sklearn_name} | skipped (too slow at this size) | | | | | |"
                )
                continue
            r = run_case(case, data, repeat)
            flag = "" if r["converged"] else " (not converged)"
            print(
                f"| {n:,} × {d} | {case.name} | {case.sklearn_name} | {r['t_sk']:.3f} | {r['t_lc']:.3f} | "
                f"{r['t_lc'] / r['t_sk']:.2f} | {r['gap_sk']:.1e} | {r['gap_lc']:.1e} | {r['tol']:.0e} | {r['solver']}{flag} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
