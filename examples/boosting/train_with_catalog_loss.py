"""Train XGBoost and LightGBM with a losscore catalog loss as the objective and the metric.

    python examples/boosting/train_with_catalog_loss.py [LOSS] [PARAM=VALUE ...] [--rounds N]

e.g. ``huber delta=1.5``, ``smooth_l1 beta=0.5``, ``quantile q=0.9``, ``log_cosh`` (regression
on synthetic data with heavy-tailed noise), or ``modified_huber`` / ``squared_hinge`` /
``log_loss`` (0/1 labels). Prints, per library, the Hessian policy in use, the training loss
after the first and the last round (the metric the booster reports) and the held-out loss of
the model and of the best constant. Needs ``pip install 'losscore[boost]'``.
"""

from __future__ import annotations

import argparse
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb

import losscore
from losscore.integrations import (
    boosting_objective,
    lightgbm_metric,
    lightgbm_objective,
    xgboost_metric,
    xgboost_objective,
)


def data(binary: bool, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1500, 5))
    if binary:
        score = 1.5 * X[:, 0] - X[:, 1] * X[:, 2] + np.sin(2 * X[:, 3])
        y = (score + rng.logistic(scale=0.5, size=1500) > 0).astype(np.float64)
    else:
        y = 2 * X[:, 0] + np.sin(3 * X[:, 1]) + 0.5 * X[:, 2] ** 2
        y += 0.5 * rng.standard_t(3, size=1500)
    return X[:1000], y[:1000], X[1000:], y[1000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("loss", nargs="?", default="huber")
    parser.add_argument("params", nargs="*", help="loss parameters as NAME=VALUE")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    params: dict[str, Any] = {k: float(v) for k, v in (p.split("=", 1) for p in args.params)}
    objective = boosting_objective(args.loss, **params)  # validates everything once
    binary = objective.loss.spec.target == "binary_label"
    X, y, Xt, yt = data(binary)
    # start every model from the best constant score (found with losscore itself)
    grid = np.linspace(-3, 3, 601) if binary else np.quantile(y, np.linspace(0.01, 0.99, 99))
    base = float(min(grid, key=lambda c: objective.value(np.full(y.size, c), y)))
    constant = objective.value(np.full(yt.size, base), yt)
    print(
        f"{objective.name} {objective.params}: Hessian policy {objective.hessian_policy!r}; "
        f"held-out loss of the best constant {constant:.4f}"
    )

    dtrain = xgb.DMatrix(X, label=y, base_margin=np.full(y.size, base))
    dtest = xgb.DMatrix(Xt, label=yt, base_margin=np.full(yt.size, base))
    history: dict[str, Any] = {}
    booster = xgb.train(
        {"tree_method": "hist", "max_depth": 3, "eta": 0.1, "nthread": 2},
        dtrain,
        args.rounds,
        obj=xgboost_objective(args.loss, **params),
        custom_metric=xgboost_metric(args.loss, **params),
        evals=[(dtrain, "train"), (dtest, "test")],
        evals_result=history,
        verbose_eval=False,
    )
    scores = booster.predict(dtest, output_margin=True)  # raw scores: no link applied
    train, test = history["train"][objective.name], history["test"][objective.name]
    print(f"xgboost : train {train[0]:.4f} -> {train[-1]:.4f}, held-out {test[-1]:.4f}")

    history = {}
    train_set = lgb.Dataset(X, label=y, init_score=np.full(y.size, base))
    test_set = lgb.Dataset(Xt, label=yt, init_score=np.full(yt.size, base), reference=train_set)
    model = lgb.train(
        {
            "objective": lightgbm_objective(args.loss, **params),
            "metric": "None",  # only the catalog loss below
            "num_leaves": 8,
            "learning_rate": 0.1,
            "num_threads": 2,
            "verbosity": -1,
        },
        train_set,
        args.rounds,
        valid_sets=[train_set, test_set],
        valid_names=["train", "test"],
        feval=lightgbm_metric(args.loss, **params),
        callbacks=[lgb.record_evaluation(history)],
    )
    train, test = history["train"][objective.name], history["test"][objective.name]
    print(f"lightgbm: train {train[0]:.4f} -> {train[-1]:.4f}, held-out {test[-1]:.4f}")
    if objective.loss.spec.training.probability == "logistic":
        p = 1 / (1 + np.exp(-(model.predict(Xt, raw_score=True) + base)))
        print(f"lightgbm: P(y = 1) of the first test rows {np.round(p[:3], 3).tolist()}")
    # the same numbers from losscore.evaluate, as a check of what the boosters reported
    check = losscore.evaluate(args.loss, scores, yt, **params).value
    print(f"losscore.evaluate on xgboost's held-out scores: {check:.4f}")


if __name__ == "__main__":
    main()
