"""Regularisation paths: one fit per α of a decreasing grid, each from the previous solution.

    path = losscore.train.path(X, y, task="regression", loss="huber", penalty="l1")
    path.alphas, [f.coef for f in path.fits]

The options are validated and the data encoded once; the scaling pass (column moments, and
the Gram matrix for the Gram-based solvers) runs once and is rescaled exactly for each α
(:meth:`~losscore.train._scaling.Scaling.with_lam2`); each α's solver starts from the previous
α's solution where it can (L-BFGS, coordinate descent; the LP, the interior-point method and
the smoothing continuation keep their own starts). Every point is a complete
:class:`~losscore.train.FitResult` with its own certificate.

The default grid starts at α₀ (rounded up by 10⁻⁹), the smallest α whose solution is
all-zero (exact for l1 and elastic net, :mod:`losscore.train._zero_alpha`), and has
``n_alphas`` points geometric down to ``alpha_min_ratio``·α₀.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscore._arrays import FloatArray
from losscore.errors import InvalidParameterError
from losscore.train._data import ClassWeight
from losscore.train._result import FitResult
from losscore.train._zero_alpha import RIDGE_L1_RATIO, zero_alpha
from losscore.train.fit import FitSession, _problems, prepare_fit
from losscore.train.solvers._monitor import FitCancelled, Monitor

__all__ = [
    "DEFAULT_ALPHA_MIN_RATIO",
    "DEFAULT_N_ALPHAS",
    "MAX_PATH_POINTS",
    "PathCallback",
    "RegularizationPath",
    "alpha_grid",
    "check_alphas",
    "default_grid",
    "path",
    "path_coefficients",
    "run_path",
]

DEFAULT_N_ALPHAS = 50
DEFAULT_ALPHA_MIN_RATIO = 1e-3  # scikit-learn's eps of LassoCV / ElasticNetCV
MAX_PATH_POINTS = 500
TOP_MARGIN = 1e-9

# called after each point: (index, alpha, the fit at alpha)
PathCallback = Callable[[int, float, FitResult], None]


@dataclass(frozen=True)
class RegularizationPath:
    """Fits along a decreasing grid of α (``fits[i]`` at ``alphas[i]``).

    Attributes:
        alpha_zero: α₀, the smallest α with an all-zero solution (for a pure l2 penalty, where
            none exists, glmnet's stand-in: α₀ of l1_ratio = 10⁻³). None when the grid was
            given and α₀ was not needed.
        complete: False when the time limit stopped the path early (``fits`` is shorter
            than ``alphas``).
    """

    alphas: FloatArray
    fits: list[FitResult]
    alpha_zero: float | None
    complete: bool
    elapsed_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def coefs(self) -> FloatArray:
        """Coefficients along the path, shape (points, *coef.shape)."""
        return np.stack([np.asarray(f.coef) for f in self.fits])


def check_alphas(alphas: Any, field_name: str = "alphas") -> FloatArray:
    """A user grid: 1 to MAX_PATH_POINTS finite positive values, strictly decreasing."""
    grid = np.asarray(alphas, dtype=np.float64) if not isinstance(alphas, str) else None
    if grid is None or grid.ndim != 1 or grid.size == 0:
        raise InvalidParameterError(field_name, "must be a non-empty list of numbers")
    if grid.size > MAX_PATH_POINTS:
        raise InvalidParameterError(
            field_name, f"has {grid.size} values; at most {MAX_PATH_POINTS} are allowed"
        )
    bad = np.flatnonzero(~np.isfinite(grid) | (grid <= 0))
    if bad.size:
        i = int(bad[0])
        raise InvalidParameterError(
            field_name, f"must be finite and > 0, got {float(grid[i])!r}", index=(i,)
        )
    up = np.flatnonzero(np.diff(grid) >= 0)
    if up.size:
        i = int(up[0]) + 1
        raise InvalidParameterError(
            field_name,
            f"must be strictly decreasing (a path runs from strong to weak penalties): "
            f"{float(grid[i])!r} follows {float(grid[i - 1])!r}",
            index=(i,),
        )
    return grid


def alpha_grid(top: float, n_alphas: int, alpha_min_ratio: float) -> FloatArray:
    """``n_alphas`` values geometric from *top* down to ``alpha_min_ratio``·*top*."""
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, int | np.integer):
        raise InvalidParameterError("n_alphas", f"must be an integer, got {n_alphas!r}")
    if not 1 <= n_alphas <= MAX_PATH_POINTS:
        raise InvalidParameterError("n_alphas", f"must be in [1, {MAX_PATH_POINTS}]")
    if not (isinstance(alpha_min_ratio, int | float) and 0 < alpha_min_ratio < 1):
        raise InvalidParameterError("alpha_min_ratio", "must be a number in (0, 1)")
    # the top is α₀ rounded up by 10⁻⁹ (relative): at α₀ itself w = 0 is optimal but sits on
    # the boundary, where a solver's rounding can leave coefficients of ~1e-15
    top = top * (1 + TOP_MARGIN)
    if n_alphas == 1:
        return np.array([top])
    return top * np.geomspace(1.0, float(alpha_min_ratio), int(n_alphas))


def _alpha_zero(session: FitSession) -> float:
    opts = session.prepared.opts
    l1_ratio = opts.l1_ratio if opts.l1_ratio > 0 else RIDGE_L1_RATIO
    _, problems = _problems(session.prepared, session.scaling)
    unit = session.scaling.unit
    exact = opts.l1_ratio > 0  # a pure l2 grid's top is glmnet's convention: no LP needed
    top = max(zero_alpha(p, l1_ratio, unit, exact) for p in problems)
    if not (math.isfinite(top) and top > 0):  # a loss already optimal at w = 0 for every α
        return 1.0
    return top


def default_grid(
    X: Any,
    y: Any,
    *,
    n_alphas: int = DEFAULT_N_ALPHAS,
    alpha_min_ratio: float = DEFAULT_ALPHA_MIN_RATIO,
    **options: Any,
) -> tuple[FloatArray, float]:
    """(the default grid, α₀) for the fit *options* of :func:`path` (no fit is run: one
    scaling pass and the intercept-only model)."""
    if options.get("penalty", "l2") == "none":
        raise InvalidParameterError(
            "penalty", "a regularisation path needs a penalty: l2, l1 or elastic_net"
        )
    session = FitSession(prepare_fit(X, y, alpha=1.0, **options))
    top = _alpha_zero(session)
    return alpha_grid(top, n_alphas, alpha_min_ratio), top


def path(
    X: Any,
    y: Any,
    *,
    task: str,
    loss: str,
    loss_params: Mapping[str, Any] | None = None,
    penalty: str = "l2",
    alphas: Sequence[float] | FloatArray | None = None,
    n_alphas: int = DEFAULT_N_ALPHAS,
    alpha_min_ratio: float = DEFAULT_ALPHA_MIN_RATIO,
    l1_ratio: float = 0.5,
    fit_intercept: bool = True,
    standardize: bool = False,
    sample_weight: Any = None,
    class_weight: ClassWeight = None,
    max_iter: int = 1000,
    tol: float = 1e-8,
    time_limit_s: float | None = None,
    callback: PathCallback | None = None,
    metrics: bool = True,
    cancel: Callable[[], bool] | None = None,
) -> RegularizationPath:
    """Fit at every α of a decreasing grid (module docstring); the other arguments are those
    of :func:`losscore.train.fit`. ``alphas`` (strictly decreasing, > 0) replaces the default
    grid of ``n_alphas`` points from α₀ down to ``alpha_min_ratio``·α₀. ``time_limit_s``
    bounds the whole path; ``max_iter`` and ``tol`` apply to each point. ``metrics=False``
    leaves the training metrics out of every point (and, for the Gram-based solvers, the pass
    over X they need): what a cross-validation fold needs. ``cancel()`` true stops the path
    at the next iteration with :class:`~losscore.train.FitCancelled`.

    Raises:
        InvalidParameterError: no penalty, or a bad grid (the field and value named).
    """
    started = time.perf_counter()
    grid = None if alphas is None else check_alphas(alphas)
    if penalty == "none":
        raise InvalidParameterError(
            "penalty", "a regularisation path needs a penalty: l2, l1 or elastic_net"
        )
    prepared = prepare_fit(
        X,
        y,
        task=task,
        loss=loss,
        loss_params=loss_params,
        penalty=penalty,
        alpha=1.0 if grid is None else float(grid[0]),
        l1_ratio=l1_ratio,
        fit_intercept=fit_intercept,
        standardize=standardize,
        sample_weight=sample_weight,
        class_weight=class_weight,
        max_iter=max_iter,
        tol=tol,
        time_limit_s=time_limit_s,
    )
    if prepared.opts.alpha == 0 and grid is None:  # e.g. a penalty alias of "none"
        raise InvalidParameterError("penalty", "a regularisation path needs a penalty")
    session = FitSession(prepared)
    top = None
    if grid is None:
        top = _alpha_zero(session)
        grid = alpha_grid(top, n_alphas, alpha_min_ratio)
    return run_path(
        session, grid, started, callback=callback, metrics=metrics, cancel=cancel, top=top
    )


def run_path(
    session: FitSession,
    grid: FloatArray,
    started: float,
    *,
    callback: PathCallback | None = None,
    metrics: bool = True,
    cancel: Callable[[], bool] | None = None,
    top: float | None = None,
) -> RegularizationPath:
    """:func:`path` over a session prepared at ``grid[0]`` (a checked grid), within the
    session's time limit counted from ``started``; ``top``: α₀ when the grid is its default."""
    limit = session.prepared.opts.time_limit_s
    fits = _walk(session, grid, limit, started, callback, metrics, cancel)
    return RegularizationPath(
        alphas=grid,
        fits=fits,
        alpha_zero=top,
        complete=len(fits) == grid.size,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def path_coefficients(
    session: FitSession,
    grid: FloatArray,
    started: float,
    cancel: Callable[[], bool] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The models along *grid* without :class:`FitResult` s (the folds of a cross-validation):
    coefficients (A, outputs, d) and intercepts (A, outputs) in the user's units, warm-started
    as :func:`path`; A < len(grid) when the session's time limit (from ``started``) ran out."""
    limit = session.prepared.opts.time_limit_s
    coefs: list[FloatArray] = []
    intercepts: list[FloatArray] = []
    thetas: list[FloatArray] | None = None
    previous = 0.0
    for alpha in grid.tolist():
        left = None if limit is None else limit - (time.perf_counter() - started)
        if left is not None and left <= 0 and coefs:
            break
        starts = None if thetas is None else session.carry(thetas, previous, alpha)
        if cancel is not None and cancel():
            raise FitCancelled()
        W, b, thetas = session.coefficients(alpha, Monitor(left, cancel=cancel), starts)
        coefs.append(W)
        intercepts.append(b)
        previous = alpha
    return np.stack(coefs), np.stack(intercepts)


def _walk(
    session: FitSession,
    grid: FloatArray,
    time_limit_s: float | None,
    started: float,
    callback: PathCallback | None,
    metrics: bool,
    cancel: Callable[[], bool] | None,
) -> list[FitResult]:
    """The fits along *grid*, each warm-started from the last (mapped into its coordinates)."""
    fits: list[FitResult] = []
    thetas: list[FloatArray] | None = None
    previous = 0.0
    for i, alpha in enumerate(grid.tolist()):
        left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - started)
        if left is not None and left <= 0 and fits:
            break
        starts = None if thetas is None else session.carry(thetas, previous, alpha)
        if cancel is not None and cancel():
            raise FitCancelled()
        result, thetas = session.solve(alpha, Monitor(left, cancel=cancel), starts, metrics)
        fits.append(result)
        previous = alpha
        if callback is not None:
            callback(i, alpha, result)
    return fits
