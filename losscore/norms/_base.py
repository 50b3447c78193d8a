"""The norm interface and the numerical helpers shared by every norm (private).

A :class:`Norm` is a :class:`~losscore.spec.NormSpec` plus three methods working on a
*validated* float64 array (finite, of the norm's domain): the value, one
(sub)gradient and the proximal operator. :func:`losscore.norms.evaluate_norm` does the
validation, the float64 working copy and the rounding of the results back to the
caller's dtype (float32 stays float32).

Overflow: several norms square their input or sum many terms. The helpers below
rescale by an exact power of two (``np.ldexp``, no rounding) so that intermediate
quantities stay in range; a value is ``inf`` only when the true value exceeds the
float64 range.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from losscore.spec import Interval, NormSpec

__all__ = [
    "EPS64",
    "F64",
    "NONNEG",
    "UNIT",
    "Norm",
    "as_f64",
    "binary_exponent",
    "l1_ball_threshold",
    "safe_ldexp",
    "scaled_sum_of_squares",
    "soft_threshold",
]

F64 = NDArray[np.float64]
EPS64 = float(np.finfo(np.float64).eps)

NONNEG = Interval(0.0, None)
UNIT = Interval(0.0, 1.0)


class Norm(ABC):
    """Base class of every norm or regulariser. Subclasses set :attr:`spec`.

    Every method receives a float64 array that is finite and in the norm's domain
    (any shape for entrywise norms; 2-D for matrix norms), and the resolved
    parameters. Returned arrays are new (never a view of *x*) and have *x*'s shape.
    """

    spec: ClassVar[NormSpec]
    #: True for norms defined on 2-D matrices only (the nuclear norm).
    matrix_only: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return self.spec.name

    def cost(self, shape: tuple[int, ...]) -> float:
        """Floating-point operations one evaluation takes, up to a constant: what a caller's
        per-request work limit should bound. Entrywise norms: the element count."""
        return float(math.prod(shape))

    @abstractmethod
    def value(self, x: F64, params: Mapping[str, float]) -> float:
        """g(x) as a Python float (0 for an empty array)."""

    @abstractmethod
    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        """The documented element of the subdifferential ∂g(x) (the gradient where g is smooth).

        *eps* is the machine epsilon of the caller's dtype; norms that make rank
        decisions (nuclear) use it for their tolerance, the others ignore it.
        """

    @abstractmethod
    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        """prox_{t·g}(x) = argmin_u g(u) + ‖u − x‖²/(2t) for the step t > 0."""


# -- helpers ---------------------------------------------------------------------------------


def safe_ldexp(value: float, exponent: int) -> float:
    """value · 2**exponent as a Python float, ±inf on overflow instead of OverflowError."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.copysign(math.inf, value)


def binary_exponent(x: F64) -> int | None:
    """The e with 2**(e−1) ≤ max|x| < 2**e, or None when x is empty or all zero.

    ``np.ldexp(x, -e)`` then has every entry in (−1, 1), exactly (up to underflow of
    entries below 2**-1022 relative to the largest one).
    """
    if x.size == 0:
        return None
    top = float(np.max(np.abs(x)))
    if top == 0.0:
        return None
    return math.frexp(top)[1]


def scaled_sum_of_squares(x: F64) -> tuple[float, int]:
    """(s, e) with Σ x_i² = s · 4**e, s in [1/4, n) — no overflow or underflow.

    Returns (0.0, 0) when x is empty or zero.
    """
    e = binary_exponent(x)
    if e is None:
        return 0.0, 0
    y = np.ldexp(x, -e).reshape(-1)
    return float(np.dot(y, y)), e


def soft_threshold(x: F64, threshold: float) -> F64:
    """sign(x) · max(|x| − τ, 0), entrywise (the prox of τ‖·‖₁); a new array."""
    out = np.abs(x)
    out -= threshold  # |x| − τ never overflows: both terms are ≥ 0
    np.maximum(out, 0.0, out=out)
    out *= np.sign(x)
    out += 0.0  # −0.0 → +0.0
    return out


def l1_ball_threshold(a: F64, radius: float) -> float:
    """θ > 0 with Σ max(a_i − θ, 0) = radius, for a ≥ 0 with Σ a > radius ≥ 0.

    Exact sort-based algorithm of Duchi, Shalev-Shwartz, Singer & Chandra (2008),
    "Efficient projections onto the ℓ1-ball for learning in high dimensions", fig. 1:
    with μ the entries sorted decreasingly, ρ = max{j : μ_j − (Σ_{r≤j} μ_r − z)/j > 0}
    and θ = (Σ_{r≤ρ} μ_r − z)/ρ. The projection of v onto {‖w‖₁ ≤ z} is then
    sign(v)·max(|v| − θ, 0). Works on a power-of-two rescaling of *a*, so no
    cumulative sum overflows.
    """
    e = binary_exponent(a)
    if e is None:  # pragma: no cover - callers guarantee Σ a > radius ≥ 0
        raise ValueError("l1_ball_threshold needs a non-zero vector")
    mu = np.sort(np.ldexp(a, -e).reshape(-1))[::-1]
    z = safe_ldexp(radius, -e)
    excess = np.cumsum(mu) - z
    j = np.arange(1, mu.size + 1, dtype=np.float64)
    positive = np.flatnonzero(mu - excess / j > 0)
    # j = 1 always qualifies when z > 0 (μ_1 − (μ_1 − z) = z); z can only be 0 through
    # underflow of the rescaled radius, and then θ = μ_1 (ρ = 1) is the right answer.
    rho = int(positive[-1]) if positive.size else 0
    theta = float(excess[rho]) / (rho + 1)
    return safe_ldexp(max(theta, 0.0), e)


def as_f64(x: NDArray[Any]) -> F64:
    """*x* as float64 (no copy when it already is)."""
    return np.asarray(x, dtype=np.float64)
