"""Feature statistics of a fit, in one blocked pass (private): weighted means, variances and
(for the Gram solvers) the centred Gram matrix and target cross moment, and the affine map
to solver coordinates they define (:class:`Scaling`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore._parallel import map_chunks, thread_count

__all__ = ["MOMENT_BLOCK_ELEMENTS", "PARALLEL_MOMENTS_MIN", "Moments", "Scaling"]

MOMENT_BLOCK_ELEMENTS = 1 << 17  # rows x features per block of the moments pass (1 MB)
PARALLEL_MOMENTS_MIN = 1 << 20  # n·d from which the moments pass runs on the thread pool


@dataclass(frozen=True)
class Moments:
    """Weighted column moments of X (weights p = s/Σs), from one blocked pass.

    ``mean`` (zeros without centring), ``var`` = Σ p (x − m)², and optionally the centred
    Gram matrix Σ p (x − m)(x − m)ᵀ and the cross moment Σ p (x − m)(y − ȳ) with a target.
    Blocks are merged with Chan et al.'s pairwise update (block means, centred block
    products, a rank-one correction), so no Σx² − m² cancellation occurs.
    """

    mean: FloatArray
    var: FloatArray
    gram: FloatArray | None
    cross: FloatArray | None

    @classmethod
    def of(
        cls,
        X: FloatArray,
        p: FloatArray,
        *,
        center: bool,
        gram: bool,
        y: FloatArray | None = None,
    ) -> Moments:
        n, d = X.shape
        rows = max(256, MOMENT_BLOCK_ELEMENTS // d)
        uniform = bool(p.min() == p.max())
        if n <= rows:
            one = cls._one_block(X, p, uniform, center=center, gram=gram, y=y)
            if one is not None:
                return one
        # contiguous row ranges, one per task on the thread pool when X is large (numpy's
        # products release the GIL; each thread's BLAS stays single-threaded), merged below
        # with the same pairwise update as the blocks inside a range
        parts = thread_count() * 2 if n * d >= PARALLEL_MOMENTS_MIN else 1
        step = -(-n // parts)
        bounds = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
        sums = map_chunks(
            lambda lo, hi: _range_moments(
                X[lo:hi],
                p[lo:hi],
                uniform,
                rows,
                center=center,
                gram=gram,
                y=None if y is None else y[lo:hi],
            ),
            bounds,
        )
        W, mean, M, cross, ybar = sums[0]
        for Wb, mb, Mb, cb, yb_bar in sums[1:]:
            if Wb <= 0:
                continue
            if W <= 0:
                W, mean, M, cross, ybar = Wb, mb, Mb, cb, yb_bar
                continue
            Wn = W + Wb
            delta = mb - mean
            c = W * Wb / Wn
            M = M + Mb
            if center:
                M += c * (np.outer(delta, delta) if gram else delta * delta)
            if cross is not None and cb is not None:
                cross = cross + cb
                if center:
                    cross += c * delta * (yb_bar - ybar)
                ybar += (yb_bar - ybar) * (Wb / Wn)
            mean = mean + delta * (Wb / Wn)
            W = Wn
        return cls._normalised(W, mean, M, cross, gram=gram)

    @classmethod
    def _normalised(
        cls, W: float, mean: FloatArray, M: FloatArray, cross: FloatArray | None, *, gram: bool
    ) -> Moments:
        """From sums with total weight W to the moments (Σp = 1)."""
        var = M.diagonal().copy() if gram else M.copy()
        return cls(mean, var / W, M / W if gram else None, None if cross is None else cross / W)

    @classmethod
    def _one_block(
        cls,
        X: FloatArray,
        p: FloatArray,
        uniform: bool,
        *,
        center: bool,
        gram: bool,
        y: FloatArray | None,
    ) -> Moments | None:
        """:meth:`of` when X is one block: the same operations on the same values, without
        the merge (with nothing merged yet, it reduces to adding the block sums to zeros)."""
        n = X.shape[0]
        W = float(p[0]) * n if uniform else float(p.sum())
        if not W > 0:  # no weight (cannot happen for validated weights): the general loop
            return None
        mean, M, cross, _ = _block_moments(X, p, W, uniform, center=center, gram=gram, y=y)
        if cross is not None:
            cross += 0.0  # the merge adds to zeros: −0 becomes +0, as there
        M += 0.0
        mean += 0.0
        return cls._normalised(W, mean, M, cross, gram=gram)


def _block_moments(
    X: FloatArray,
    p: FloatArray,
    W: float,
    uniform: bool,
    *,
    center: bool,
    gram: bool,
    y: FloatArray | None,
    buf: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray | None, float]:
    """One block (weight W = Σp > 0): its mean (zeros without centring), Σp(x−m)(x−m)ᵀ or
    its diagonal, Σp(x−m)(y−ȳ) and ȳ; ``buf`` (the block's shape) holds x − m if given."""
    d = X.shape[1]
    if center:
        mean = (p @ X) / W
        D = np.subtract(X, mean, out=buf) if buf is not None else X - mean
    else:
        mean, D = np.zeros(d), X
    cross, y_bar = None, 0.0
    if y is not None:
        y_bar = float(p @ y) / W if center else 0.0
        cross = (p * (y - y_bar)) @ D
    M: FloatArray
    if gram:
        if uniform:
            M = (D.T @ D) * float(p[0])  # syrk
        else:
            S = D * np.sqrt(p)[:, None]
            M = S.T @ S
    else:
        M = p @ (np.multiply(D, D, out=buf) if buf is not None and center else D * D)
    return mean, M, cross, y_bar


def _range_moments(
    X: FloatArray,
    p: FloatArray,
    uniform: bool,
    rows: int,
    *,
    center: bool,
    gram: bool,
    y: FloatArray | None,
) -> tuple[float, FloatArray, FloatArray, FloatArray | None, float]:
    """Unnormalised moments of a row range, block by block: (Σp, mean, Σp(x−m)(x−m)ᵀ or its
    diagonal, Σp(x−m)(y−ȳ), ȳ), blocks merged with Chan et al.'s pairwise update."""
    n, d = X.shape
    buf = np.empty((min(rows, n), d))
    W = 0.0
    mean = np.zeros(d)
    M: FloatArray = np.zeros((d, d)) if gram else np.zeros(d)
    cross = np.zeros(d) if y is not None else None
    ybar = 0.0
    for i in range(0, n, rows):
        Xb = X[i : i + rows]
        pb = p[i : i + rows]
        m = Xb.shape[0]
        wb = float(pb[0]) * m if uniform else float(pb.sum())
        if wb <= 0:
            continue
        yb = None if y is None else y[i : i + rows]
        mb, Mb, cb, yb_bar = _block_moments(
            Xb, pb, wb, uniform, center=center, gram=gram, y=yb, buf=buf[:m]
        )
        Wn = W + wb
        delta = mb - mean
        c = W * wb / Wn
        M += Mb
        if center and W > 0:
            M += c * (np.outer(delta, delta) if gram else delta * delta)
        if cross is not None and cb is not None:
            cross += cb
            if center and W > 0:
                cross += c * delta * (yb_bar - ybar)
            ybar += (yb_bar - ybar) * (wb / Wn)
        mean += delta * (wb / Wn)
        W = Wn
    return W, mean, M, cross, ybar


@dataclass(frozen=True)
class Scaling:
    """Solver features z = (x − mean) / scale; user-penalised coefficients p = w · unit.

    ``unit`` is the feature standard deviation with ``standardize`` (1 for constant columns)
    and 1 otherwise, so p = w·σ are the standardised coefficients. ``scale`` preconditions
    the solvers: scaleⱼ = sqrt(σⱼ² + λ2·unitⱼ²) makes the Hessian diagonal of
    data term + l2 penalty ≈ 1 in every coordinate (exact reparametrisation; F unchanged).
    ``gram`` / ``cross``: the centred Gram matrix Σ aᵢzᵢzᵢᵀ and target cross moment
    Σ aᵢzᵢ(yᵢ − ȳ) in solver coordinates (constant columns zeroed), when requested for the
    Gram-based solvers. Columns whose squares leave the float range (|x| beyond ~1e145 or
    below ~1e-145) get their moments from a power-of-two rescaled copy; σ itself is then
    finite, and σ² is never formed.
    """

    mean: FloatArray
    sigma: FloatArray
    unit: FloatArray
    scale: FloatArray
    constant: NDArray[np.bool_]
    gram: FloatArray | None = None
    cross: FloatArray | None = None

    @classmethod
    def from_moments(
        cls,
        mean: FloatArray,
        var: FloatArray,
        first_row: FloatArray,
        *,
        center: bool,
        standardize: bool,
        lam2: float,
    ) -> Scaling:
        """The map from weighted column moments computed elsewhere (a distributed pass), without
        the Gram matrix; ``first_row``: any row of X (the value of constant columns)."""
        sigma = np.sqrt(np.maximum(var, 0.0))
        parts = _affine_map(
            mean.copy(), sigma, first_row, center=center, standardize=standardize, lam2=lam2
        )
        return cls(*parts)

    def with_lam2(self, lam2: float) -> Scaling:
        """The same moments under another l2 strength (a point of a regularisation path):
        scale = √(σ² + λ2·unit²) changes, and with it the Gram matrix and cross moment in
        solver coordinates (rescaled exactly, no pass over X)."""
        live = np.where(self.constant, 0.0, self.sigma)
        scale = np.hypot(live, np.sqrt(lam2) * self.unit)
        if not scale.all():
            scale[scale == 0] = 1.0
        r = self.scale / scale
        gram = None if self.gram is None else self.gram * np.multiply.outer(r, r)
        cross = None if self.cross is None else self.cross * r
        return replace(self, scale=scale, gram=gram, cross=cross)

    @classmethod
    def of(
        cls,
        X: FloatArray,
        s: FloatArray,
        *,
        center: bool,
        standardize: bool,
        lam2: float,
        gram: bool = False,
        y: FloatArray | None = None,
    ) -> Scaling:
        p = s / s.sum()
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            mom, c = Moments.of(X, p, center=center, gram=gram, y=y), None  # checked below
        extreme = _extreme_columns(mom)
        if extreme.any():
            # squares of these columns leave the float range: the same moments of X scaled by
            # a power of two per column (exact), read back without ever forming σ²
            c = _column_prescale(X, extreme)
            mom = Moments.of(X * c, p, center=center, gram=gram, y=y)
        mean = mom.mean if c is None else mom.mean / c
        sigma = np.sqrt(np.maximum(mom.var, 0.0))
        if c is not None:
            sigma /= c
        mean, sigma, unit, scale, constant = _affine_map(
            mean, sigma, X[0], center=center, standardize=standardize, lam2=lam2
        )
        any_constant = bool(constant.any())
        # Gram and cross moment in solver coordinates z = (x − m)/scale (finite whenever z is)
        to_z = 1.0 / scale if c is None else 1.0 / (scale * c)
        G = None if mom.gram is None else mom.gram * np.multiply.outer(to_z, to_z)
        cross = None if mom.cross is None else mom.cross * to_z
        if any_constant:
            if G is not None:
                G[constant, :] = 0.0  # after exact centring these columns are zero
                G[:, constant] = 0.0
            if cross is not None:
                cross[constant] = 0.0
        return cls(mean, sigma, unit, scale, constant, G, cross)


def _affine_map(
    mean: FloatArray,
    sigma: FloatArray,
    first_row: FloatArray,
    *,
    center: bool,
    standardize: bool,
    lam2: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """(mean, σ, unit, scale, constant) from the column moments (see :class:`Scaling`).

    A constant column (σ = 0, or rounding noise of a constant) is centred on its value (any
    row's: ``first_row``), so it centres to exact zeros, and gets σ = 1."""
    constant = sigma <= 1e-12 * np.abs(mean)
    if constant.any():
        if center:
            mean[constant] = first_row[constant]
        sigma[constant] = 1.0
        live = np.where(constant, 0.0, sigma)
    else:
        live = sigma
    unit = sigma if standardize else np.ones(mean.shape[0])
    scale = np.hypot(live, np.sqrt(lam2) * unit)  # √(σ² + λ2·unit²), σ² never formed
    if not scale.all():
        scale[scale == 0] = 1.0
    return mean, sigma, unit, scale, constant


def _extreme_columns(mom: Moments) -> NDArray[np.bool_]:
    """Columns whose moments may have left the float range: non-finite, a variance beyond
    1e290 or below 1e-290, or exactly 0 (an underflow, or a constant column: then the
    rescaled pass changes nothing). A non-finite Gram or cross moment flags every column."""
    var = mom.var
    out: NDArray[np.bool_] = ~np.isfinite(mom.mean) | ~np.isfinite(var) | (var > 1e290)
    out |= var < 1e-290
    others = [x for x in (mom.gram, mom.cross) if x is not None]
    if not all(bool(np.isfinite(x).all()) for x in others):
        out[:] = True
    return out


def _column_prescale(X: FloatArray, columns: NDArray[np.bool_]) -> FloatArray:
    """A power of two per flagged column that brings its largest |x| into [0.5, 1); 1 for
    the others and for all-zero columns."""
    out: FloatArray = np.ones(X.shape[1])
    peak = np.abs(X[:, columns]).max(axis=0)
    _, exponent = np.frexp(np.where(peak > 0, peak, 1.0))
    out[columns] = np.ldexp(1.0, -exponent)
    return out
