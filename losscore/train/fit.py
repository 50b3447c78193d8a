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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from losscore._arrays import FloatArray, all_finite
from losscore.errors import InvalidInputError
from losscore.train._blas import single_threaded_blas
from losscore.train._data import ClassWeight, Dataset, encode_dataset
from losscore.train._options import Options, resolve_options
from losscore.train._problem import Problem
from losscore.train._report import classification_metrics, data_hash, provenance, regression_metrics
from losscore.train._result import FitResult
from losscore.train._scaling import Scaling
from losscore.train.distributed._source import is_dask
from losscore.train.predict import decision_function
from losscore.train.solvers._exact import GramQuadratic
from losscore.train.solvers._monitor import FitCancelled, Monitor, ProgressCallback, SolverOutput
from losscore.train.solvers._table import Case, PenaltyForm, SolverRule, choose_solver

__all__ = ["PreparedFit", "fit", "prepare_fit"]


def _training_metrics(prepared: PreparedFit, score_cols: list[FloatArray]) -> dict[str, float]:
    data = prepared.data
    scores = score_cols[0] if len(score_cols) == 1 else np.column_stack(score_cols)
    if data.classes is not None:
        pred = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return classification_metrics(data.target, pred, prepared.n_classes)
    return regression_metrics(data.target, scores)


def with_training_metrics(prepared: PreparedFit, result: FitResult) -> FitResult:
    """*result* (fitted on *prepared*'s data without metrics: a point of a path) with its
    training metrics, from one pass over the rows."""
    return replace(
        result, metrics=_training_metrics(prepared, [decision_function(result, prepared.data.X)])
    )


def check_finite_model(
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
    """Run the chosen solver with ``tol`` relative to where it starts (see below).

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
    # tol is relative: to F(0, 0) for a gap bound, to the gradient at 0 for a gradient measure
    # (scaling a gradient tolerance by F(0, 0) ~ y² or |y| let fits with targets ~1e9 stop
    # at w = 0 as "converged")
    if rule.measure == "gap":
        start = problem.objective_at_zero()
    else:
        start = problem.gradient_norm_at_zero()
    tol = opts.tol * max(1.0, start)
    return rule.solve(problem, case, tol, opts.max_iter, monitor)


def _wants_gram(rule: SolverRule, data: Dataset) -> bool:
    """Whether the scaling pass should form the centred Gram matrix: the solver reads it, and
    it assumes unit class factors (a precomputed Gram is unweighted by class; regression has
    no class factors)."""
    if not rule.uses_gram:
        return False
    return data.classes is None or bool(np.all(data.class_factor == 1.0))


def penalty_strengths(
    alpha: Any, l1_ratio: float, unit: FloatArray, scale: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(λ1, λ2) per coefficient in solver coordinates: the penalty α·(l1_ratio·‖p‖₁ +
    (1 − l1_ratio)/2·‖p‖²) of the user-penalised p = v·unit/scale. ``alpha`` a number, or a
    column (A, 1) against scales (A, d) for A values at once."""
    ratio = unit / scale
    return alpha * l1_ratio * ratio, alpha * (1 - l1_ratio) * np.square(ratio)


def _problem(opts: Options, target: Any, data: Dataset, scaling: Scaling, k: int) -> Problem:
    lam1, lam2 = penalty_strengths(opts.alpha, opts.l1_ratio, scaling.unit, scaling.scale)
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
        target_moments=scaling.target if k == 1 and opts.task == "regression" else None,
        constant_hessian=opts.loss.spec.training.constant_hessian,
    )


@dataclass(frozen=True)
class PreparedFit:
    """A fit whose options and data are validated (:func:`prepare_fit`), ready to
    :meth:`run`. ``work`` = n·d·outputs is the size of one pass over the data (outputs: the
    k classes for several classes, multinomial or one-vs-rest; else 1): what a caller's
    limit on the size of a fit should bound."""

    opts: Options
    data: Dataset
    digest: str
    random_state: int | None
    prepare_ms: float = 0.0  # the validation's share of elapsed_ms

    @property
    def n(self) -> int:
        return int(self.data.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.data.X.shape[1])

    @property
    def n_classes(self) -> int:
        return 0 if self.data.classes is None else len(self.data.classes)

    @property
    def outputs(self) -> int:
        k = self.n_classes
        return k if k > 2 or (k == 2 and self.opts.loss.spec.training.multinomial) else 1

    @property
    def work(self) -> int:
        return self.n * self.d * self.outputs

    def run(
        self,
        callback: ProgressCallback | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> FitResult:
        """Solve. The time limit counts from here and covers the set-up (statistics, each
        problem); ``cancel()`` true stops the fit at its next iteration with
        :class:`FitCancelled`.
        """
        return _run(self, Monitor(self.opts.time_limit_s, callback, cancel=cancel))


def prepare_fit(
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
) -> PreparedFit:
    """Validate the options and data of :func:`fit` (same arguments, no callback) without
    solving: a caller can check limits (``work``) before committing resources."""
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
    data = encode_dataset(
        X,
        y,
        classification=opts.task == "classification",
        sample_weight=sample_weight,
        class_weight=class_weight,
    )
    digest = data_hash(data.X, y, sample_weight)  # xxh3: ~1 ms for 40 MB, inline
    return PreparedFit(opts, data, digest, random_state, (time.perf_counter() - started) * 1e3)


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
    features: Sequence[str] | None = None,
) -> FitResult:
    """Fit a linear model; see the module docstring and docs/TRAINING.md for F and the solvers.

    X may also be a Dask array or DataFrame: the fit then runs on the active Dask scheduler
    (a ``distributed`` cluster, or the local one), the data never leaving the workers
    (:mod:`losscore.train.distributed`; with a DataFrame, ``y`` and ``sample_weight`` name
    columns and ``features`` lists the feature columns).

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
    if is_dask(X):
        from losscore.train.distributed import fit_distributed

        return fit_distributed(
            X,
            y,
            features=features,
            task=task,
            loss=loss,
            loss_params=loss_params,
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            standardize=standardize,
            sample_weight=sample_weight,
            class_weight=class_weight,
            max_iter=max_iter,
            tol=tol,
            time_limit_s=time_limit_s,
            random_state=random_state,
            callback=callback,
        )
    if features is not None:
        raise InvalidInputError("features", "applies to a Dask DataFrame X only")
    return prepare_fit(
        X,
        y,
        task=task,
        loss=loss,
        loss_params=loss_params,
        penalty=penalty,
        alpha=alpha,
        l1_ratio=l1_ratio,
        fit_intercept=fit_intercept,
        standardize=standardize,
        sample_weight=sample_weight,
        class_weight=class_weight,
        max_iter=max_iter,
        tol=tol,
        time_limit_s=time_limit_s,
        random_state=random_state,
    ).run(callback)


def _problems(prepared: PreparedFit, scaling: Scaling) -> tuple[str | None, Iterator[Problem]]:
    """The multiclass strategy and the problems to solve, built one at a time."""
    opts, data = prepared.opts, prepared.data
    k = prepared.n_classes
    if opts.task != "classification" or (k == 2 and not opts.loss.spec.training.multinomial):
        target = data.target if k == 0 else np.where(data.target == 1, 1.0, -1.0)
        return None, iter([_problem(opts, target, data, scaling, 1)])
    if opts.loss.spec.training.multinomial:
        return "multinomial", iter([_problem(opts, data.target, data, scaling, k)])
    ovr = (
        _problem(opts, np.where(data.target == c, 1.0, -1.0), data, scaling, 1) for c in range(k)
    )
    return "ovr", ovr


def _run(prepared: PreparedFit, monitor: Monitor) -> FitResult:
    session = FitSession(prepared)
    return session.solve(prepared.opts.alpha, monitor)[0]


class FitSession:
    """One fit's set-up (the solver table's choice, the scaling pass with its Gram matrix),
    solved at one or more α of the same penalty (a regularisation path: each α reuses the
    moments, and L-BFGS and coordinate descent start from the previous α's solution; the
    smoothing continuation keeps its own ridge start, which its first stage needs)."""

    def __init__(self, prepared: PreparedFit, scaling: Scaling | None = None) -> None:
        """``scaling``: the scaling pass's result computed elsewhere (from moments: the
        training part of a cross-validation fold, :meth:`moments_pass`), else it runs here."""
        opts, data = prepared.opts, prepared.data
        self.prepared = prepared
        self._at: dict[float, tuple[PreparedFit, Scaling]] = {}
        self.case, self.rule = _solver(opts, prepared.n)
        if scaling is not None:
            self.scaling = scaling
            return
        with (
            single_threaded_blas(prepared.n, prepared.d * prepared.outputs),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            self.scaling = Scaling.of(
                data.X,
                data.sample_weight,
                center=opts.fit_intercept,
                standardize=opts.standardize,
                lam2=opts.alpha * (1 - opts.l1_ratio),
                gram=_wants_gram(self.rule, data),
                y=data.target if opts.task == "regression" else None,
            )

    @staticmethod
    def moments_pass(prepared: PreparedFit) -> tuple[bool, FloatArray | None] | None:
        """What the scaling pass of *prepared* computes besides column moments: (the Gram
        matrix?, the target of the cross moment), or None when it is column moments only."""
        _, rule = _solver(prepared.opts, prepared.n)
        if not _wants_gram(rule, prepared.data):
            return None
        data = prepared.data
        return True, data.target if prepared.opts.task == "regression" else None

    def at(self, alpha: float) -> tuple[PreparedFit, Scaling]:
        """The prepared fit and scaling for penalty strength *alpha* (the last few kept: a
        path asks for each α up to three times)."""
        base = self.prepared
        if alpha == base.opts.alpha:
            return base, self.scaling
        cached = self._at.get(alpha)
        if cached is None:
            opts = replace(base.opts, alpha=alpha)
            scaling = self.scaling.with_lam2(alpha * (1 - opts.l1_ratio))
            cached = self._at[alpha] = (replace(base, opts=opts), scaling)
            while len(self._at) > 3:
                del self._at[next(iter(self._at))]
        return cached

    def solve(
        self,
        alpha: float,
        monitor: Monitor,
        starts: Sequence[FloatArray] | None = None,
        metrics: bool = True,
    ) -> tuple[FitResult, list[FloatArray]]:
        """The fit at *alpha* and its solver-coordinate solutions (one per problem), from
        *starts* (solver coordinates of the same problems) where the solver can use them.
        Solver coordinates depend on α through the scaling: starts are mapped by the caller
        (:meth:`carry`)."""
        prepared, scaling = self.at(alpha)
        with self._numerics():
            multiclass, outputs = self._outputs(alpha, monitor, starts)
            result = _result(prepared, scaling, multiclass, outputs, monitor, metrics)
        return result, [o.theta for o, _ in outputs]

    def coefficients(
        self,
        alpha: float,
        monitor: Monitor,
        starts: Sequence[FloatArray] | None = None,
    ) -> tuple[FloatArray, FloatArray, list[FloatArray]]:
        """:meth:`solve` without a :class:`FitResult` (no objective, metrics or certificate
        kept: a cross-validation fold's scores need only the model): the coefficients
        (outputs, d) and intercepts (outputs,) in the user's units, and the solutions.

        Raises:
            InvalidInputError: the model left the float range (as :func:`fit`).
        """
        _, scaling = self.at(alpha)
        with self._numerics():
            _, outputs = self._outputs(alpha, monitor, starts)
            pairs = [_user_units(prob, out.theta, scaling) for out, prob in outputs]
        W = np.vstack([w for w, _ in pairs])
        b = np.concatenate([b for _, b in pairs])
        check_finite_model(W, b, [], self.prepared.data)
        return W, b, [o.theta for o, _ in outputs]

    def _numerics(self) -> ExitStack:
        stack = ExitStack()
        stack.enter_context(
            single_threaded_blas(self.prepared.n, self.prepared.d * self.prepared.outputs)
        )
        stack.enter_context(np.errstate(over="ignore", invalid="ignore"))
        return stack

    def _outputs(
        self, alpha: float, monitor: Monitor, starts: Sequence[FloatArray] | None
    ) -> tuple[str | None, list[tuple[SolverOutput, Problem]]]:
        """The multiclass strategy and every problem's solver output at *alpha*."""
        prepared, scaling = self.at(alpha)
        multiclass, problems = _problems(prepared, scaling)
        outputs: list[tuple[SolverOutput, Problem]] = []
        for i, prob in enumerate(problems):
            if monitor.out_of_time() and outputs:
                break  # one-vs-rest: the remaining classes are not started
            if starts is not None and i < len(starts):
                prob.warm_start = starts[i]
            outputs.append((_solve(prob, self.case, self.rule, prepared.opts, monitor), prob))
        if monitor.cancelled:
            raise FitCancelled()
        if len(outputs) < max(1, prepared.outputs if multiclass == "ovr" else 1):
            # out of time before every class had a problem: the rest stay at w = 0
            outputs += _unstarted(prepared, scaling, len(outputs))
        return multiclass, outputs

    def carry(
        self, thetas: Sequence[FloatArray], alpha: float, to_alpha: float
    ) -> list[FloatArray]:
        """Solutions at *alpha* in the solver coordinates of *to_alpha*: the same model. With
        z = (x − mean)/scale and f = z·v + b, the raw w = v/scale is kept, so v′ = v·scale′/scale
        (for each of the k coefficient blocks); the intercepts b do not change."""
        ratio = self.at(to_alpha)[1].scale / self.at(alpha)[1].scale
        d, intercept = self.prepared.d, self.prepared.opts.fit_intercept
        out = []
        for theta in thetas:
            k = theta.size // (d + 1) if intercept else theta.size // d
            moved = theta.copy()
            moved[: k * d] *= np.tile(ratio, k)
            out.append(moved)
        return out


def _unstarted(
    prepared: PreparedFit, scaling: Scaling, done: int
) -> list[tuple[SolverOutput, Problem]]:
    """One-vs-rest classes the time limit left unstarted: w = 0, b = 0, not converged."""
    out = []
    for c in range(done, prepared.n_classes):
        target = np.where(prepared.data.target == c, 1.0, -1.0)
        prob = _problem(prepared.opts, target, prepared.data, scaling, 1)
        theta = np.zeros(prob.size)
        out.append((SolverOutput(theta, 0, False, "time_limit", float("inf"), "unstarted"), prob))
    return out


def _user_units(
    prob: Problem, theta: FloatArray, scaling: Scaling
) -> tuple[FloatArray, FloatArray]:
    """A problem's solution as coefficients (k, d) and intercepts (k,) in the user's units:
    w = v / scale, b_raw = b − w·mean."""
    V, b = prob.split(theta)
    W = np.atleast_2d(V) / scaling.scale
    return W, np.atleast_1d(b) - W @ scaling.mean


def _result(
    prepared: PreparedFit,
    scaling: Scaling,
    multiclass: str | None,
    outputs: list[tuple[SolverOutput, Problem]],
    monitor: Monitor,
    metrics: bool = True,
) -> FitResult:
    """Coefficients in the user's units, objective, metrics and provenance. Without
    ``metrics`` (the folds of a cross-validation) the training metrics are left out, and a
    Gram-based fit's objective comes from its moments: no pass over X."""
    opts, data = prepared.opts, prepared.data
    coefs, intercepts, objectives, score_cols = [], [], [], []
    for out, prob in outputs:
        W, b = _user_units(prob, out.theta, scaling)
        coefs.append(W)
        intercepts.append(b)
        if not metrics and prob.gram is not None and prob.constant_hessian is not None:
            value, _ = GramQuadratic(prob).value_grad(out.theta)
            objectives.append(value + float(prob.lam1 @ np.abs(out.theta[: prob.n_coef])))
            continue
        F, f = prob.objective_and_scores(out.theta)  # one pass: F and the training scores
        objectives.append(F)
        score_cols.append(f)
    if len(coefs) == 1 and coefs[0].shape[0] == 1:  # one output: (d,) and a float
        coef: FloatArray = coefs[0][0]
        intercept: float | FloatArray = float(intercepts[0][0])
    else:
        coef, intercept = np.vstack(coefs), np.concatenate(intercepts)
    check_finite_model(coef, intercept, objectives, data)
    reasons = [o.stop_reason for o, _ in outputs]
    worst = next((r for r in ("time_limit", "max_iter", "no_progress") if r in reasons), reasons[0])
    return FitResult(
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
        classes=data.classes,
        multiclass=multiclass,
        objective=float(sum(objectives)),
        objectives=[float(o) for o in objectives],
        history=monitor.history,
        n_iter=sum(o.n_iter for o, _ in outputs),
        converged=all(o.converged for o, _ in outputs),
        stop_reason=worst,
        optimality=max(o.optimality for o, _ in outputs),
        solver=outputs[0][0].solver,
        metrics=_training_metrics(prepared, score_cols) if metrics else {},
        elapsed_ms=prepared.prepare_ms + monitor.elapsed() * 1e3,
        provenance=provenance(prepared.random_state, prepared.digest),
        feature_mean=scaling.mean if opts.standardize else None,
        feature_scale=scaling.sigma if opts.standardize else None,
    )
