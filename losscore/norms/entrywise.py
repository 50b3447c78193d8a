"""Entrywise norms and regularisers: l0, l1, l2, squared_l2, linf, elastic_net.

Every one acts on an array of any shape as on the flat vector of its entries (so
``l2`` of a matrix is the Frobenius norm). A 0-d array is a vector of length 1; an
empty array has value 0, an empty subgradient and an empty prox.

Subgradient convention: at a kink the **minimum-norm** element of the
subdifferential (0 where 0 is a subgradient), so the returned vector is the
steepest-descent direction's negative, and it is unique.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from losscore.norms._base import (
    EPS64,
    F64,
    NONNEG,
    UNIT,
    Norm,
    binary_exponent,
    l1_ball_threshold,
    safe_ldexp,
    scaled_sum_of_squares,
    soft_threshold,
)
from losscore.spec import NormSpec, ParamSpec

__all__ = ["ENTRYWISE_NORMS", "L0", "L1", "L2", "ElasticNet", "Linf", "SquaredL2"]

_ANY_SHAPE = "arrays of any shape, taken entrywise (flattened); 0-d is a length-1 vector"
_PARIKH = (
    "N. Parikh & S. Boyd, Proximal Algorithms, Foundations and Trends in Optimization 1(3), "
    "2014, §6.5"
)


def _l2_norm(x: F64) -> float:
    ssq, e = scaled_sum_of_squares(x)
    return safe_ldexp(math.sqrt(ssq), e)


def _l1_norm(x: F64) -> float:
    # Pairwise summation of non-negative terms: a partial sum overflows only if the total does.
    with np.errstate(over="ignore"):
        return float(np.sum(np.abs(x)))


def _floor_sqrt_2t(step: float) -> float:
    """The largest float r with r² ≤ 2t, exactly (rational arithmetic on two floats).

    For a float a, a > sqrt(2t) (real) ⟺ a > r, so the hard threshold below decides
    every entry, ties included, as exact arithmetic would.
    """
    target = 2 * Fraction(step)
    two_t = 2.0 * step
    r = math.sqrt(two_t) if math.isfinite(two_t) else 2.0 * math.sqrt(step / 2.0)
    while r > 0.0 and Fraction(r) ** 2 > target:
        r = math.nextafter(r, 0.0)
    while Fraction(math.nextafter(r, math.inf)) ** 2 <= target:
        r = math.nextafter(r, math.inf)
    return r


class L0(Norm):
    spec = NormSpec(
        name="l0",
        aliases=("count_nonzero",),
        title="Number of non-zeros (l0 'norm'; not convex, not a norm)",
        params=(),
        domain=_ANY_SHAPE,
        formula=r"g(x) = \|x\|_0 = \#\{i : x_i \neq 0\}",
        subgradient=(
            r"s = 0 \quad\text{(a regular, i.e. Fr\'echet, subgradient: } \|y\|_0 \ge \|x\|_0 "
            r"\text{ for every } y \text{ near } x\text{. } \|\cdot\|_0 \text{ is not convex, so "
            r"the global inequality } g(y) \ge g(x) + \langle s, y - x\rangle "
            r"\text{ does not hold.)}"
        ),
        prox=(
            r"\operatorname{prox}_{t g}(x)_i = x_i \text{ if } |x_i| > \sqrt{2t}, "
            r"\text{ else } 0 \quad\text{(hard thresholding). At the tie } |x_i| = \sqrt{2t} "
            r"\text{ both } 0 \text{ and } x_i \text{ minimise; 0 is returned. The comparison with } "
            r"\sqrt{2t} \text{ is exact (no rounding of the threshold).}"
        ),
        reference=(
            "T. Blumensath & M. E. Davies, Iterative thresholding for sparse approximations, "
            "J. Fourier Anal. Appl. 14, 2008 (hard thresholding)"
        ),
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        return float(np.count_nonzero(x))

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        return np.zeros_like(x)

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        return np.where(np.abs(x) > _floor_sqrt_2t(step), x, 0.0)


class L1(Norm):
    spec = NormSpec(
        name="l1",
        aliases=("manhattan", "taxicab"),
        title="l1 norm (sum of absolute values)",
        params=(),
        domain=_ANY_SHAPE,
        formula=r"g(x) = \|x\|_1 = \sum_i |x_i|",
        subgradient=(
            r"s_i = \operatorname{sign}(x_i), \text{ with } s_i = 0 \text{ at } x_i = 0 "
            r"\text{ (minimum-norm element of } [-1, 1]\text{)}"
        ),
        prox=(
            r"\operatorname{prox}_{t g}(x)_i = \operatorname{sign}(x_i)\max(|x_i| - t, 0) "
            r"\quad\text{(soft thresholding)}"
        ),
        reference=_PARIKH,
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        return _l1_norm(x)

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        return np.sign(x) + 0.0

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        return soft_threshold(x, step)


class L2(Norm):
    spec = NormSpec(
        name="l2",
        aliases=("euclidean", "frobenius"),
        title="l2 norm (Euclidean; Frobenius for matrices)",
        params=(),
        domain=_ANY_SHAPE,
        formula=(
            r"g(x) = \|x\|_2 = \sqrt{\textstyle\sum_i x_i^2} "
            r"\text{ (computed on } x / 2^e \text{, no overflow for entries near the float max)}"
        ),
        subgradient=(
            r"s = x / \|x\|_2 \text{ for } x \neq 0; \; s = 0 \text{ at } x = 0 "
            r"\text{ (minimum-norm element of the unit ball)}"
        ),
        prox=(
            r"\operatorname{prox}_{t g}(x) = \max\!\left(1 - \frac{t}{\|x\|_2}, 0\right) x "
            r"\quad\text{(block soft thresholding; 0 when } \|x\|_2 \le t\text{)}"
        ),
        reference=_PARIKH,
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        return _l2_norm(x)

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        e = binary_exponent(x)
        if e is None:
            return np.zeros_like(x)
        y = np.ldexp(x, -e)
        y /= math.sqrt(float(np.dot(y.reshape(-1), y.reshape(-1))))
        return y

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        ssq, e = scaled_sum_of_squares(x)
        if ssq == 0.0:
            return np.zeros_like(x)
        ratio = safe_ldexp(step / math.sqrt(ssq), -e)  # t / ‖x‖, computed without overflow
        if ratio >= 1.0:
            return np.zeros_like(x)
        return x * (1.0 - ratio)


class SquaredL2(Norm):
    spec = NormSpec(
        name="squared_l2",
        aliases=("sq_l2", "ridge"),
        title="Squared l2 norm (no 1/2 factor)",
        params=(),
        domain=_ANY_SHAPE,
        formula=r"g(x) = \|x\|_2^2 = \sum_i x_i^2 \quad\text{(no } \tfrac12\text{)}",
        subgradient=(
            r"\nabla g(x) = 2x \text{ (smooth; may be } \pm\infty \text{ only where } 2|x_i| "
            r"\text{ exceeds the dtype's range)}"
        ),
        prox=r"\operatorname{prox}_{t g}(x) = \frac{x}{1 + 2t}",
        reference=_PARIKH + " (§6.1.1, quadratic functions)",
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        ssq, e = scaled_sum_of_squares(x)
        return safe_ldexp(ssq, 2 * e)

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        with np.errstate(over="ignore"):
            return 2.0 * x

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        return _shrink(x, step, 2.0)


class Linf(Norm):
    spec = NormSpec(
        name="linf",
        aliases=("max", "chebyshev"),
        title="l-infinity norm (largest absolute value)",
        params=(),
        domain=_ANY_SHAPE,
        formula=r"g(x) = \|x\|_\infty = \max_i |x_i| \quad (0 \text{ for an empty array})",
        subgradient=(
            r"\text{With } M = \{i : |x_i| = \|x\|_\infty\},\ m = |M|: "
            r"s_i = \operatorname{sign}(x_i)/m \text{ for } i \in M, \text{ else } 0; "
            r"\; s = 0 \text{ at } x = 0. \text{ This is the minimum-norm element of } "
            r"\partial g(x) = \operatorname{conv}\{\operatorname{sign}(x_i) e_i : i \in M\} "
            r"\text{ (ties are exact equality)}."
        ),
        prox=(
            r"\operatorname{prox}_{t g}(x) = x - \Pi_{\{\|u\|_1 \le t\}}(x) "
            r"= \operatorname{clip}(x, -\theta, \theta), \text{ with } \theta > 0 \text{ solving } "
            r"\sum_i \max(|x_i| - \theta, 0) = t \text{ (exact sort-based l1-ball projection), "
            r"and prox} = 0 \text{ when } \|x\|_1 \le t \text{ (Moreau decomposition)}"
        ),
        reference=(
            _PARIKH + "; J. Duchi, S. Shalev-Shwartz, Y. Singer & T. Chandra, Efficient "
            "projections onto the l1-ball for learning in high dimensions, ICML 2008"
        ),
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        return float(np.max(np.abs(x))) if x.size else 0.0

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        a = np.abs(x)
        top = float(np.max(a)) if x.size else 0.0
        if top == 0.0:
            return np.zeros_like(x)
        at_max = a == top
        return np.where(at_max, np.sign(x), 0.0) / float(np.count_nonzero(at_max))

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        a = np.abs(x)
        if _l1_norm(x) <= step:  # x lies in the dual ball t·B₁: the projection is x itself
            return np.zeros_like(x)
        theta = l1_ball_threshold(a, step)
        return np.clip(x, -theta, theta) + 0.0


class ElasticNet(Norm):
    spec = NormSpec(
        name="elastic_net",
        aliases=("elasticnet",),
        title="Elastic-net penalty (scikit-learn / glmnet convention)",
        params=(
            ParamSpec("alpha", 1.0, NONNEG, "overall strength α ≥ 0 (α = 0 is the zero function)"),
            ParamSpec("l1_ratio", 0.5, UNIT, "mixing ρ in [0, 1]: 1 is α·l1, 0 is α/2·squared l2"),
        ),
        domain=_ANY_SHAPE,
        formula=(
            r"g(x) = \alpha\left(\rho\,\|x\|_1 + \frac{1-\rho}{2}\,\|x\|_2^2\right), "
            r"\quad \rho = \mathrm{l1\_ratio}"
        ),
        subgradient=(
            r"s = \alpha\left(\rho\,\operatorname{sign}(x) + (1-\rho)\,x\right), "
            r"\operatorname{sign}(0) = 0 \text{ (minimum-norm)}"
        ),
        prox=(
            r"\operatorname{prox}_{t g}(x) = \frac{\operatorname{soft}(x,\ t\alpha\rho)}"
            r"{1 + t\alpha(1-\rho)}, \quad \operatorname{soft}(x, \tau)_i = "
            r"\operatorname{sign}(x_i)\max(|x_i| - \tau, 0)"
        ),
        reference=(
            "H. Zou & T. Hastie, Regularization and variable selection via the elastic net, "
            "JRSS-B 67, 2005; penalty as in sklearn.linear_model.ElasticNet and glmnet; " + _PARIKH
        ),
    )

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        alpha, rho = params["alpha"], params["l1_ratio"]
        total = 0.0
        if rho > 0.0:  # skip zero-weight terms: 0·inf would be NaN
            total += rho * _l1_norm(x)
        if rho < 1.0:
            ssq, e = scaled_sum_of_squares(x)
            total += (1.0 - rho) / 2.0 * safe_ldexp(ssq, 2 * e)
        return alpha * total if alpha > 0.0 else 0.0

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        alpha, rho = params["alpha"], params["l1_ratio"]
        with np.errstate(over="ignore"):
            return (alpha * rho) * np.sign(x) + (alpha * (1.0 - rho)) * x + 0.0

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        alpha, rho = params["alpha"], params["l1_ratio"]
        # Group the finite coefficient first: (t·α)·0 could be inf·0 = NaN.
        shrunk = soft_threshold(x, step * (alpha * rho))  # τ = inf (overflow) gives 0: exact
        return _shrink(shrunk, step, alpha * (1.0 - rho))


def _shrink(x: F64, t: float, c: float) -> F64:
    """x / (1 + t·c) for t, c ≥ 0 without overflow in the divisor: for t ≥ 1 as
    (x / t) / (1/t + c), whose parts stay finite when t·c exceeds the float range (t = 1e308,
    c = 2, x = 1e308 gives 0.5, not x / inf = 0)."""
    if t < 1.0:
        return x / (1.0 + t * c)
    return (x / t) / (1.0 / t + c)


ENTRYWISE_NORMS: tuple[type[Norm], ...] = (L0, L1, L2, SquaredL2, Linf, ElasticNet)
