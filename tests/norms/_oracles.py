"""Independent reference implementations for the norm tests.

Nothing here imports losscore: values come from ``np.linalg`` and closed forms,
subdifferential membership from the textbook characterisations, and the dual-ball
projections (for the Moreau decomposition) from formulas that do not share code
with the library (the l1-ball projection is a bisection, not a sort).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

CONVEX = ("l1", "l2", "squared_l2", "linf", "elastic_net", "nuclear")
# Norms proper (positively homogeneous, with a dual norm): used for the Moreau tests.
TRUE_NORMS = ("l1", "l2", "linf", "nuclear")


def value(name: str, x: Array, params: Mapping[str, float] | None = None) -> float:
    params = params or {}
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    if name == "l0":
        return float(np.count_nonzero(flat))
    if name == "l1":
        return float(np.sum(np.abs(flat)))
    if name == "l2":
        return float(np.linalg.norm(flat))
    if name == "squared_l2":
        return float(np.linalg.norm(flat) ** 2)
    if name == "linf":
        return float(np.max(np.abs(flat))) if flat.size else 0.0
    if name == "elastic_net":
        alpha = params.get("alpha", 1.0)
        rho = params.get("l1_ratio", 0.5)
        return alpha * (rho * np.sum(np.abs(flat)) + (1 - rho) / 2 * float(flat @ flat))
    if name == "nuclear":
        m = np.asarray(x, dtype=np.float64)
        return float(np.sum(np.linalg.svd(m, compute_uv=False))) if m.size else 0.0
    raise KeyError(name)


def dual_norm(name: str, v: Array) -> float:
    flat = v.reshape(-1)
    if name == "l1":
        return float(np.max(np.abs(flat))) if flat.size else 0.0
    if name == "l2":
        return float(np.linalg.norm(flat))
    if name == "linf":
        return float(np.sum(np.abs(flat)))
    if name == "nuclear":
        return float(np.linalg.norm(v, 2)) if v.size else 0.0
    raise KeyError(name)


def in_subdifferential(
    name: str, s: Array, x: Array, params: Mapping[str, float] | None = None, *, tol: float = 1e-9
) -> bool:
    """Whether s ∈ ∂g(x), from the characterisation of each subdifferential.

    For a norm: s ∈ ∂‖x‖ ⟺ ‖s‖_* ≤ 1 and ⟨s, x⟩ = ‖x‖. For l0 (not convex) the
    regular subdifferential: s_i = 0 wherever x_i ≠ 0.
    """
    params = params or {}
    s = np.asarray(s, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    scale = 1.0 + float(np.max(np.abs(x))) if x.size else 1.0
    if name == "l0":
        return bool(np.all(np.abs(s[x != 0]) <= tol))
    if name == "squared_l2":
        return bool(np.allclose(s, 2 * x, rtol=tol, atol=tol * scale))
    if name == "elastic_net":
        alpha = params.get("alpha", 1.0)
        rho = params.get("l1_ratio", 0.5)
        w = s - alpha * (1 - rho) * x
        bound = alpha * rho
        ok_box = np.all(np.abs(w) <= bound + tol * (1 + bound))
        nz = x != 0
        ok_sign = np.allclose(w[nz], bound * np.sign(x[nz]), rtol=tol, atol=tol * (1 + bound))
        return bool(ok_box and ok_sign)
    if name in TRUE_NORMS:
        ok_dual = dual_norm(name, s) <= 1 + tol
        inner = float(np.sum(s * x))
        return bool(ok_dual and abs(inner - value(name, x)) <= tol * scale * max(1, x.size))
    raise KeyError(name)


def project_l1_ball_bisection(v: Array, radius: float = 1.0) -> Array:
    """Projection onto {‖u‖₁ ≤ radius} by bisection on the threshold (not a sort)."""
    a = np.abs(v)
    if a.sum() <= radius:
        return v.copy()
    lo, hi = 0.0, float(a.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(a - mid, 0).sum() > radius:
            lo = mid
        else:
            hi = mid
    theta = 0.5 * (lo + hi)
    return np.sign(v) * np.maximum(a - theta, 0)


def project_dual_ball(name: str, v: Array) -> Array:
    """Euclidean projection onto the unit ball of the dual norm."""
    if name == "l1":
        return np.clip(v, -1, 1)
    if name == "l2":
        return v / max(1.0, float(np.linalg.norm(v)))
    if name == "linf":
        return project_l1_ball_bisection(v)
    if name == "nuclear":
        u, sig, vt = np.linalg.svd(v, full_matrices=False)
        return (u * np.minimum(sig, 1.0)) @ vt
    raise KeyError(name)


def prox_objective(
    name: str, u: Array, x: Array, step: float, params: Mapping[str, float] | None = None
) -> float:
    return value(name, u, params) + float(np.sum((u - x) ** 2)) / (2 * step)


def as_params(params: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in params.items()}
