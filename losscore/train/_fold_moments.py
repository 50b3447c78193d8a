"""The scaling passes of a cross-validation's folds from one pass over all the rows (private).

A fold's training part is all rows minus its held-out rows, so its weighted moments (and the
Gram matrix and target cross moment of the Gram-based solvers) are the sums over all rows
minus those over the held-out ones (:meth:`~losscore.train._scaling.Sums.without`, the inverse
of Chan et al.'s pairwise merge). The K folds' passes then read n rows in total instead of
(K − 1)·n, and the path on all the data reuses the all-rows sums.

The subtraction is exact up to rounding relative to the all-rows sums: a column whose
training variance is below ``CANCELLATION`` of its all-rows variance (a feature that is
nearly constant on the training part, e.g. a rare indicator held out) could lose its digits,
so such a fold gets its own pass instead; so does a fold whose moments leave the float range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.train._scaling import Moments, Scaling, Sums, in_range
from losscore.train.fit import FitSession, PreparedFit

__all__ = ["CANCELLATION", "FoldMoments"]

CANCELLATION = 1e-4  # a training variance below this share of the all-rows one: own pass


@dataclass(frozen=True)
class FoldMoments:
    """All rows' sums (weights p = s/Σs over all rows) and what the folds' sums need."""

    prepared: PreparedFit  # the fit on all the rows
    total: Sums
    variance: FloatArray  # all rows' column variances
    p: FloatArray
    y: FloatArray | None

    @classmethod
    def of(cls, prepared: PreparedFit) -> FoldMoments | None:
        """The all-rows sums of the fit *prepared* on all the data, or None when its scaling
        pass is column moments only (the folds' passes are then cheap) or leaves the float
        range (each pass then prescales its own columns)."""
        wanted = FitSession.moments_pass(prepared)
        if wanted is None:
            return None
        _, y = wanted
        s = prepared.data.sample_weight
        p = s / s.sum()
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            total = Sums.of(prepared.data.X, p, center=prepared.opts.fit_intercept, gram=True, y=y)
            moments = Moments.of_sums(total, gram=True)
        if not in_range(moments):
            return None
        return cls(prepared, total, moments.var, p, y)

    def all_rows(self) -> Scaling:
        """The scaling of the fit on all the rows."""
        return self._scaling(Moments.of_sums(self.total, gram=True), self.prepared.data.X[0])

    def training_part(self, test: NDArray[np.bool_], X_test: FloatArray) -> Scaling | None:
        """The scaling of the fit on the rows outside *test* (with the options of the fit on
        all the rows; ``X_test`` = X[test]), or None when the fold needs its own pass (module
        docstring)."""
        X = self.prepared.data.X
        center = self.prepared.opts.fit_intercept
        y = None if self.y is None else self.y[test]
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            held = Sums.of(X_test, self.p[test], center=center, gram=True, y=y)
            if not held.W < self.total.W:
                return None
            moments = Moments.of_sums(self.total.without(held, center=center, gram=True), gram=True)
        if not in_range(moments) or bool(np.any(moments.var < CANCELLATION * self.variance)):
            return None
        return self._scaling(moments, X[int(np.argmin(test))])  # a training row

    def _scaling(self, moments: Moments, first_row: FloatArray) -> Scaling:
        opts = self.prepared.opts
        return Scaling.of_moments(
            moments,
            first_row,
            center=opts.fit_intercept,
            standardize=opts.standardize,
            lam2=opts.alpha * (1 - opts.l1_ratio),
        )
