"""Closed forms of the one-score losses, written out again (NumPy, float64), and small data.

These are the oracles of the boosting tests: nothing here calls ``losscore.evaluate``.
Regression losses are functions of r = f − y; binary losses of the margin z = y·f with
y ∈ {−1, +1} (a 0/1 label maps 0 → −1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

Params = Mapping[str, float]


def _smooth_l1(r: np.ndarray, p: Params) -> np.ndarray:
    b = p.get("beta", 1.0)
    a = np.abs(r)
    return np.where(a < b, 0.5 * r * r / max(b, 1e-300), a - 0.5 * b)


def _huber(r: np.ndarray, p: Params) -> np.ndarray:
    d = p.get("delta", 1.0)
    a = np.abs(r)
    return np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))


def _pseudo_huber(r: np.ndarray, p: Params) -> np.ndarray:
    d = p.get("delta", 1.0)
    return d * d * (np.sqrt(1.0 + (r / d) ** 2) - 1.0)


def _quantile(r: np.ndarray, p: Params) -> np.ndarray:
    q = p.get("q", 0.5)
    return np.maximum(-q * r, (1.0 - q) * r)


def _modified_huber(z: np.ndarray, p: Params) -> np.ndarray:
    return np.where(z >= 1, 0.0, np.where(z >= -1, (1.0 - z) ** 2, -4.0 * z))


REGRESSION: dict[str, Callable[[np.ndarray, Params], np.ndarray]] = {
    "l1": lambda r, p: np.abs(r),
    "l2": lambda r, p: r * r,
    "smooth_l1": _smooth_l1,
    "huber": _huber,
    "pseudo_huber": _pseudo_huber,
    "log_cosh": lambda r, p: np.logaddexp(r, -r) - np.log(2.0),
    "quantile": _quantile,
    "epsilon_insensitive": lambda r, p: np.maximum(0.0, np.abs(r) - p.get("epsilon", 0.1)),
    "squared_epsilon_insensitive": lambda r, p: (
        np.maximum(0.0, np.abs(r) - p.get("epsilon", 0.1)) ** 2
    ),
}
BINARY: dict[str, Callable[[np.ndarray, Params], np.ndarray]] = {
    "hinge": lambda z, p: np.maximum(0.0, p.get("threshold", 1.0) - z),
    "squared_hinge": lambda z, p: np.maximum(0.0, p.get("threshold", 1.0) - z) ** 2,
    "modified_huber": _modified_huber,
    "perceptron": lambda z, p: np.maximum(0.0, -z),
    "exponential": lambda z, p: np.exp(-z),
    "log_loss": lambda z, p: np.logaddexp(0.0, -z),
}


def signed(labels: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(labels, dtype=np.float64) > 0, 1.0, -1.0)


def elementwise(name: str, f: np.ndarray, y: np.ndarray, params: Params) -> np.ndarray:
    """ℓ per element at scores *f* for targets or labels *y*."""
    f = np.asarray(f, dtype=np.float64)
    if name in REGRESSION:
        return REGRESSION[name](f - np.asarray(y, dtype=np.float64), params)
    return BINARY[name](signed(y) * f, params)


def mean_loss(
    name: str, f: np.ndarray, y: np.ndarray, params: Params, w: np.ndarray | None = None
) -> float:
    """Σ wᵢℓᵢ / Σ wᵢ."""
    ell = elementwise(name, f, y, params)
    return float(np.average(ell, weights=w))


def regression_data(
    seed: int, n: int = 500, n_test: int = 300, d: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A non-linear signal plus heavy-tailed (Student t, 3 dof) noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + n_test, d))
    y = 2.0 * X[:, 0] + np.sin(3.0 * X[:, 1]) + 0.5 * X[:, 2] ** 2
    y += 0.5 * rng.standard_t(3, size=n + n_test)
    return X[:n], y[:n], X[n:], y[n:]


def binary_data(
    seed: int, n: int = 500, n_test: int = 300, d: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """0/1 labels from a noisy non-linear score (about 15% of labels against it)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + n_test, d))
    score = 1.5 * X[:, 0] - X[:, 1] * X[:, 2] + np.sin(2.0 * X[:, 3])
    y = (score + rng.logistic(scale=0.5, size=n + n_test) > 0).astype(np.float64)
    return X[:n], y[:n], X[n:], y[n:]
