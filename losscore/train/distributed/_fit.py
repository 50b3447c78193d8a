"""``fit`` over Dask collections (private): the driver of a distributed fit.

The same objective, options, solvers and :class:`~losscore.train.FitResult` as the in-memory
fit; the data stay on the workers. Passes over the data, in order:

1. census: checks (finite features, weights, labels), row count, labels and their counts;
2. moments: weighted means and variances (standardisation and preconditioning);
3. the solver's passes (:mod:`._solve`): one per objective/gradient evaluation, one for Gram
   sums, per problem (one-vs-rest: one problem per class);
4. report: the objective of each problem and the training metrics at the solution.

``FitResult.passes`` counts them; ``provenance`` names the engine and the number of blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xxhash

from losscore._arrays import FloatArray
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.train._data import ClassWeight, class_table
from losscore.train._options import Options, resolve_options
from losscore.train._report import confusion_metrics, provenance
from losscore.train._result import FitResult
from losscore.train._scaling import Scaling
from losscore.train.distributed import _blocks
from losscore.train.distributed._problem import ChunkedProblem
from losscore.train.distributed._solve import solve
from losscore.train.distributed._source import Source
from losscore.train.solvers._monitor import FitCancelled, Monitor, ProgressCallback, SolverOutput
from losscore.train.solvers._table import Case, PenaltyForm

__all__ = ["fit_distributed"]


def fit_distributed(
    X: Any,
    y: Any,
    *,
    features: Sequence[str] | None = None,
    persist: bool | None = None,
    scheduler: Any = None,
    on_pass: Callable[[int], None] | None = None,
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
    cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """:func:`losscore.train.fit` for a Dask array X (with y and ``sample_weight`` as Dask or
    NumPy arrays) or a Dask DataFrame X (``y`` and ``sample_weight`` then name columns,
    ``features`` the feature columns, default every other). ``persist``: keep the blocks in
    the workers' memory between passes (default: when a ``distributed`` client is active or
    given). ``scheduler``: what runs the passes (a ``distributed.Client`` or a local scheduler
    name such as "threads"; None: Dask's default). ``on_pass(count)``: called after each pass
    (progress reports); ``cancel()`` true stops the fit at its next iteration."""
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
    monitor = Monitor(opts.time_limit_s, callback, cancel=cancel)
    source = Source.of(X, y, sample_weight, features, persist, scheduler, on_pass)
    classification = opts.task == "classification"
    if not classification and class_weight is not None:
        raise InvalidParameterError("class_weight", "applies to classification only")
    census = source.run(_blocks.census, _blocks.merge_census, classification)
    n, classes, counts = _check_census(census, classification, sample_weight is not None)
    weight_scale = 1.0
    if sample_weight is not None:
        weight_scale = float(np.ldexp(1.0, -int(np.frexp(census["s_max"])[1])))
    if classification:
        assert classes is not None
        factor = class_table(class_weight, classes, counts)
        base = _blocks.Target("codes", classes, factor, weight_scale=weight_scale)
    else:
        base = _blocks.Target("real", weight_scale=weight_scale)
    scaling, y_spread = _scaling(census["moments"], opts)
    problems, multiclass = _problems(source, base, opts, scaling, y_spread, n)
    case = _case(opts, n)
    outputs: list[tuple[SolverOutput, ChunkedProblem]] = []
    for prob in problems:
        if monitor.out_of_time() and outputs:
            break
        outputs.append((solve(prob, case, opts.tol, opts.max_iter, monitor), prob))
    if monitor.cancelled:
        raise FitCancelled()
    for prob in problems[len(outputs) :]:  # out of time: the rest stay at w = 0
        theta = np.zeros(prob.size)
        outputs.append(
            (SolverOutput(theta, 0, False, "time_limit", float("inf"), "unstarted"), prob)
        )
    return _result(source, opts, scaling, classes, multiclass, outputs, monitor, census)


def _check_census(
    census: dict[str, Any], classification: bool, weighted: bool
) -> tuple[int, np.ndarray[Any, Any] | None, np.ndarray[Any, Any]]:
    """n, the sorted classes and their counts; the first problem found as the error."""
    offset = 0
    for rows, problem in zip(census["n"], census["problem"], strict=True):
        if problem is not None:
            _blocks.raise_problem(problem, offset)
        offset += rows
    n = offset
    if n == 0:
        raise InvalidInputError("X", "has no rows (n = 0); at least one sample is needed")
    if weighted and not census["s_max"] > 0:
        raise InvalidInputError("sample_weight", "all weights are zero; Σ sᵢ must be positive")
    if not classification:
        return n, None, np.zeros(0)
    labels = sorted(census["labels"])
    if len(labels) < 2:
        raise InvalidInputError(
            "y", f"classification needs at least two classes, found only {labels!r}"
        )
    classes = np.asarray(labels)
    counts = np.array([census["labels"][lab][0] for lab in labels])
    if weighted:
        dead = [lab for lab in labels if not census["labels"][lab][1]]
        if dead:
            raise InvalidInputError(
                "sample_weight", f"every sample of class {dead[0]!r} has weight 0"
            )
    return n, classes, counts


HESSIAN_ROWS, HESSIAN_ROWS_PER_COEF = 1 << 18, 512


def _scaling(moments: tuple[Any, ...], opts: Options) -> tuple[Scaling, float]:
    """The map to solver coordinates from the census's moments, and the targets' weighted
    spread."""
    W, mean, M, first, _, My = moments
    var = M / W
    if not opts.fit_intercept:  # no centring: second moments about 0
        var = var + mean * mean
        mean = np.zeros_like(mean)
    if not (np.isfinite(var).all() and float(np.max(var, initial=0.0)) < 1e290):
        raise InvalidInputError(
            "X",
            "feature values too large in magnitude for a distributed fit (their squares leave "
            "the float64 range); rescale them",
        )
    scaling = Scaling.from_moments(
        mean,
        var,
        np.asarray(first, dtype=np.float64),
        center=opts.fit_intercept,
        standardize=opts.standardize,
        lam2=opts.alpha * (1 - opts.l1_ratio),
    )
    return scaling, float(np.sqrt(My / W)) if W > 0 else 0.0


def _problems(
    source: Source,
    base: _blocks.Target,
    opts: Options,
    scaling: Scaling,
    y_spread: float,
    n: int,
) -> tuple[list[ChunkedProblem], str | None]:
    # Newton Hessians from a sample of about HESSIAN_ROWS rows, HESSIAN_ROWS_PER_COEF at least
    stride = max(1, n // max(HESSIAN_ROWS, HESSIAN_ROWS_PER_COEF * (source.d + 1)))
    ratio = scaling.unit / scaling.scale
    lam1 = opts.alpha * opts.l1_ratio * ratio
    lam2 = opts.alpha * (1 - opts.l1_ratio) * np.square(ratio)

    def problem(target: _blocks.Target, k: int) -> ChunkedProblem:
        return ChunkedProblem(
            source=source,
            target=target,
            loss=opts.loss,
            params=opts.loss_params,
            k=k,
            d=source.d,
            fit_intercept=opts.fit_intercept,
            mean=scaling.mean,
            scale=scaling.scale,
            lam1=np.tile(lam1, k),
            lam2=np.tile(lam2, k),
            y_spread=y_spread,
            hessian_stride=stride,
        )

    if base.kind == "real":
        return [problem(base, 1)], None
    assert base.classes is not None
    k = len(base.classes)
    if opts.loss.spec.training.multinomial:
        return [problem(base, k)], "multinomial"
    if k == 2:
        return [problem(_pm1(base, 1), 1)], None
    return [problem(_pm1(base, c), 1) for c in range(k)], "ovr"


def _pm1(base: _blocks.Target, positive: int) -> _blocks.Target:
    return _blocks.Target("pm1", base.classes, base.class_factor, positive, base.weight_scale)


def _case(opts: Options, n: int) -> Case:
    form = PenaltyForm(l1=opts.alpha * opts.l1_ratio > 0, l2=opts.alpha * (1 - opts.l1_ratio) > 0)
    return Case.of(opts.loss, opts.loss_params, form, n)


def _result(
    source: Source,
    opts: Options,
    scaling: Scaling,
    classes: np.ndarray[Any, Any] | None,
    multiclass: str | None,
    outputs: list[tuple[SolverOutput, ChunkedProblem]],
    monitor: Monitor,
    census: dict[str, Any],
) -> FitResult:
    """Coefficients in the user's units; objectives and metrics from one report pass."""
    coefs, intercepts, raw_w, raw_b = [], [], [], []
    for out, prob in outputs:
        V, b = prob.split(out.theta)
        W = np.atleast_2d(V) / scaling.scale
        coefs.append(W)
        intercepts.append(np.atleast_1d(b) - W @ scaling.mean)
        w, b_raw = prob.raw(out.theta)
        raw_w.append(w)
        raw_b.append(b_raw)
    k = 0 if classes is None else len(classes)
    targets = [prob.target for _, prob in outputs]
    losses, weights, confusion, stats = source.run(
        _blocks.report, _blocks.merge_report, targets, opts.loss, opts.loss_params, raw_w, raw_b, k
    )
    objectives = [
        float(losses[i] / weights[i]) + prob.penalty(out.theta)
        for i, (out, prob) in enumerate(outputs)
    ]
    if len(coefs) == 1 and coefs[0].shape[0] == 1:
        coef: FloatArray = coefs[0][0]
        intercept: float | FloatArray = float(intercepts[0][0])
    else:
        coef, intercept = np.vstack(coefs), np.concatenate(intercepts)
    if not (
        np.isfinite(coef).all() and np.isfinite(intercept).all() and np.isfinite(objectives).all()
    ):
        raise InvalidInputError(
            "X", "the fit left the float64 range: the data are too large in magnitude; rescale them"
        )
    reasons = [o.stop_reason for o, _ in outputs]
    worst = next((r for r in ("time_limit", "max_iter", "no_progress") if r in reasons), reasons[0])
    metrics = _metrics(confusion, stats)
    prov = provenance(None, _digest(census))
    prov.update(
        random_state=None, engine="dask", blocks=len(source.blocks), persisted=source.persisted
    )
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
        classes=classes,
        multiclass=multiclass,
        objective=float(sum(objectives)),
        objectives=objectives,
        history=monitor.history,
        n_iter=sum(o.n_iter for o, _ in outputs),
        converged=all(o.converged for o, _ in outputs),
        stop_reason=worst,
        optimality=max(o.optimality for o, _ in outputs),
        solver=outputs[0][0].solver,
        metrics=metrics,
        elapsed_ms=monitor.elapsed() * 1e3,
        provenance=prov,
        feature_mean=scaling.mean if opts.standardize else None,
        feature_scale=scaling.sigma if opts.standardize else None,
        passes=source.passes,
    )


def _metrics(confusion: Any, stats: Any) -> dict[str, float]:
    if confusion is not None:
        return confusion_metrics(confusion)
    n, sse, sae, _, sst = stats
    r2 = 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else 0.0)
    return {"mse": float(sse / n), "mae": float(sae / n), "r2": float(r2)}


def _digest(census: dict[str, Any]) -> str:
    """A fingerprint of the data's shape and labels (the rows are not hashed: that would be a
    pass of its own); it identifies the dataset's layout, not its values."""
    h = xxhash.xxh3_128()
    h.update(repr((census["n"], census["d"], sorted(census["labels"].items()))).encode())
    return "xxh3_128-layout:" + h.hexdigest()
