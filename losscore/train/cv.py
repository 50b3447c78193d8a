"""Choosing α by K-fold cross-validation, over warm-started regularisation paths.

    cv = losscore.train.cross_validate(X, y, task="classification", loss="hinge", cv=5)
    cv.alpha_min, cv.alpha_one_se, cv.model

The α grid is fixed on all the data (the default: :func:`losscore.train.path`'s, from α₀).
Each fold fits the whole grid on its training part (one path, warm-started) and scores every
α on its held-out part (:mod:`losscore.train.scoring`, weighted like the fit); the path on all
the data over the same grid gives the final model. The folds are plain, stratified
(classification) or grouped (``groups``), reproducible from ``random_state``
(:mod:`losscore.train.folds`) and returned. ``alpha_min`` has the best mean score;
``alpha_one_se`` is the largest α whose mean is within one standard error (sample standard
deviation over the folds / √K) of the best; ``model`` is the full path's point at the
``select``-ed one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.errors import InvalidParameterError
from losscore.train._blas import single_threaded_blas
from losscore.train._data import ClassWeight, Dataset, encode_dataset
from losscore.train._fold_moments import FoldMoments
from losscore.train._moment_path import moment_path
from losscore.train._path import (
    DEFAULT_ALPHA_MIN_RATIO,
    DEFAULT_N_ALPHAS,
    RegularizationPath,
    check_alphas,
    default_grid,
    path_coefficients,
    run_path,
)
from losscore.train._result import FitResult
from losscore.train.fit import FitSession, PreparedFit, fit, prepare_fit, with_training_metrics
from losscore.train.folds import check_folds, group_folds, kfold, stratified_folds
from losscore.train.scoring import (
    GREATER_IS_BETTER,
    NEEDS_PROBABILITIES,
    check_scoring,
    score,
    score_columns,
)

__all__ = ["CVCallback", "CVStep", "CrossValidation", "FoldPlan", "cross_validate", "plan_folds"]

Select = Literal["min", "one_se"]
MAX_TABLE_COEF = 1000  # a table keeps the path's coefficients up to this many per α


@dataclass(frozen=True)
class CVStep:
    """One fit of a cross-validation: fold ``fold`` of ``folds`` (None: the path on all the
    data, last), the ``index``-th of ``n_alphas`` values, ``alpha``, its held-out score."""

    fold: int | None
    folds: int
    index: int
    n_alphas: int
    alpha: float
    score: float | None


# called after every fit of every fold's path, then of the full path
CVCallback = Callable[[CVStep], None]


@dataclass(frozen=True)
class CrossValidation:
    """The CV table and the chosen α.

    Attributes:
        folds: the test fold of every sample (n,).
        scores: (K, len(alphas)) held-out scores; ``mean`` and ``std_error`` per α.
        alpha_min / alpha_one_se: the best mean, and the one-standard-error rule's α.
        alpha: the one used for ``model`` (``select``).
        model: the final fit on all the data at ``alpha`` (the full path's point there).
        path: the regularisation path on all the data over ``alphas``.
    """

    alphas: FloatArray
    folds: NDArray[np.intp]
    scores: FloatArray
    mean: FloatArray
    std_error: FloatArray
    scoring: str
    greater_is_better: bool
    alpha_min: float
    alpha_one_se: float
    select: Select
    alpha: float
    model: FitResult
    path: RegularizationPath  # on all the data, over the same grid
    kind: str  # "kfold", "stratified" or "group"
    shuffle: bool
    random_state: int | None
    elapsed_ms: float

    def _path_coef(self) -> list[Any] | None:
        """The full path's coefficients per α, when at most ``MAX_TABLE_COEF`` per point."""
        coefs = [np.atleast_2d(f.coef) for f in self.path.fits]
        if not coefs or coefs[0].size > MAX_TABLE_COEF:
            return None
        return [c.tolist() for c in coefs]

    def table(self) -> dict[str, Any]:
        """The CV table as plain lists (for storing with the model); ``path_coef`` is None for
        models with more than ``MAX_TABLE_COEF`` coefficients (the table stays small)."""
        return {
            "alphas": self.alphas.tolist(),
            "scores": self.scores.tolist(),
            "mean": self.mean.tolist(),
            "std_error": self.std_error.tolist(),
            "scoring": self.scoring,
            "greater_is_better": self.greater_is_better,
            "alpha_min": self.alpha_min,
            "alpha_one_se": self.alpha_one_se,
            "select": self.select,
            "alpha": self.alpha,
            "folds": self.folds.tolist(),
            "path_coef": self._path_coef(),
            "kind": self.kind,
            "shuffle": self.shuffle,
            "random_state": self.random_state,
        }


def _assign(
    task: str,
    codes: NDArray[np.intp] | None,
    n: int,
    k: int,
    groups: Any,
    shuffle: bool,
    seed: int | None,
) -> tuple[NDArray[np.intp], str]:
    if groups is not None:
        g = np.asarray(groups)
        if g.ndim != 1 or g.shape[0] != n:
            raise InvalidParameterError("groups", f"must be a list of {n} group labels")
        return group_folds(g, k, shuffle=shuffle, seed=seed), "group"
    if task == "classification" and codes is not None:
        return stratified_folds(codes, k, shuffle=shuffle, seed=seed), "stratified"
    if n < 2 * k:
        raise InvalidParameterError(
            "cv", f"{n} samples are too few for {k} folds (at least {2 * k})"
        )
    return kfold(n, k, shuffle=shuffle, seed=seed), "kfold"


@dataclass(frozen=True)
class FoldPlan:
    """The encoded data, the number of folds, each sample's fold and how they were made,
    and the scoring: everything a cross-validation checks before it fits."""

    data: Dataset
    k: int
    folds: NDArray[np.intp]
    kind: str
    scoring: str


def plan_folds(
    X: Any,
    y: Any,
    *,
    task: str,
    loss: str,
    cv: int = 5,
    scoring: str | None = None,
    groups: Any = None,
    shuffle: bool = True,
    random_state: int | None = 0,
    select: str = "min",
    sample_weight: Any = None,
    class_weight: ClassWeight = None,
) -> FoldPlan:
    """Validate a cross-validation's data and options and assign the folds, without fitting
    (a service checks a request with it before taking a fit slot)."""
    if select not in ("min", "one_se"):
        raise InvalidParameterError("select", "must be 'min' or 'one_se'")
    scoring_name = check_scoring(scoring, task, loss)
    data = encode_dataset(
        X,
        y,
        classification=task == "classification",
        sample_weight=sample_weight,
        class_weight=class_weight,
    )
    n = data.X.shape[0]
    k = check_folds(cv, n)
    codes = data.target.astype(np.intp) if data.classes is not None else None
    folds, kind = _assign(task, codes, n, k, groups, shuffle, random_state)
    _check_fold_parts(folds, k, data.sample_weight * data.class_factor, data.classes, codes)
    return FoldPlan(data, k, folds, kind, scoring_name)


def _check_fold_parts(
    folds: NDArray[np.intp], k: int, w: FloatArray, classes: Any, codes: Any
) -> None:
    """Every fold's training part sees every class and both parts carry weight: else its
    scores would be undefined (0/0) or its model would not know a class."""
    for j in range(k):
        test = folds == j
        for part, where in (("held-out", test), ("training", ~test)):
            if not w[where].sum() > 0:
                raise InvalidParameterError(
                    "sample_weight", f"fold {j}'s {part} part has zero total weight"
                )
        if codes is not None and np.unique(codes[~test]).size < len(classes):
            raise InvalidParameterError(
                "groups", f"fold {j}'s training part lacks a class: every fold must see every class"
            )


def _choose(mean: FloatArray, se: FloatArray, alphas: FloatArray, greater: bool) -> tuple[int, int]:
    """(index of the best mean, index of the largest α within one SE of it)."""
    signed = -mean if greater else mean
    if np.isnan(signed).all():
        raise InvalidParameterError("alphas", "no α has a score on every fold (time limit?)")
    best = int(np.nanargmin(signed))
    limit = signed[best] + (0.0 if np.isnan(se[best]) else se[best])
    # a relative margin of rounding on |limit|: the best α itself is always within
    within = np.flatnonzero(signed <= limit + 1e-12 * max(1.0, abs(limit)))
    return best, int(within.min())  # alphas decrease: the smallest index is the largest α


def cross_validate(
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
    cv: int = 5,
    scoring: str | None = None,
    groups: Any = None,
    shuffle: bool = True,
    random_state: int | None = 0,
    select: Select = "min",
    fit_intercept: bool = True,
    standardize: bool = False,
    sample_weight: Any = None,
    class_weight: ClassWeight = None,
    max_iter: int = 1000,
    tol: float = 1e-8,
    time_limit_s: float | None = None,
    callback: CVCallback | None = None,
    cancel: Callable[[], bool] | None = None,
) -> CrossValidation:
    """K-fold cross-validation of α (module docstring); the fit options are those of
    :func:`losscore.train.path`. Sample and class weights enter every fit and every score.
    ``cancel()`` true stops the run at the next iteration with :class:`FitCancelled`.

    Raises:
        InvalidParameterError: a bad grid, ``cv``, ``groups``, ``scoring`` or ``select``,
            or too few samples (or members of a class) per fold.
    """
    started = time.perf_counter()
    plan = plan_folds(
        X, y, task=task, loss=loss, cv=cv, scoring=scoring, groups=groups, shuffle=shuffle,
        random_state=random_state, select=select, sample_weight=sample_weight,
        class_weight=class_weight,
    )  # fmt: skip
    data, k, folds, kind, scoring_name = plan.data, plan.k, plan.folds, plan.kind, plan.scoring
    labels = None if data.classes is None else data.classes[data.target.astype(np.intp)]
    common: dict[str, Any] = {
        "task": task,
        "loss": loss,
        "loss_params": loss_params,
        "penalty": penalty,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "standardize": standardize,
        "class_weight": class_weight,
        "max_iter": max_iter,
        "tol": tol,
    }
    y_fit = data.target if labels is None else labels
    if alphas is not None:
        grid = check_alphas(alphas)
    else:
        grid, _ = default_grid(
            data.X,
            y_fit,
            n_alphas=n_alphas,
            alpha_min_ratio=alpha_min_ratio,
            sample_weight=data.sample_weight,
            **common,
        )
    fit_options = {**common, "alpha": float(grid[0]), "time_limit_s": time_limit_s}
    full_prepared = prepare_fit(data.X, y_fit, sample_weight=data.sample_weight, **fit_options)
    # many short passes and d × d solves: a BLAS thread each (as one fit of K + 1 passes)
    with single_threaded_blas(full_prepared.n * (k + 1), full_prepared.d * full_prepared.outputs):
        moments = FoldMoments.of(full_prepared)
        folds_run = _Folds(
            plan, y_fit, grid, full_prepared, fit_options, moments, started, callback, cancel
        )
        scores = np.vstack([folds_run.scores(j) for j in range(k)])
        full = _full_path(full_prepared, moments, grid, started, callback, cancel, k)
    mean = scores.mean(axis=0)
    se = scores.std(axis=0, ddof=1) / math.sqrt(k)
    greater = scoring_name in GREATER_IS_BETTER
    best, one_se = _choose(mean, se, grid, greater)
    index = best if select == "min" else one_se
    chosen = float(grid[index])
    if index < len(full.fits):  # the full-data path's point at the chosen α is the model
        model = with_training_metrics(full_prepared, full.fits[index])
    else:  # the time limit cut the path short: refit at the chosen α
        model = fit(
            data.X,
            y_fit,
            alpha=chosen,
            sample_weight=data.sample_weight,
            time_limit_s=_left(time_limit_s, started),
            **common,
        )
    return CrossValidation(
        alphas=grid,
        folds=folds,
        scores=scores,
        mean=mean,
        std_error=se,
        scoring=scoring_name,
        greater_is_better=greater,
        alpha_min=float(grid[best]),
        alpha_one_se=float(grid[one_se]),
        select=select,
        alpha=chosen,
        model=model,
        path=full,
        kind=kind,
        shuffle=shuffle,
        random_state=random_state,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


@dataclass(frozen=True)
class _Folds:
    """The folds of one cross-validation, scored one at a time."""

    plan: FoldPlan
    y_fit: Any  # the targets, or the labels
    grid: FloatArray
    full: PreparedFit  # the fit on all the rows, at grid[0]
    options: dict[str, Any]  # its options, as prepare_fit's arguments
    moments: FoldMoments | None
    started: float
    callback: CVCallback | None
    cancel: Callable[[], bool] | None

    def scores(self, j: int) -> FloatArray:
        """Fold *j*'s held-out score at every α (NaN where the time limit stopped it)."""
        data, k, grid, full = self.plan.data, self.plan.k, self.grid, self.full
        test = self.plan.folds == j
        codes = None if data.classes is None else data.target[test].astype(np.intp)
        w = data.sample_weight[test] * data.class_factor[test]
        held = _HeldOut(data.X[test], self.y_fit[test], codes, w)

        def report(i: int, alpha: float, value: float) -> None:
            if self.callback is not None:
                self.callback(CVStep(j, k, i, grid.size, alpha, value))

        scoring = self.plan.scoring
        scaling = None if self.moments is None else self.moments.training_part(test, held.X)
        if scaling is not None:  # the fold's quadratic from the moments: no pass, no session
            W, b = moment_path(full, scaling, grid, self.started, self.cancel)
            return _column_scores(W, b, grid, held, scoring, full, report)
        limit = full.opts.time_limit_s
        left = None if limit is None else max(limit - (time.perf_counter() - self.started), 1e-3)
        prepared = prepare_fit(
            data.X[~test],
            self.y_fit[~test],
            sample_weight=data.sample_weight[~test],
            **{**self.options, "time_limit_s": left},
        )
        return _fold_scores(FitSession(prepared), grid, held, scoring, self.cancel, report)


def _full_path(
    prepared: PreparedFit,
    moments: FoldMoments | None,
    grid: FloatArray,
    started: float,
    callback: CVCallback | None,
    cancel: Callable[[], bool] | None,
    k: int,
) -> RegularizationPath:
    """The path on all the rows over *grid* (its points are the candidate final models)."""

    def on_full(i: int, alpha: float, model: FitResult) -> None:
        if callback is not None:
            callback(CVStep(None, k, i, grid.size, alpha, None))

    session = FitSession(prepared, None if moments is None else moments.all_rows())
    return run_path(session, grid, started, callback=on_full, metrics=False, cancel=cancel)


@dataclass(frozen=True)
class _HeldOut:
    """A fold's held-out rows: features, labels or targets, class codes, weights s·c."""

    X: FloatArray
    y: Any
    codes: NDArray[np.intp] | None
    w: FloatArray


def _fold_scores(
    session: FitSession,
    grid: FloatArray,
    held: _HeldOut,
    scoring: str,
    cancel: Callable[[], bool] | None,
    report: Callable[[int, float, float], None],
) -> FloatArray:
    """One fold's held-out score at every α of *grid* (NaN where the time limit stopped its
    path). A single-output model's scores come from one product X·Wᵀ for all α (no fitted
    result objects); several outputs, or probabilities, are scored model by model."""
    started = time.perf_counter()
    if session.prepared.outputs == 1 and scoring not in NEEDS_PROBABILITIES:
        W, b = path_coefficients(session, grid, started, cancel)
        return _column_scores(W, b, grid, held, scoring, session.prepared, report)
    out = np.full(grid.size, np.nan)

    def scored(i: int, alpha: float, model: FitResult) -> None:
        out[i] = score(model, held.X, held.y, held.codes, held.w, scoring)
        report(i, alpha, float(out[i]))

    run_path(session, grid, started, callback=scored, metrics=False, cancel=cancel)
    return out


def _column_scores(
    W: FloatArray,
    b: FloatArray,
    grid: FloatArray,
    held: _HeldOut,
    scoring: str,
    prepared: PreparedFit,
    report: Callable[[int, float, float], None],
) -> FloatArray:
    """The held-out scores of single-output models W (A, 1, d), b (A, 1) at the first A values
    of *grid* (NaN after), from one product X·Wᵀ."""
    out = np.full(grid.size, np.nan)
    opts = prepared.opts
    F = held.X @ W[:, 0, :].T + b[:, 0]
    out[: W.shape[0]] = score_columns(
        F, held.y, held.codes, held.w, scoring,
        task=opts.task, loss=opts.loss.name, loss_params=dict(opts.loss_params),
    )  # fmt: skip
    for i in range(W.shape[0]):
        report(i, float(grid[i]), float(out[i]))
    return out


def _left(limit: float | None, started: float) -> float | None:
    """Seconds left of the whole run's time limit (at least a millisecond: a fit needs > 0)."""
    if limit is None:
        return None
    return max(limit - (time.perf_counter() - started), 1e-3)
