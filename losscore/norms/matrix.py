"""Matrix norms: the nuclear (trace) norm.

Defined on 2-D arrays only (the caller checks the shape). An empty matrix (a zero
dimension) has value 0, an empty subgradient and an empty prox. The SVD runs on
the float64 matrix rescaled by an exact power of two, so entries near the float
maximum neither overflow the singular values nor their sum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from losscore.norms._base import EPS64, F64, Norm, binary_exponent, safe_ldexp
from losscore.spec import NormSpec

__all__ = ["MATRIX_NORMS", "Nuclear"]


def rank_tolerance(sigma_max: float, shape: tuple[int, ...], eps: float) -> float:
    """max(m, n) · ε · σ_max: the default of ``numpy.linalg.matrix_rank`` (and MATLAB's rank)."""
    return max(shape) * eps * sigma_max


class Nuclear(Norm):
    matrix_only = True
    spec = NormSpec(
        name="nuclear",
        aliases=("trace", "schatten_1"),
        title="Nuclear norm (sum of singular values)",
        params=(),
        domain="2-D matrices (m × n); an empty matrix has value 0",
        formula=r"g(X) = \|X\|_* = \sum_i \sigma_i(X)",
        subgradient=(
            r"S = U_r V_r^\top, \text{ with } X = U \Sigma V^\top \text{ (thin SVD) and } "
            r"U_r, V_r \text{ the singular vectors of the } r \text{ singular values } "
            r"\sigma_i > \tau = \max(m, n)\,\varepsilon\,\sigma_1 \text{ (the numpy.linalg."
            r"matrix\_rank tolerance; } \varepsilon \text{ is the machine epsilon of the input "
            r"dtype). This is the minimum-norm element of } \partial\|X\|_* = \{U_r V_r^\top + W : "
            r"U_r^\top W = 0,\ W V_r = 0,\ \|W\|_2 \le 1\}; S = 0 \text{ at } X = 0."
        ),
        prox=(
            r"\operatorname{prox}_{t g}(X) = U \operatorname{diag}(\max(\sigma_i - t, 0)) "
            r"V^\top \quad\text{(singular value thresholding)}"
        ),
        reference=(
            "J.-F. Cai, E. J. Candès & Z. Shen, A singular value thresholding algorithm for "
            "matrix completion, SIAM J. Optim. 20(4), 2010; G. A. Watson, Characterization of "
            "the subdifferential of some matrix norms, Linear Algebra Appl. 170, 1992"
        ),
    )

    def cost(self, shape: tuple[int, ...]) -> float:
        """An SVD: m·n·min(m, n) for an m × n matrix."""
        if len(shape) != 2:
            return float(math.prod(shape))
        m, n = shape
        return float(m) * float(n) * float(min(m, n))

    def value(self, x: F64, params: Mapping[str, float]) -> float:
        e = binary_exponent(x)
        if e is None:
            return 0.0
        sigma = np.linalg.svd(np.ldexp(x, -e), compute_uv=False)
        return safe_ldexp(float(np.sum(sigma)), e)

    def subgradient(self, x: F64, params: Mapping[str, float], *, eps: float = EPS64) -> F64:
        e = binary_exponent(x)
        if e is None:
            return np.zeros_like(x)
        u, sigma, vt = np.linalg.svd(np.ldexp(x, -e), full_matrices=False)
        r = int(np.count_nonzero(sigma > rank_tolerance(float(sigma[0]), x.shape, eps)))
        out: F64 = u[:, :r] @ vt[:r]
        return out

    def prox(self, x: F64, step: float, params: Mapping[str, float]) -> F64:
        e = binary_exponent(x)
        if e is None:
            return np.zeros_like(x)
        u, sigma, vt = np.linalg.svd(np.ldexp(x, -e), full_matrices=False)
        shrunk = np.maximum(sigma - safe_ldexp(step, -e), 0.0)
        r = int(np.count_nonzero(shrunk))
        if r == 0:
            return np.zeros_like(x)
        with np.errstate(over="ignore"):
            out: F64 = np.ldexp((u[:, :r] * shrunk[:r]) @ vt[:r], e)
        return out


MATRIX_NORMS: tuple[type[Norm], ...] = (Nuclear,)
