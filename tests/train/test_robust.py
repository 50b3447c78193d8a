"""Gross outliers: huber and smooth_l1 recover the true coefficients, l2 does not."""

from __future__ import annotations

import numpy as np

from losscore.train import fit


def test_outliers_huber_smooth_l1_beat_l2():
    rng = np.random.default_rng(0)
    n, d = 2000, 5
    X = rng.normal(size=(n, d))
    w_true = np.array([2.0, -1.0, 0.5, 3.0, -2.0])
    y = X @ w_true + 1.0 + 0.1 * rng.normal(size=n)
    bad = rng.choice(n, size=n // 10, replace=False)  # 10% gross outliers, one-sided
    y[bad] += rng.uniform(20, 50, size=bad.size) * np.sign(X[bad, 0] + 0.5)

    errors = {}
    for loss, params in [("l2", {}), ("huber", {"delta": 1.0}), ("smooth_l1", {"beta": 1.0})]:
        r = fit(X, y, task="regression", loss=loss, loss_params=params, penalty="none")
        assert r.converged
        errors[loss] = float(np.linalg.norm(r.coef - w_true))
    assert errors["huber"] < 0.1
    assert errors["smooth_l1"] < 0.1
    assert errors["l2"] > 10 * max(errors["huber"], errors["smooth_l1"])
