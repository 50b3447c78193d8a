"""Closed forms of a few losses of the residual r = f − y (value, derivative, second
derivative), written out independently of the library."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Forms = tuple[Callable[[Array], Array], Callable[[Array], Array], Callable[[Array], Array]]


def l1() -> Forms:
    return (np.abs, np.sign, lambda r: np.zeros_like(r))


def l2() -> Forms:
    return (lambda r: r * r, lambda r: 2 * r, lambda r: np.full_like(r, 2.0))


def smooth_l1(beta: float) -> Forms:
    def value(r: Array) -> Array:
        a = np.abs(r)
        return np.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta)

    def grad(r: Array) -> Array:
        return np.where(np.abs(r) < beta, r / beta, np.sign(r))

    def hess(r: Array) -> Array:
        return np.where(np.abs(r) < beta, 1.0 / beta, 0.0)

    return value, grad, hess


def huber(delta: float) -> Forms:
    def value(r: Array) -> Array:
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))

    def grad(r: Array) -> Array:
        return np.where(np.abs(r) <= delta, r, delta * np.sign(r))

    def hess(r: Array) -> Array:
        return np.where(np.abs(r) <= delta, 1.0, 0.0)

    return value, grad, hess


def hinge_margin(z: Array) -> Array:
    """max(0, 1 − z), as a function of the margin z = y·f."""
    return np.maximum(0.0, 1.0 - z)


def hinge_margin_grad(z: Array) -> Array:
    return np.where(z < 1.0, -1.0, 0.0)
