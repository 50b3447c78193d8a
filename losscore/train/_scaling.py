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

__all__ = [
    "MOMENT_BLOCK_ELEMENTS",
    "PARALLEL_MOMENTS_MIN",
    "Moments",
    "Scaling",
    "Sums",
    "in_range",
]

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
    # (ȳ, Σp·y²) with a target: the quadratic losses' intercept row and constant (Σp = 1)
    target: tuple[float, float] | None = None

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
        return cls.of_sums(Sums.of(X, p, center=center, gram=gram, y=y), gram=gram)

    @classmethod
    def of_sums(cls, sums: Sums, *, gram: bool) -> Moments:
        """The moments (Σp = 1) of the rows whose unnormalised sums are *sums*."""
        W, M, cross = sums.W, sums.M, sums.cross
        var = M.diagonal().copy() if gram else M.copy()
        target = None
        if cross is not None:
            target = (sums.ybar, sums.yss / W + sums.ybar * sums.ybar)  # inf, not OverflowError
        return cls(
            sums.mean,
            var / W,
            M / W if gram else None,
            None if cross is None else cross / W,
            target,
        )


@dataclass(frozen=True)
class Sums:
    """Unnormalised moments of a set of rows with weights p: W = Σp, the mean m (zeros
    without centring), M = Σp(x − m)(x − m)ᵀ (or its diagonal without ``gram``) and, with a
    target, cross = Σp(x − m)(y − ȳ), ȳ and yss = Σp(y − ȳ)² (ȳ = 0 without centring).

    Two disjoint sets merge with Chan et al.'s pairwise update (:meth:`merged`: means, centred
    sums, a rank-one correction), so no Σx² − m² cancellation occurs; :meth:`without` is its
    inverse (the training part of a fold as all rows minus the held-out ones).
    """

    W: float
    mean: FloatArray
    M: FloatArray
    cross: FloatArray | None
    ybar: float
    yss: float

    @classmethod
    def of(
        cls,
        X: FloatArray,
        p: FloatArray,
        *,
        center: bool,
        gram: bool,
        y: FloatArray | None = None,
    ) -> Sums:
        """The sums of the rows of X, in cache-sized blocks; contiguous row ranges, one per
        task on the thread pool when X is large (numpy's products release the GIL; each
        thread's BLAS stays single-threaded), merged with the same pairwise update as the
        blocks inside a range."""
        n, d = X.shape
        rows = max(256, MOMENT_BLOCK_ELEMENTS // d)
        uniform = bool(p.min() == p.max())
        if n <= rows:
            W = float(p[0]) * n if uniform else float(p.sum())
            if W > 0:  # one block: the loop below would add its sums to zeros
                one = _block_moments(X, p, W, uniform, center=center, gram=gram, y=y)
                return one.plus_zero()
        parts = thread_count() * 2 if n * d >= PARALLEL_MOMENTS_MIN else 1
        step = -(-n // parts)
        bounds = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
        ranges = map_chunks(
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
        total = ranges[0]
        for part in ranges[1:]:
            total = total.merged(part, center=center, gram=gram)
        return total

    @classmethod
    def empty(cls, d: int, *, gram: bool, target: bool) -> Sums:
        M = np.zeros((d, d)) if gram else np.zeros(d)
        return cls(0.0, np.zeros(d), M, np.zeros(d) if target else None, 0.0, 0.0)

    def plus_zero(self) -> Sums:
        """The same sums with −0 as +0 (what adding them to zeros in a merge does)."""
        cross = None if self.cross is None else self.cross + 0.0
        return replace(self, mean=self.mean + 0.0, M=self.M + 0.0, cross=cross)

    def merged(self, other: Sums, *, center: bool, gram: bool) -> Sums:
        """The sums of the union of two disjoint sets of rows."""
        if other.W <= 0:
            return self
        if self.W <= 0:
            return other.plus_zero()
        W = self.W + other.W
        delta = other.mean - self.mean
        c = self.W * other.W / W
        M = self.M + other.M
        dy = other.ybar - self.ybar
        cross = None if self.cross is None or other.cross is None else self.cross + other.cross
        yss = self.yss + other.yss
        if center:
            M += c * (np.outer(delta, delta) if gram else delta * delta)
            if cross is not None:
                cross += c * delta * dy
            yss += c * dy * dy
        ybar = self.ybar + dy * (other.W / W) if center else 0.0
        mean = self.mean + delta * (other.W / W)
        return Sums(W, mean, M, cross, ybar, yss)

    def without(self, part: Sums, *, center: bool, gram: bool) -> Sums:
        """The sums of these rows minus *part*, a subset of them with less than all the
        weight: the set A with ``A.merged(part) == self`` (up to rounding)."""
        W = self.W - part.W
        mean = self.mean + (self.mean - part.mean) * (part.W / W)
        M = self.M - part.M
        cross = None if self.cross is None or part.cross is None else self.cross - part.cross
        yss = self.yss - part.yss
        ybar = 0.0
        if center:
            delta = part.mean - mean
            c = W * part.W / self.W
            M -= c * (np.outer(delta, delta) if gram else delta * delta)
            ybar = self.ybar + (self.ybar - part.ybar) * (part.W / W)
            dy = part.ybar - ybar
            if cross is not None:
                cross -= c * delta * dy
            yss -= c * dy * dy
        return Sums(W, mean, M, cross, ybar, max(yss, 0.0))


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
) -> Sums:
    """The sums of one block (weight W = Σp > 0); ``buf`` (the block's shape) holds x − m
    if given."""
    d = X.shape[1]
    if center:
        mean = (p @ X) / W
        D = np.subtract(X, mean, out=buf) if buf is not None else X - mean
    else:
        mean, D = np.zeros(d), X
    cross, y_bar, yss = None, 0.0, 0.0
    if y is not None:
        y_bar = float(p @ y) / W if center else 0.0
        ry = y - y_bar
        pry = p * ry
        cross = pry @ D
        yss = float(pry @ ry)
    M: FloatArray
    if gram:
        if uniform:
            M = (D.T @ D) * float(p[0])  # syrk
        else:
            S = D * np.sqrt(p)[:, None]
            M = S.T @ S
    else:
        M = p @ (np.multiply(D, D, out=buf) if buf is not None and center else D * D)
    return Sums(W, mean, M, cross, y_bar, yss)


def _range_moments(
    X: FloatArray,
    p: FloatArray,
    uniform: bool,
    rows: int,
    *,
    center: bool,
    gram: bool,
    y: FloatArray | None,
) -> Sums:
    """The sums of a row range, block by block, merged pairwise."""
    n, d = X.shape
    buf = np.empty((min(rows, n), d))
    total = Sums.empty(d, gram=gram, target=y is not None)
    for i in range(0, n, rows):
        pb = p[i : i + rows]
        m = pb.shape[0]
        wb = float(pb[0]) * m if uniform else float(pb.sum())
        if wb <= 0:
            continue
        yb = None if y is None else y[i : i + rows]
        block = _block_moments(
            X[i : i + rows], pb, wb, uniform, center=center, gram=gram, y=yb, buf=buf[:m]
        )
        total = total.merged(block, center=center, gram=gram)
    return total


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
    target: tuple[float, float] | None = None  # (ȳ, Σp·y²), as Moments.target

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
        scale = self.scales(np.array([lam2]))[0]
        r = self.scale / scale
        gram = None if self.gram is None else self.gram * np.multiply.outer(r, r)
        cross = None if self.cross is None else self.cross * r
        return replace(self, scale=scale, gram=gram, cross=cross)

    def scales(self, lam2: FloatArray) -> FloatArray:
        """``scale`` under each l2 strength of *lam2* (A,): (A, d), √(σ² + λ2·unit²) (σ² never
        formed; constant columns σ = 0; a zero scale is 1)."""
        live = np.where(self.constant, 0.0, self.sigma)
        out: FloatArray = np.hypot(live, np.sqrt(lam2)[:, None] * self.unit)
        out[out == 0] = 1.0
        return out

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
            mom = Moments.of(X, p, center=center, gram=gram, y=y)  # checked below
        extreme = _extreme_columns(mom)
        if not extreme.any():
            return cls.of_moments(mom, X[0], center=center, standardize=standardize, lam2=lam2)
        # squares of these columns leave the float range: the same moments of X scaled by a
        # power of two per column (exact), read back without ever forming σ²
        c = _column_prescale(X, extreme)
        mom = Moments.of(X * c, p, center=center, gram=gram, y=y)
        return cls.of_moments(
            mom, X[0], center=center, standardize=standardize, lam2=lam2, prescale=c
        )

    @classmethod
    def of_moments(
        cls,
        mom: Moments,
        first_row: FloatArray,
        *,
        center: bool,
        standardize: bool,
        lam2: float,
        prescale: FloatArray | None = None,
    ) -> Scaling:
        """The map from the moments of X (of X·prescale, column by column, when given);
        ``first_row``: any row of X (the value of constant columns). Moments with extreme
        columns (:func:`in_range` false) need the prescaled pass of :meth:`of`."""
        c = prescale
        mean = mom.mean if c is None else mom.mean / c
        sigma = np.sqrt(np.maximum(mom.var, 0.0))
        if c is not None:
            sigma /= c
        mean, sigma, unit, scale, constant = _affine_map(
            mean, sigma, first_row, center=center, standardize=standardize, lam2=lam2
        )
        # Gram and cross moment in solver coordinates z = (x − m)/scale (finite whenever z is)
        to_z = 1.0 / scale if c is None else 1.0 / (scale * c)
        G = None if mom.gram is None else mom.gram * np.multiply.outer(to_z, to_z)
        cross = None if mom.cross is None else mom.cross * to_z
        if constant.any():
            if G is not None:
                G[constant, :] = 0.0  # after exact centring these columns are zero
                G[:, constant] = 0.0
            if cross is not None:
                cross[constant] = 0.0
        return cls(mean, sigma, unit, scale, constant, G, cross, mom.target)


def in_range(mom: Moments) -> bool:
    """Whether no column's moments left the float range (:meth:`Scaling.of_moments` applies
    without a prescaled pass)."""
    return not _extreme_columns(mom).any()


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
