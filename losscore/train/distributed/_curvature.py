"""What the workers compute for a Newton step (private): per block of rows, the data term's
value, gradient and Hessian in solver coordinates, and the data term at trial step sizes.

* :func:`newton_sums`: Σ wᵢℓᵢ, Σ wᵢℓ'ᵢz̃ᵢ and Σ wᵢℓ''ᵢz̃ᵢz̃ᵢᵀ (z̃ = ((x − m)/scale, 1)) at one
  coefficient vector;
* :func:`line_sums`: Σ wᵢℓᵢ at coefficients + t·direction for many t (scores f + t·Δf from
  two products per sub-block);
* :func:`step_sums`: both in one pass, the Newton sums taken at the full step (a Newton step
  that takes its full step costs one pass);
* :func:`gram_sums`: Σ wᵢz̃ᵢz̃ᵢᵀ, Σ wᵢz̃ᵢtᵢ and Σ wᵢtᵢ² (the Gram solvers; warm starts from a
  sample of the rows).

The Hessian may be summed over a sample of the rows (every ``stride``-th row; its own weight
sum comes back with it so the driver scales it): the step's direction needs curvature to a
few digits, not the exact sum, while the value and gradient are always summed over every row
(the certificate rests on them alone).

Rows are processed ``SUB_ROWS`` at a time in buffers allocated once per block: Dask's nanny
sets ``MALLOC_TRIM_THRESHOLD_``, which turns off glibc's adaptive mmap threshold, so every
fresh sub-block temporary would be mapped and faulted in anew (measured: twice the time of
a pass).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.blas import dsyrk as _syrk

from losscore._arrays import FloatArray
from losscore.train._problem import PointwiseLoss
from losscore.train.distributed._blocks import Columns, Target, rows

__all__ = ["SUB_ROWS", "gram_sums", "line_sums", "newton_sums", "step_sums"]

SUB_ROWS = 8192  # rows per sub-block inside a block: the temporaries stay cache-sized


class _Scratch:
    """The temporaries of one sub-block, reused for every sub-block of a block."""

    def __init__(self, m: int) -> None:
        self.f0, self.df, self.f, self.ell, self.g, self.h, self.wg, self.root = (
            np.empty(SUB_ROWS) for _ in range(8)
        )
        self.rows = np.empty((SUB_ROWS, m))

    def pointwise(
        self,
        loss: PointwiseLoss,
        f: FloatArray,
        t: NDArray[Any],
        params: Mapping[str, float],
        hessian: bool,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """ℓ, ℓ' (and ℓ'') at scores f, into this scratch for a catalog loss (its ``kernel``);
        a stand-in without one allocates (the smoothed piecewise-linear losses)."""
        kernel = getattr(loss, "kernel", None)
        if kernel is None:
            return loss.pointwise(f, t, params, hessian=hessian)
        n = f.shape[0]
        ell, g, h = self.ell[:n], self.g[:n], (self.h[:n] if hessian else None)
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            kernel(f, t, params, ell, g, h)
        return ell, g, h


class _NewtonAcc:
    """Σ wᵢℓᵢ, Σ wᵢℓ'ᵢz̃ᵢ and Σ wᵢℓ''ᵢz̃ᵢz̃ᵢᵀ, sub-block by sub-block.

    The Hessian is accumulated as its upper triangle by a symmetric rank-k update (BLAS syrk)
    of rows √(wᵢℓ''ᵢ)·(xᵢ − m, 1) (ℓ'' ≥ 0: convex losses) of every ``stride``-th row;
    :meth:`result` mirrors it and divides by scale on both sides. The gradient is summed in
    raw units over every row and mapped once at the end (Σ wg·(x − m)/s = (Σ wg·x −
    m·Σ wg)/s), as the in-memory problem does."""

    def __init__(self, mean: FloatArray, fit_intercept: bool, stride: int) -> None:
        d = mean.shape[0]
        self.d, self.mean, self.fit_intercept, self.stride = d, mean, fit_intercept, stride
        m = d + 1 if fit_intercept else d
        self.total = 0.0
        self.grad_x = np.zeros(d)
        self.grad_b = 0.0
        self.H = np.zeros((m, m))
        self.hessian_weight = 0.0  # Σ sᵢ over the rows the Hessian was summed over
        self.scratch = _Scratch(m)

    def add(
        self,
        Xs: FloatArray,
        f: FloatArray,
        t: NDArray[Any],
        w: FloatArray,
        s: FloatArray,
        loss: PointwiseLoss,
        params: Mapping[str, float],
    ) -> None:
        """One sub-block: rows Xs, scores f, targets t, weights w = s·c and sample weights s."""
        sc, n, k = self.scratch, Xs.shape[0], self.stride
        ell, g, h = sc.pointwise(loss, f, t, params, hessian=True)
        assert h is not None
        wg = np.multiply(w, g, out=sc.wg[:n])
        self.total += float(w @ ell)
        self.grad_x += Xs.T @ wg
        self.grad_b += float(wg.sum())
        if k > 1:  # the sampled rows: every k-th (a view; the row buffer below copies them)
            Xs, w, h, s = Xs[::k], w[::k], h[::k], s[::k]
        r = Xs.shape[0]
        root = np.multiply(w, h, out=sc.root[:r])
        np.maximum(root, 0.0, out=root)
        np.sqrt(root, out=root)
        self.hessian_weight += float(s.sum())
        self.H += _weighted_syrk(sc.rows[:r], Xs, self.mean, root, self.fit_intercept)

    def result(self, scale: FloatArray) -> tuple[float, FloatArray, FloatArray, float]:
        """(Σ wℓ, gradient in θ = (v, b), the full symmetric Hessian of the sampled rows, their
        Σ s)."""
        grad = _to_solver(self.grad_x, self.grad_b, self.mean, scale, self.fit_intercept)
        return self.total, grad, _full_scaled(self.H, scale, self.d), self.hessian_weight


def _weighted_syrk(
    R: FloatArray, Xs: FloatArray, mean: FloatArray, root: FloatArray, fit_intercept: bool
) -> FloatArray:
    """The upper triangle of Σ rᵢ²(xᵢ − m, 1)(xᵢ − m, 1)ᵀ by a symmetric rank-k update (BLAS
    syrk) of rows rᵢ·(xᵢ − m, 1) written into R, C-ordered (Rᵀ is then the Fortran matrix syrk
    takes as is); the division by scale is left to the (d + 1)² result."""
    d = Xs.shape[1]
    np.subtract(Xs, mean, out=R[:, :d])
    R[:, :d] *= root[:, None]
    if fit_intercept:
        R[:, d] = root
    out: FloatArray = _syrk(1.0, R.T, trans=0)
    return out


def _full_scaled(H_upper: FloatArray, scale: FloatArray, d: int) -> FloatArray:
    """The symmetric matrix of an upper triangle, divided by scale on both sides (solver
    coordinates)."""
    H = np.triu(H_upper)
    H += np.triu(H_upper, 1).T
    inv = np.ones(H.shape[0])
    inv[:d] = 1.0 / scale
    H *= np.multiply.outer(inv, inv)
    return H


def _to_solver(
    sum_x: FloatArray, sum_1: float, mean: FloatArray, scale: FloatArray, fit_intercept: bool
) -> FloatArray:
    """Σ uᵢz̃ᵢ from the raw sums Σ uᵢxᵢ and Σ uᵢ: ((Σux − m·Σu)/scale, Σu)."""
    d = sum_x.shape[0]
    out = np.empty(d + 1 if fit_intercept else d)
    out[:d] = (sum_x - mean * sum_1) / scale
    if fit_intercept:
        out[d] = sum_1
    return out


def _block(part: Any, columns: Columns | None, target: Target) -> tuple[Any, ...] | None:
    """(X, t, w = s·c, s) of one block (None: no rows)."""
    X, y, s = rows(part, columns)
    if X.shape[0] == 0:
        return None
    t, c = target.of(y)
    s_full = target.weights(s, X.shape[0])
    return X, t, s_full * c, s_full


def newton_sums(
    part: Any,
    columns: Columns | None,
    target: Target,
    loss: PointwiseLoss,
    params: Mapping[str, float],
    coef: FloatArray,
    intercept: FloatArray,
    mean: FloatArray,
    scale: FloatArray,
    fit_intercept: bool,
    stride: int,
) -> tuple[float, FloatArray, FloatArray, float, float]:
    """(Σ wᵢℓᵢ, Σ wᵢℓ'ᵢz̃ᵢ, Σ wᵢℓ''ᵢz̃ᵢz̃ᵢᵀ over every ``stride``-th row, those rows' Σ sᵢ,
    Σ sᵢ) at raw-unit coefficients (one score per sample), in solver coordinates θ = (v, b),
    z̃ = ((x − m)/scale, 1)."""
    acc = _NewtonAcc(mean, fit_intercept, stride)
    block = _block(part, columns, target)
    if block is None:
        return (*acc.result(scale), 0.0)
    X, t, w, s = block
    f = acc.scratch.f
    for lo in range(0, X.shape[0], SUB_ROWS):
        sl = slice(lo, lo + SUB_ROWS)
        Xs = X[sl]
        fs = np.matmul(Xs, coef, out=f[: Xs.shape[0]])
        fs += intercept[0]
        acc.add(Xs, fs, t[sl], w[sl], s[sl], loss, params)
    return (*acc.result(scale), float(s.sum()))


def line_sums(
    part: Any,
    columns: Columns | None,
    target: Target,
    loss: PointwiseLoss,
    params: Mapping[str, float],
    coef: FloatArray,
    intercept: FloatArray,
    dcoef: FloatArray,
    dintercept: FloatArray,
    steps: FloatArray,
) -> tuple[FloatArray, float]:
    """(Σ wᵢℓᵢ at coefficients + t·direction for every t in ``steps``, Σ sᵢ): a line search's
    trial points in one pass."""
    values, _, weight_sum = _line(
        part, columns, target, loss, params, (coef, intercept, dcoef, dintercept), steps, None
    )
    return values, weight_sum


def step_sums(
    part: Any,
    columns: Columns | None,
    target: Target,
    loss: PointwiseLoss,
    params: Mapping[str, float],
    coef: FloatArray,
    intercept: FloatArray,
    dcoef: FloatArray,
    dintercept: FloatArray,
    steps: FloatArray,
    mean: FloatArray,
    scale: FloatArray,
    fit_intercept: bool,
    stride: int,
) -> tuple[Any, ...]:
    """:func:`line_sums` along the direction and :func:`newton_sums` at its full step, in one
    pass."""
    acc = _NewtonAcc(mean, fit_intercept, stride)
    values, _, weight_sum = _line(
        part, columns, target, loss, params, (coef, intercept, dcoef, dintercept), steps, acc
    )
    return (values, weight_sum, *acc.result(scale), weight_sum)


def _line(
    part: Any,
    columns: Columns | None,
    target: Target,
    loss: PointwiseLoss,
    params: Mapping[str, float],
    point: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    steps: FloatArray,
    acc: _NewtonAcc | None,
) -> tuple[FloatArray, None, float]:
    """Line values at every step and, with an accumulator, the Newton sums at the full step,
    sub-block by sub-block over one block. ``point``: (coef, intercept, dcoef, dintercept)."""
    coef, intercept, dcoef, dintercept = point
    out = np.zeros(steps.shape[0])
    block = _block(part, columns, target)
    if block is None:
        return out, None, 0.0
    X, t, w, s = block
    sc = acc.scratch if acc is not None else _Scratch(1)
    for lo in range(0, X.shape[0], SUB_ROWS):
        sl = slice(lo, lo + SUB_ROWS)
        Xs, ts, ws = X[sl], t[sl], w[sl]
        n = Xs.shape[0]
        f0 = np.matmul(Xs, coef, out=sc.f0[:n])
        f0 += intercept[0]
        df = np.matmul(Xs, dcoef, out=sc.df[:n])
        df += dintercept[0]
        value_at = _value_at(loss, ts, params, sc)
        f = sc.f[:n]
        for i, step in enumerate(steps.tolist()):
            np.multiply(df, step, out=f)
            f += f0
            out[i] += ws @ value_at(f)
        if acc is not None:
            np.add(f0, df, out=f)
            acc.add(Xs, f, ts, ws, s[sl], loss, params)
    return out, None, float(s.sum())


def _value_at(
    loss: PointwiseLoss, target: NDArray[Any], params: Mapping[str, float], sc: _Scratch
) -> Callable[[FloatArray], FloatArray]:
    """ℓ(f) for one sub-block's targets at many score vectors f. A piecewise-linear stand-in
    (it has ``ramps`` and ``evaluate``) builds its ramps from the targets once, not per f."""
    ramps_of = getattr(loss, "ramps", None)
    evaluate = getattr(loss, "evaluate", None)
    if ramps_of is not None and evaluate is not None:
        ramps = ramps_of(np.asarray(target, dtype=np.float64))
        return lambda f: evaluate(f, ramps, value_only=True)[0]
    return lambda f: sc.pointwise(loss, f, target, params, hessian=False)[0]


def gram_sums(
    part: Any,
    columns: Columns | None,
    target: Target,
    mean: FloatArray,
    scale: FloatArray,
    fit_intercept: bool,
    stride: int = 1,
) -> tuple[FloatArray, FloatArray, float, float]:
    """(H, q, c, Σ sᵢ) over every ``stride``-th row: H = Σ wᵢz̃ᵢz̃ᵢᵀ, q = Σ wᵢz̃ᵢtᵢ,
    c = Σ wᵢtᵢ² with z̃ = ((x − m)/scale, 1) (the 1 only with an intercept), t the target as
    a real number, w = s·c."""
    d = mean.shape[0]
    m = d + 1 if fit_intercept else d
    H, qx, qb, c, weight = np.zeros((m, m)), np.zeros(d), 0.0, 0.0, 0.0
    block = _block(part, columns, target)
    if block is None:
        return H, np.zeros(m), 0.0, 0.0
    X, t, w, s = block
    X, t, w, s = X[::stride], np.asarray(t, dtype=np.float64)[::stride], w[::stride], s[::stride]
    R, root, wt = np.empty((SUB_ROWS, m)), np.empty(SUB_ROWS), np.empty(SUB_ROWS)
    for lo in range(0, X.shape[0], SUB_ROWS):
        sl = slice(lo, lo + SUB_ROWS)
        Xs, n = X[sl], X[sl].shape[0]
        np.sqrt(w[sl], out=root[:n])
        H += _weighted_syrk(R[:n], Xs, mean, root[:n], fit_intercept)
        np.multiply(w[sl], t[sl], out=wt[:n])
        qx += Xs.T @ wt[:n]
        qb += float(wt[:n].sum())
        c += float(wt[:n] @ t[sl])
    weight = float(s.sum())
    q = _to_solver(qx, qb, mean, scale, fit_intercept)
    return _full_scaled(H, scale, d), q, c, weight
