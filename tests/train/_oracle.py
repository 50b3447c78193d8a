"""Helpers for the training tests: the exact objective F evaluated independently."""

from __future__ import annotations

from typing import Any

import numpy as np

import losscore


def objective(
    loss: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: Any,
    *,
    alpha: float,
    penalty: str,
    l1_ratio: float = 0.5,
    sample_weight: np.ndarray | None = None,
    **params: float,
) -> float:
    """F(w, b) from losscore.evaluate (weighted mean) plus alpha·R(w), written out again."""
    f = X @ w.T + b
    value = losscore.evaluate(loss, f, y, weight=sample_weight, **params).value
    assert value is not None
    R = {
        "l2": 0.5 * float(np.sum(w * w)),
        "l1": float(np.abs(w).sum()),
        "none": 0.0,
        "elastic_net": l1_ratio * float(np.abs(w).sum())
        + (1 - l1_ratio) / 2 * float(np.sum(w * w)),
    }[penalty]
    return float(value) + alpha * R


def assert_optimal(ours: float, oracle: float, rtol: float = 1e-6) -> None:
    """Ours is within rtol (relative) of the oracle's objective, or lower."""
    assert ours <= oracle + rtol * abs(oracle), (ours, oracle, (ours - oracle) / abs(oracle))
