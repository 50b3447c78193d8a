"""The optimisation problem over distributed blocks (private): the block-sum interface of
:class:`losscore.train._problem.Problem`, each evaluation one pass of
:func:`._blocks.loss_sums` over the workers' blocks, tree-reduced.

The solver coordinates are those of the in-memory problem: z = (x − mean) / scale,
parameters θ = (V, b), penalty Σ λ1ⱼ|vⱼ| + ½ Σ λ2ⱼvⱼ², data term Σ aᵢℓᵢ with
aᵢ = sᵢcᵢ / Σ sₖ. Coefficients go to the workers in the user's units (w = v / scale,
b_raw = b − mean·w) and gradients come back in them, as in ``Problem._blocked``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from losscore._arrays import FloatArray
from losscore.train._problem import PointwiseLoss
from losscore.train.distributed._blocks import Target, add, jump_sum, loss_sums
from losscore.train.distributed._curvature import gram_sums, line_sums, newton_sums, step_sums
from losscore.train.distributed._source import Source

__all__ = ["ChunkedProblem"]


@dataclass
class ChunkedProblem:
    """One binary, regression or multinomial problem over a :class:`Source`."""

    source: Source
    target: Target
    loss: PointwiseLoss
    params: Mapping[str, float]
    k: int
    d: int
    fit_intercept: bool
    mean: FloatArray
    scale: FloatArray
    lam1: FloatArray
    lam2: FloatArray
    # the last evaluation: θ bytes, value, gradient (a repeated θ costs no pass)
    _last: tuple[bytes, float, FloatArray] | None = field(default=None, repr=False)
    _last_newton: tuple[bytes, float, FloatArray, FloatArray] | None = field(
        default=None, repr=False
    )
    weight_total: float = 0.0
    # Newton Hessians are summed over every hessian_stride-th row (1: all); see _curvature
    hessian_stride: int = 1
    # a linear term linear·θ added to the data term (None: none): the rows a band problem
    # (see _band) keeps fixed
    linear: FloatArray | None = None
    y_spread: float = 0.0  # weighted standard deviation of real targets (smoothing widths)

    @property
    def n_coef(self) -> int:
        return self.k * self.d

    @property
    def size(self) -> int:
        return self.n_coef + (self.k if self.fit_intercept else 0)

    def with_loss(self, loss: PointwiseLoss) -> ChunkedProblem:
        """The same problem with another pointwise loss (a smoothed stand-in)."""
        return replace(self, loss=loss, _last=None, _last_newton=None)

    def split(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        v = theta[: self.n_coef]
        coef = v if self.k == 1 else v.reshape(self.k, self.d)
        b = theta[self.n_coef :] if self.fit_intercept else np.zeros(self.k)
        return coef, b

    def raw(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(w, b_raw) in the user's units: x·w + b_raw = z·v + b."""
        coef, b = self.split(theta)
        w = coef / self.scale
        return w, b - w @ self.mean

    def data_term(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """(Σ aᵢℓᵢ, its gradient in θ): one pass."""
        key = theta.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1], self._last[2].copy()
        w, b_raw = self.raw(theta)
        total, g_w, g_b, weight_sum = self.source.run(
            loss_sums, add, self.target, self.loss, self.params, w, b_raw
        )
        self.weight_total = float(weight_sum)
        inv = 1.0 / self.weight_total
        g_b = np.atleast_1d(np.asarray(g_b, dtype=np.float64))
        g_v = (g_w - np.multiply.outer(g_b, self.mean).reshape(g_w.shape)) / self.scale
        grad = g_v.reshape(-1)
        if self.fit_intercept:
            grad = np.concatenate([grad, g_b])
        value, grad = float(total) * inv, grad * inv
        if self.linear is not None:
            value, grad = value + float(self.linear @ theta), grad + self.linear
        self._last = (key, value, grad.copy())
        return value, grad

    def penalty(self, theta: FloatArray) -> float:
        v = theta[: self.n_coef]
        return float(self.lam1 @ np.abs(v) + 0.5 * (self.lam2 @ (v * v)))

    def objective(self, theta: FloatArray) -> float:
        return self.data_term(theta)[0] + self.penalty(theta)

    def smooth_value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Data term plus the ½λ2v² part (the l1 part is left to the solver)."""
        val, grad = self.data_term(theta)
        v = theta[: self.n_coef]
        grad[: self.n_coef] += self.lam2 * v
        return val + 0.5 * float(self.lam2 @ (v * v)), grad

    def newton_terms(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """(data term, its gradient, its Hessian) in θ (k = 1): one pass of Gram-type sums
        (none for the θ of the last call)."""
        key = theta.tobytes()
        if self._last_newton is not None and self._last_newton[0] == key:
            _, D, g, H = self._last_newton
            return D, g.copy(), H.copy()
        w, b_raw = self.raw(theta)
        total, grad, H, h_weight, weight_sum = self.source.run(
            newton_sums,
            add,
            self.target,
            self.loss,
            self.params,
            w,
            b_raw,
            self.mean,
            self.scale,
            self.fit_intercept,
            self.hessian_stride,
        )
        self.weight_total = float(weight_sum)
        inv = 1.0 / self.weight_total
        out = self._with_linear(theta, (float(total) * inv, grad * inv, H / float(h_weight)))
        self._last_newton = (key, out[0], out[1].copy(), out[2].copy())
        return out

    def exact_hessian(self) -> None:
        """Newton Hessians from every row from now on (a sampled one made slow progress)."""
        if self.hessian_stride > 1:
            self.hessian_stride = 1
            self._last_newton = None

    def line_values(self, theta: FloatArray, step: FloatArray, ts: FloatArray) -> FloatArray:
        """The data term at θ + t·step for every t in ``ts`` (k = 1): one pass."""
        w, b_raw, dw, db_raw = self._raw_step(theta, step)
        values, weight_sum = self.source.run(
            line_sums, add, self.target, self.loss, self.params, w, b_raw, dw, db_raw, ts
        )
        out: FloatArray = np.asarray(values) / float(weight_sum)
        return out + self._linear_along(theta, step, ts)

    def _raw_step(
        self, theta: FloatArray, step: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        w, b_raw = self.raw(theta)
        dv, db = self.split(step)
        dw = dv / self.scale
        return w, b_raw, dw, db - dw @ self.mean

    def step_terms(
        self, theta: FloatArray, step: FloatArray, ts: FloatArray
    ) -> tuple[FloatArray, tuple[float, FloatArray, FloatArray]]:
        """The data term at θ + t·step for every t in ``ts``, and :meth:`newton_terms` at
        θ + step (k = 1): one pass."""
        w, b_raw, dw, db_raw = self._raw_step(theta, step)
        values, ws1, total, grad, H, h_weight, ws2 = self.source.run(
            step_sums,
            add,
            self.target,
            self.loss,
            self.params,
            w,
            b_raw,
            dw,
            db_raw,
            ts,
            self.mean,
            self.scale,
            self.fit_intercept,
            self.hessian_stride,
        )
        self.weight_total = float(ws2)
        inv = 1.0 / self.weight_total
        at_step = self._with_linear(
            theta + step, (float(total) * inv, grad * inv, H / float(h_weight))
        )
        values = np.asarray(values) / float(ws1) + self._linear_along(theta, step, ts)
        return values, at_step

    def _with_linear(
        self, theta: FloatArray, terms: tuple[float, FloatArray, FloatArray]
    ) -> tuple[float, FloatArray, FloatArray]:
        if self.linear is None:
            return terms
        D, g, H = terms
        return D + float(self.linear @ theta), g + self.linear, H

    def _linear_along(self, theta: FloatArray, step: FloatArray, ts: FloatArray) -> FloatArray:
        """linear·(θ + t·step) for every t (zeros without a linear term)."""
        if self.linear is None:
            return np.zeros(ts.shape[0])
        out: FloatArray = float(self.linear @ theta) + ts * float(self.linear @ step)
        return out

    def gram(self, stride: int = 1) -> tuple[FloatArray, FloatArray, float]:
        """(H, q, c) = Σ aᵢz̃ᵢz̃ᵢᵀ, Σ aᵢz̃ᵢtᵢ, Σ aᵢtᵢ² in solver coordinates over every
        ``stride``-th row (estimates of the sums over all rows for stride > 1): one pass."""
        H, q, c, weight_sum = self.source.run(
            gram_sums, add, self.target, self.mean, self.scale, self.fit_intercept, stride
        )
        inv = 1.0 / float(weight_sum)
        return H * inv, q * inv, float(c) * inv

    def jump_total(self, pl: object) -> tuple[float, float]:
        """(Σ aᵢ Σⱼ Δᵢⱼ, the data term at θ = 0) of a piecewise-linear loss: one pass."""
        jumps, at_zero, weight_sum = self.source.run(jump_sum, add, self.target, pl)
        return float(jumps) / float(weight_sum), float(at_zero) / float(weight_sum)
