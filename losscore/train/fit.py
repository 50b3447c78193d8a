"""``fit``: train a linear model by minimising the exact objective

    F(w, b) = (1/Σᵢsᵢ) Σᵢ sᵢ·cᵢ·ℓ(yᵢ, xᵢ·w + b) + alpha·R(w),
    R(w) = ½‖w‖² (l2) | ‖w‖₁ (l1) | l1_ratio‖w‖₁ + (1 − l1_ratio)/2·‖w‖² (elastic_net) | 0 (none),

with ℓ exactly as :func:`losscore.evaluate` defines it. The solver comes from the table in
:mod:`losscore.train.solvers._table`, keyed by the loss's capabilities (its
:class:`~losscore.spec.TrainingSpec` and :meth:`~losscore.Loss.piecewise_linear`), the
penalty and the row count. Several classes: jointly for multinomial losses (scores of shape
(n, k)), one-vs-rest otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, all_finite
from losscore._parallel import map_chunks, thread_count
from losscore.errors import InvalidInputError
from losscore.train._blas import single_threaded_blas
from losscore.train._data import ClassWeight, Dataset, encode_dataset
from losscore.train._options import Options, resolve_options
from losscore.train._problem import Problem
from losscore.train._report import classification_metrics, data_hash, provenance, regression_metrics
from losscore.train._result import FitResult
from losscore.train.solvers._monitor import Monitor, ProgressCallback, SolverOutput
from losscore.train.solvers._table import Case, PenaltyForm, SolverRule, choose_solver

__all__ = ["fit"]


MOMENT_BLOCK_ELEMENTS = 1 << 17  # rows x features per block of the moments pass (1 MB)
PARALLEL_MOMENTS_MIN = 1 << 20  # n·d from which the moments pass runs on the thread pool


@dataclass(frozen=True)
class _Moments:
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
    ) -> _Moments:
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
    ) -> _Moments:
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
    ) -> _Moments | None:
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
class _Scaling:
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
    ) -> _Scaling:
        p = s / s.sum()
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            mom, c = _Moments.of(X, p, center=center, gram=gram, y=y), None  # checked below
        extreme = _extreme_columns(mom)
        if extreme.any():
            # squares of these columns leave the float range: the same moments of X scaled by
            # a power of two per column (exact), read back without ever forming σ²
            c = _column_prescale(X, extreme)
            mom = _Moments.of(X * c, p, center=center, gram=gram, y=y)
        mean = mom.mean if c is None else mom.mean / c
        sigma = np.sqrt(np.maximum(mom.var, 0.0))
        if c is not None:
            sigma /= c
        constant = sigma <= 1e-12 * np.abs(mean)  # σ = 0, or rounding noise of a constant
        any_constant = bool(constant.any())
        if any_constant:
            if center:
                mean[constant] = X[0, constant]  # exact: a constant column centres to exact zeros
            sigma[constant] = 1.0
        live = np.where(constant, 0.0, sigma) if any_constant else sigma
        unit = sigma if standardize else np.ones(X.shape[1])
        scale = np.hypot(live, np.sqrt(lam2) * unit)  # √(σ² + λ2·unit²), σ² never formed
        if not scale.all():
            scale[scale == 0] = 1.0
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


def _extreme_columns(mom: _Moments) -> NDArray[np.bool_]:
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


def _check_finite_model(
    coef: FloatArray, intercept: Any, objectives: list[float], data: Dataset
) -> None:
    """No fit returns a non-finite model: a coefficient, intercept or objective outside the
    float range is an error naming the data, never a stored model that cannot predict.
    Regression targets whose squares overflow are named as the cause, else the features."""
    if all_finite(coef) and all_finite(np.asarray(intercept)) and all_finite(np.array(objectives)):
        return
    huge_y = data.classes is None and float(np.abs(data.target).max()) > 1e150
    what = "targets" if huge_y else "features"
    raise InvalidInputError(
        "y" if huge_y else "X",
        f"the fit left the float64 range (a coefficient, the intercept or the objective is "
        f"not finite): the {what} are too large in magnitude for this loss; rescale them "
        "(e.g. divide by a power of ten)",
    )


def _solver(opts: Options, n: int) -> tuple[Case, SolverRule]:
    """The case of this fit and the solver table's row for it."""
    form = PenaltyForm(l1=opts.alpha * opts.l1_ratio > 0, l2=opts.alpha * (1 - opts.l1_ratio) > 0)
    case = Case.of(opts.loss, opts.loss_params, form, n)
    rule = choose_solver(case)
    assert rule is not None  # resolve_options: the loss is differentiable or piecewise linear
    return case, rule


def _solve(
    problem: Problem, case: Case, rule: SolverRule, opts: Options, monitor: Monitor
) -> SolverOutput:
    """Run the chosen solver; ``tol`` is scaled by max(1, F(0, 0)).

    The table's row was chosen from the requested penalty; when a penalty part vanishes in
    solver coordinates (α/scale² underflows for features of magnitude ~1e150 and beyond) the
    row for the penalty the solver actually sees is used instead.
    """
    form = PenaltyForm(l1=bool(problem.lam1.any()), l2=bool(problem.lam2.any()))
    if form != case.penalty:
        case = case._replace(penalty=form)
        chosen = choose_solver(case)
        assert chosen is not None  # the capabilities did not change
        rule = chosen
    tol = opts.tol * max(1.0, problem.objective_at_zero())
    return rule.solve(problem, case, tol, opts.max_iter, monitor)


def _wants_gram(rule: SolverRule, data: Dataset) -> bool:
    """Whether the scaling pass should form the centred Gram matrix: the solver reads it, and
    it assumes unit class factors (a precomputed Gram is unweighted by class; regression has
    no class factors)."""
    if not rule.uses_gram:
        return False
    return data.classes is None or bool(np.all(data.class_factor == 1.0))


def _problem(opts: Options, target: Any, data: Dataset, scaling: _Scaling, k: int) -> Problem:
    ratio = scaling.unit / scaling.scale  # p = v · ratio
    lam1 = opts.alpha * opts.l1_ratio * ratio
    lam2 = opts.alpha * (1 - opts.l1_ratio) * np.square(ratio)
    return Problem(
        X=data.X,
        mean=scaling.mean,
        scale=scaling.scale,
        target=target,
        sample_weight=data.sample_weight,
        class_factor=data.class_factor,
        loss=opts.loss,
        params=opts.loss_params,
        k=k,
        fit_intercept=opts.fit_intercept,
        lam1=lam1 if k == 1 else np.tile(lam1, k),  # fresh arrays either way
        lam2=lam2 if k == 1 else np.tile(lam2, k),
        gram=scaling.gram if k == 1 else None,
        gram_target=scaling.cross if k == 1 and opts.task == "regression" else None,
        constant_hessian=opts.loss.spec.training.constant_hessian,
    )


def fit(
    X: Any,
    y: Any,
    *,
    task: str,
    loss: str,
    loss_params: Mapping[str, Any] | None = None,
    penalty: str = "l2",
    alpha: float = 1e-4,
    l1_ratio: float = 0.5,
    fit_intercept: bool = True,
    standardize: bool = False,
    sample_weight: Any = None,
    class_weight: ClassWeight = None,
    max_iter: int = 1000,
    tol: float = 1e-8,
    time_limit_s: float | None = None,
    random_state: int | None = 0,
    callback: ProgressCallback | None = None,
) -> FitResult:
    """Fit a linear model; see the module docstring and docs/TRAINING.md for F and the solvers.

    Args:
        X: features (n, d), finite real numbers.
        y: targets (regression: reals) or labels of any values (classification).
        task: "classification" or "regression".
        loss: a loss name (or alias) from the registry; ``loss_params`` its parameters.
        penalty: "none", "l2", "l1" or "elastic_net"; ``alpha`` ≥ 0 its strength,
            ``l1_ratio`` ∈ [0, 1] the elastic-net mix (ignored otherwise).
        fit_intercept: fit an unpenalised intercept b.
        standardize: fit on standardised features (weighted mean 0, standard deviation 1;
            constant columns are only centred); the penalty then applies to the standardised
            coefficients, and the result reports coefficients in the original units.
        sample_weight: sᵢ ≥ 0; class_weight: a mapping label → cᵢ or "balanced" (n / (k·countᵢ)).
        max_iter, tol, time_limit_s: stopping rules; tol applies to the optimality measure.
        random_state: recorded in the provenance (every solver here is deterministic).
        callback: called as callback(iteration, objective, optimality, elapsed_s) per iteration.

    Raises:
        LosscoreError: invalid data or options (field, reason and index name the problem).
    """
    started = time.perf_counter()
    opts = resolve_options(
        task=task,
        loss=loss,
        loss_params=loss_params,
        penalty=penalty,
        alpha=alpha,
        l1_ratio=l1_ratio,
        fit_intercept=fit_intercept,
        standardize=standardize,
        max_iter=max_iter,
        tol=tol,
        time_limit_s=time_limit_s,
    )
    classification = opts.task == "classification"
    data = encode_dataset(
        X, y, classification=classification, sample_weight=sample_weight, class_weight=class_weight
    )
    digest = data_hash(data.X, y, sample_weight)  # xxh3: ~1 ms for 40 MB, inline
    classes = data.classes
    k = 0 if classes is None else len(classes)
    multinomial = opts.loss.spec.training.multinomial
    width = data.X.shape[1] * (k if multinomial else 1)
    case, rule = _solver(opts, data.X.shape[0])
    # extreme data may overflow intermediate values; a non-finite model is refused at the end
    # (_check_finite_model), so overflow and NaN along the way are not warnings
    with single_threaded_blas(data.X.shape[0], width), np.errstate(over="ignore", invalid="ignore"):
        scaling = _Scaling.of(
            data.X,
            data.sample_weight,
            center=opts.fit_intercept,
            standardize=opts.standardize,
            lam2=opts.alpha * (1 - opts.l1_ratio),
            gram=_wants_gram(rule, data),
            y=data.target if opts.task == "regression" else None,
        )
        monitor = Monitor(opts.time_limit_s, callback)
        outputs: list[tuple[SolverOutput, Problem]] = []
        multiclass: str | None = None
        if not classification or (k == 2 and not multinomial):
            target = data.target if not classification else np.where(data.target == 1, 1.0, -1.0)
            prob = _problem(opts, target, data, scaling, 1)
            outputs.append((_solve(prob, case, rule, opts, monitor), prob))
        elif multinomial:
            multiclass = "multinomial"
            prob = _problem(opts, data.target, data, scaling, k)
            outputs.append((_solve(prob, case, rule, opts, monitor), prob))
        else:
            multiclass = "ovr"
            for c in range(k):
                prob = _problem(opts, np.where(data.target == c, 1.0, -1.0), data, scaling, 1)
                outputs.append((_solve(prob, case, rule, opts, monitor), prob))

        # map solver coordinates back to the original feature units
        coefs, intercepts, objectives, score_cols = [], [], [], []
        for out, prob in outputs:
            V, b = prob.split(out.theta)
            W = np.atleast_2d(V) / scaling.scale
            coefs.append(W)
            intercepts.append(np.atleast_1d(b) - W @ scaling.mean)
            F, f = prob.objective_and_scores(out.theta)  # one pass: F and the training scores
            objectives.append(F)
            score_cols.append(f)
        if len(coefs) == 1 and coefs[0].shape[0] == 1:  # one output: (d,) and a float
            coef: FloatArray = coefs[0][0]
            intercept: float | FloatArray = float(intercepts[0][0])
        else:
            coef, intercept = np.vstack(coefs), np.concatenate(intercepts)
        _check_finite_model(coef, intercept, objectives, data)
        converged = all(o.converged for o, _ in outputs)
        reasons = [o.stop_reason for o, _ in outputs]
        worst = next(
            (r for r in ("time_limit", "max_iter", "no_progress") if r in reasons), reasons[0]
        )
        scores = score_cols[0] if len(score_cols) == 1 else np.column_stack(score_cols)
        if classification:
            pred = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
            metrics = classification_metrics(data.target, pred, k)
        else:
            metrics = regression_metrics(data.target, scores)
    result = FitResult(
        task=opts.task,
        loss=opts.loss.name,
        loss_params=opts.loss_params,
        penalty=opts.penalty,
        alpha=opts.alpha,
        l1_ratio=opts.l1_ratio,
        fit_intercept=opts.fit_intercept,
        standardize=opts.standardize,
        coef=coef,
        intercept=intercept,
        classes=classes,
        multiclass=multiclass,
        objective=float(sum(objectives)),
        objectives=[float(o) for o in objectives],
        history=monitor.history,
        n_iter=sum(o.n_iter for o, _ in outputs),
        converged=converged,
        stop_reason=worst,
        optimality=max(o.optimality for o, _ in outputs),
        solver=outputs[0][0].solver,
        metrics={},
        elapsed_ms=0.0,
        provenance=provenance(random_state, digest),
        feature_mean=scaling.mean if opts.standardize else None,
        feature_scale=scaling.sigma if opts.standardize else None,
    )
    result.metrics.update(metrics)
    object.__setattr__(result, "elapsed_ms", (time.perf_counter() - started) * 1e3)
    return result
