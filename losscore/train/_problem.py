"""The optimisation problem in solver coordinates, and its per-chunk oracle (private).

Solvers see the problem

    min_{v, b}  Σᵢ aᵢ ℓ(yᵢ, zᵢ·v + b) + Σⱼ λ1ⱼ |vⱼ| + ½ Σⱼ λ2ⱼ vⱼ²,   aᵢ = sᵢcᵢ / Σₖ sₖ,

where zᵢ = (xᵢ − m) / σ is an affine image of the user's features. With
``standardize`` (m, σ) are the feature means and standard deviations and the
penalty is the user's penalty on v (the standardised coefficients). Without it,
(m, σ) only precondition the solvers: the user's coefficients are w = v / σ and
λ1ⱼ = alpha·l1_ratio / σⱼ, λ2ⱼ = alpha·(1 − l1_ratio) / σⱼ², so the objective is
exactly the user's F(w, b) (centring is absorbed by the unpenalised intercept).

Solvers read the data only through :class:`Problem`'s methods, of two kinds:

* **block sums** (the streaming interface): :meth:`Problem.data_term`,
  :meth:`~Problem.objective`, :meth:`~Problem.smooth_value_grad`, :meth:`~Problem.scores`
  and :meth:`~Problem.objective_and_scores` add up :func:`chunk_sums` (loss sum, gradient
  sums, weight sum of one block of rows) over the blocks, so the solvers built on them
  (L-BFGS-B, the objective of every method) could equally run over chunks streamed from
  elsewhere;
* **rows** (the in-memory interface): :meth:`~Problem.rows`,
  :meth:`~Problem.weighted_rows`, :meth:`~Problem.z_matvec`, :meth:`~Problem.z_rmatvec`,
  :meth:`~Problem.raw_rows` and the Gram pass. The LP (one constraint per sample), the
  interior-point method (a factorisation over every ramp term), the Gram solvers and the
  continuation's Newton steps and crossover need individual rows or products with Z,
  which block sums cannot give; this is why those methods are in-memory (the
  interior-point method is capped at ``IPM_MAX_ROWS`` rows for this reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.losses import Loss

__all__ = ["ChunkSums", "PointwiseLoss", "Problem", "chunk_sums"]

CHUNK_ELEMENTS = 1 << 18  # rows per block x features ≈ 262k doubles (2 MB, cache-sized)
# Cache-sized blocks matter: OpenBLAS's threaded x·A and A·Wᵀ (k small) on a tall matrix run
# 3x-30x slower than the same products done block by block (measured at 10⁶ x 20).


@dataclass
class ChunkSums:
    """Sums over one block of rows, for coefficients V (p,) or (k, d) and intercept b.

    ``loss_sum`` = Σ wᵢ ℓᵢ, ``grad_coef`` = Σ wᵢ ∂ℓᵢ/∂f · zᵢ (shape of V),
    ``grad_intercept`` = Σ wᵢ ∂ℓᵢ/∂f, ``weight_sum`` = Σ sᵢ (the user's sample
    weights only, the normaliser of F); wᵢ = sᵢcᵢ.
    """

    loss_sum: float
    grad_coef: FloatArray
    grad_intercept: FloatArray
    weight_sum: float


class PointwiseLoss(Protocol):
    """What the problem needs of a loss: a catalog :class:`~losscore.Loss`, or a stand-in with
    the same ``pointwise`` (the smoothed piecewise-linear losses of the continuation)."""

    def pointwise(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        *,
        hessian: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]: ...


def chunk_sums(
    loss: PointwiseLoss,
    params: Mapping[str, float],
    Z: FloatArray,
    target: NDArray[Any],
    sample_weight: FloatArray,
    class_factor: FloatArray,
    coef: FloatArray,
    intercept: FloatArray,
    *,
    scores_out: FloatArray | None = None,
) -> ChunkSums:
    """Loss and gradient sums of one block of rows (the streaming primitive).

    ``coef`` has shape (d,) with a scalar-shaped ``intercept`` (1,), or (k, d)
    with ``intercept`` (k,) for multinomial losses (scores f = Z Vᵀ + b, computed and
    differentiated class-major through :meth:`losscore.Loss.class_major`).
    ``scores_out`` (rows,) or (rows, k), if given, receives the scores f.
    """
    w = sample_weight * class_factor
    if coef.ndim == 1:
        f = np.matmul(Z, coef, out=scores_out)
        f += intercept[0]
        ell, g, _ = loss.pointwise(f, target, params)
        wg = w * g
        return ChunkSums(float(w @ ell), Z.T @ wg, np.array([wg.sum()]), float(sample_weight.sum()))
    return _class_major_sums(
        cast(Loss, loss),
        Z,
        target,
        w,
        coef,
        intercept,
        params,
        float(sample_weight.sum()),
        scores_out,
    )


def _class_major_sums(
    loss: Loss,
    Z: FloatArray,
    target: NDArray[Any],
    w: FloatArray,
    coef: FloatArray,
    intercept: FloatArray,
    params: Mapping[str, float],
    weight_sum: float,
    scores_out: FloatArray | None = None,
) -> ChunkSums:
    """Sums of a multinomial loss with the classes on the leading axis: scores Fᵀ = V Zᵀ + b
    (k, rows), so every reduction over the classes runs over k contiguous rows."""
    FT = coef @ Z.T
    FT += intercept[:, None]
    if scores_out is not None:
        scores_out[...] = FT.T
    ell, G = loss.class_major(FT, target, params)
    G *= w
    return ChunkSums(float(w @ ell), G @ Z, G.sum(axis=1), weight_sum)


@dataclass
class Problem:
    """Data and penalty of one fit, in solver coordinates (see the module docstring).

    The solver features z = (x − mean) / scale are never materialised: coefficients are
    mapped to raw units (w = v / scale, b_raw = b − mean·w) before each block is passed to
    :func:`chunk_sums`, and gradients are mapped back (g_v = (g_w − mean·g_b) / scale).
    ``k`` is 1 for scalar-score losses and the number of classes for multinomial ones.
    A parameter vector θ packs V (k·d entries, row-major) followed by the k intercepts
    when ``fit_intercept``.
    """

    X: FloatArray
    mean: FloatArray
    scale: FloatArray
    target: NDArray[Any]
    sample_weight: FloatArray
    class_factor: FloatArray
    loss: PointwiseLoss  # a catalog Loss (class_major too when k > 1), or a smoothed stand-in
    params: Mapping[str, float]
    k: int
    fit_intercept: bool
    lam1: FloatArray  # (k·d,) per-coefficient l1 strength
    lam2: FloatArray  # (k·d,) per-coefficient l2 strength
    # Σᵢ aᵢzᵢzᵢᵀ in solver coordinates, when the caller already has it (aᵢ = sᵢ/Σs, i.e. unit
    # class factors); Σᵢ aᵢzᵢ·targetᵢ (centred) likewise. Used by the Gram-based solvers.
    gram: FloatArray | None = None
    gram_target: FloatArray | None = None
    # h when ℓ = h/2·(f − y)² (the loss's TrainingSpec.constant_hessian): the Gram solvers'
    # quadratic and F(0, 0) without a pass
    constant_hessian: float | None = None
    # (Σaᵢyᵢ, Σaᵢyᵢ²) of the target when the caller has them with ``gram_target`` (Σa = 1):
    # the intercept row and constant of the Gram solvers' quadratic without a pass
    target_moments: tuple[float, float] | None = None
    # a starting θ for the solvers that can use one (L-BFGS, coordinate descent): the solution
    # at the previous α of a regularisation path
    warm_start: FloatArray | None = None

    def __post_init__(self) -> None:
        self.weight_total = float(self.sample_weight.sum())
        # wᵢ = sᵢcᵢ, the block weights of chunk_sums (the same product, formed once)
        self._w = self.sample_weight * self.class_factor
        self.a = self._w / self.weight_total
        n, d = self.X.shape
        self.chunk_rows = max(1024, CHUNK_ELEMENTS // max(d * self.k, 1))
        self._p: int = self.k * int(d)  # n_coef
        # one block: data_term computes chunk_sums' sums inline (no per-call block machinery)
        self._single = n <= self.chunk_rows
        # the last full evaluation: θ, data term, its gradient (or None), the scores
        self._last: tuple[FloatArray, float, FloatArray | None, FloatArray] | None = None
        self._buf: FloatArray | None = None  # scores buffer owned by data_term

    def remember(
        self, theta: FloatArray, value: float, grad: FloatArray | None, scores: FloatArray
    ) -> None:
        """Keep the data term (and gradient) with the scores at θ, so that the final objective
        and the training metrics at the solution need no further pass over X."""
        self._last = (theta.copy(), value, None if grad is None else grad.copy(), scores)

    def _recall(self, theta: FloatArray) -> tuple[float, FloatArray | None, FloatArray] | None:
        last = self._last
        # byte equality: stricter than ==, so a hit always has the same θ (a miss only recomputes)
        if last is None or last[0].tobytes() != theta.tobytes():
            return None
        return last[1], last[2], last[3]

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_coef(self) -> int:
        return self._p

    @property
    def size(self) -> int:
        return self.n_coef + (self.k if self.fit_intercept else 0)

    def split(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """θ → (V, b); V has shape (d,) when k = 1, else (k, d)."""
        v = theta[: self.n_coef]
        coef = v if self.k == 1 else v.reshape(self.k, self.d)
        b = theta[self.n_coef :] if self.fit_intercept else np.zeros(self.k)
        return coef, b

    def raw(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(w, b_raw) in the user's feature units: f = x·w + b_raw = z·v + b."""
        coef, b = self.split(theta)
        w = coef / self.scale
        return w, b - w @ self.mean

    def blocks(self) -> list[slice]:
        n, step = self.n, self.chunk_rows
        return [slice(i, min(i + step, n)) for i in range(0, n, step)]

    def rows(self, idx: NDArray[Any] | slice) -> FloatArray:
        """Solver features z for the given rows."""
        out: FloatArray = (self.X[idx] - self.mean) / self.scale
        return out

    def weighted_rows(self, idx: NDArray[Any], weights: FloatArray) -> FloatArray:
        """weightsᵢ·zᵢ for the rows *idx*: a fresh (len(idx), d) array, formed in place."""
        out: FloatArray = self.X[idx]
        out -= self.mean
        out *= 1.0 / self.scale
        out *= weights[:, None]
        return out

    def raw_rows(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(X, mean, scale): the rows in the user's units, C-contiguous, and the map
        z = (x − mean) / scale, for compiled kernels that form what they need themselves."""
        return np.ascontiguousarray(self.X), self.mean, self.scale

    def z_matvec(self, v: FloatArray) -> FloatArray:
        """Z v (k = 1), block by block."""
        w = v / self.scale
        out: FloatArray = np.empty(self.n)
        for sl in self.blocks():
            np.matmul(self.X[sl], w, out=out[sl])
        out -= float(self.mean @ w)
        return out

    def z_rmatvec(self, g: FloatArray) -> FloatArray:
        """Zᵀ g (k = 1), block by block."""
        acc = np.zeros(self.d)
        for sl in self.blocks():
            acc += g[sl] @ self.X[sl]
        out: FloatArray = (acc - self.mean * g.sum()) / self.scale
        return out

    def data_term(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """(Σ aᵢℓᵢ, its gradient in θ), summed block by block with :func:`chunk_sums`.

        The scores of the pass are kept (one buffer per problem) with θ, the value and the
        gradient: a repeated call at the same θ, or :meth:`objective_and_scores`, reuses them.
        """
        hit = self._recall(theta)
        if hit is not None and hit[1] is not None:
            return hit[0], hit[1].copy()
        self._last = None
        buf = self._buf
        if buf is None:
            buf = self._buf = np.empty((self.n,) if self.k == 1 else (self.n, self.k))
        if self._single:
            value, grad = self._one_block(theta, buf)
        else:
            value, grad = self._blocked(theta, buf)
        self._last = (theta.copy(), value, grad.copy(), buf)
        return value, grad

    def _one_block(self, theta: FloatArray, buf: FloatArray) -> tuple[float, FloatArray]:
        """:meth:`_blocked` for a single block (n ≤ chunk_rows): the same operations on the
        same arrays as :func:`chunk_sums` (so the same values), without its per-call setup."""
        p = self._p
        X = self.X
        v = theta[:p]
        inv = 1.0 / self.weight_total
        grad: FloatArray = np.empty(theta.shape[0])
        if self.k == 1:
            w = v / self.scale
            b = theta[p] if self.fit_intercept else 0.0
            f = np.matmul(X, w, out=buf)
            f += b - w @ self.mean
            ell, g, _ = self.loss.pointwise(f, self.target, self.params)
            wg = self._w * g
            total = float(self._w @ ell)
            g_b = wg.sum()
            g_v = (X.T @ wg - g_b * self.mean) / self.scale
            grad[:p] = g_v
            if self.fit_intercept:
                grad[p] = g_b
            grad *= inv
            return total * inv, grad
        W = v.reshape(self.k, -1) / self.scale
        b_k = theta[p:] if self.fit_intercept else np.zeros(self.k)
        part = _class_major_sums(
            cast(Loss, self.loss),
            X,
            self.target,
            self._w,
            W,
            b_k - W @ self.mean,
            self.params,
            self.weight_total,
            buf,
        )
        G_v = (part.grad_coef - np.multiply.outer(part.grad_intercept, self.mean)) / self.scale
        grad[:p] = G_v.reshape(-1)
        if self.fit_intercept:
            grad[p:] = part.grad_intercept
        grad *= inv
        return part.loss_sum * inv, grad

    def _blocked(self, theta: FloatArray, buf: FloatArray) -> tuple[float, FloatArray]:
        w, b_raw = self.raw(theta)
        total = 0.0
        g_w = np.zeros_like(w)
        g_b = np.zeros(self.k)
        for sl in self.blocks():
            part = chunk_sums(
                self.loss,
                self.params,
                self.X[sl],
                self.target[sl],
                self.sample_weight[sl],
                self.class_factor[sl],
                w,
                b_raw,
                scores_out=buf[sl],
            )
            total += part.loss_sum
            g_w += part.grad_coef
            g_b += part.grad_intercept
        inv = 1.0 / self.weight_total
        g_v = (g_w - np.multiply.outer(g_b, self.mean).reshape(g_w.shape)) / self.scale
        grad = g_v.reshape(-1)
        if self.fit_intercept:
            grad = np.concatenate([grad, g_b])
        return total * inv, grad * inv

    def penalty(self, theta: FloatArray) -> float:
        v = theta[: self.n_coef]
        return float(self.lam1 @ np.abs(v) + 0.5 * (self.lam2 @ (v * v)))

    def objective(self, theta: FloatArray) -> float:
        """The exact objective F at θ."""
        return self.data_term(theta)[0] + self.penalty(theta)

    def objective_and_scores(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """(F(θ), scores): reuses the last evaluation at this θ, else one pass over X.

        The returned scores may be the problem's own buffer: the caller owns them from then
        on (a later :meth:`data_term` writes a fresh buffer).
        """
        hit = self._recall(theta)
        if hit is None:
            f = self.scores(theta)
        else:
            f = hit[2]
            if f is self._buf:
                self._buf = None  # hand the buffer over to the caller
            # the same loss on the same scores (only the summation order differs)
            return hit[0] + self.penalty(theta), f
        return self.objective_from_scores(theta, f), f

    def objective_from_scores(self, theta: FloatArray, f: FloatArray) -> float:
        """F(θ) from its scores f = x·w + b (no pass over X); the registry loss gives ℓ."""
        ell, _, _ = self.loss.pointwise(f, self.target, self.params)
        return float(self.a @ ell) + self.penalty(theta)

    def objective_at_zero(self) -> float:
        """F(0, 0) without a pass over X (all scores are zero).

        For labels (class codes, or ±1) ℓ(yᵢ, 0) takes one value per label, so the loss is
        evaluated once per label and weighted by Σ aᵢ over that label.
        """
        t = self.target
        h = self.constant_hessian
        if h is not None and self.k == 1:
            return float(self.a @ np.square(t)) * (0.5 * h)  # ℓ(y, 0) = h/2·y²
        if self.k > 1 and t.ndim == 1 and t.dtype.kind in "iu":
            per_class = np.bincount(t, weights=self.a, minlength=self.k)
            loss = cast(Loss, self.loss)
            # ℓ(class j, scores 0) for every class, a block of classes at a time (k × block
            # zeros, never k × k: 10⁴ classes would be 800 MB)
            ell: FloatArray = np.empty(self.k)
            step = max(1, CHUNK_ELEMENTS // self.k)
            for lo in range(0, self.k, step):
                hi = min(lo + step, self.k)
                ell[lo:hi], _ = loss.class_major(
                    np.zeros((self.k, hi - lo)), np.arange(lo, hi), self.params
                )
            return float(per_class @ ell)
        if self.k == 1 and t.dtype.kind == "f" and abs(float(t[0])) == 1.0:
            pos = t == 1.0
            if int(np.count_nonzero(pos)) + int(np.count_nonzero(t == -1.0)) == t.shape[0]:
                a_pos = float(self.a[pos].sum())
                ell, _, _ = self.loss.pointwise(np.zeros(2), np.array([-1.0, 1.0]), self.params)
                return float(ell[0]) * (float(self.a.sum()) - a_pos) + float(ell[1]) * a_pos
        shape = (self.n,) if self.k == 1 else (self.n, self.k)
        ell, _, _ = self.loss.pointwise(np.zeros(shape), t, self.params)
        return float(self.a @ ell)

    def gradient_norm_at_zero(self) -> float:
        """‖∇F(0, 0)‖∞ of the smooth part (the l2 term vanishes at 0): from the Gram cross
        moment for a quadratic loss when the scaling pass formed it (no pass over X), else from
        one evaluation at 0, which the solvers then reuse (they start there)."""
        h = self.constant_hessian
        if h is not None and self.k == 1 and self.gram_target is not None:
            # F = h/2·mean((z·v + b − y)²): ∇_v F(0) = −h·Σaᵢzᵢyᵢ (z centred), ∇_b = −h·Σaᵢyᵢ
            peak = float(np.max(np.abs(self.gram_target), initial=0.0))
            if self.fit_intercept:
                mean = self.target_moments[0] if self.target_moments else self.a @ self.target
                peak = max(peak, abs(float(mean)))
            return h * peak
        _, grad = self.smooth_value_grad(np.zeros(self.size))
        return float(np.max(np.abs(grad), initial=0.0))

    def smooth_value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Data term plus the ½λ2v² part (the l1 part is left to the solver)."""
        val, grad = self.data_term(theta)
        v = theta[: self.n_coef]
        grad[: self.n_coef] += self.lam2 * v
        return val + 0.5 * float(self.lam2 @ (v * v)), grad

    def scores(self, theta: FloatArray) -> FloatArray:
        """x·w + b for every row (n,) or (n, k), block by block."""
        if self._single and self.k == 1:  # one block: the same product, no block list
            p = self._p
            w1 = theta[:p] / self.scale
            f: FloatArray = self.X @ w1
            f += (theta[p] if self.fit_intercept else 0.0) - w1 @ self.mean
            return f
        w, b_raw = self.raw(theta)
        out: FloatArray = np.empty((self.n,) if self.k == 1 else (self.n, self.k))
        wt = w if self.k == 1 else w.T
        for sl in self.blocks():
            np.matmul(self.X[sl], wt, out=out[sl])
        out += b_raw[0] if self.k == 1 else b_raw
        return out
