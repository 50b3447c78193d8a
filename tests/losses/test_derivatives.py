"""Gradients and Hessian diagonals of every registered loss against finite differences.

The oracle is a fourth-order central difference of the *reduced value* (for the
gradient) and of the gradient (for the Hessian diagonal), one coordinate at a time:

    f'(x) ≈ (g(x - 2h) - 8 g(x - h) + 8 g(x + h) - g(x + 2h)) / (12 h)

Points are kept at least ``KINK_GAP`` away from every non-differentiable point of
the loss (derived from the loss's parameters in :func:`kinks`), so the one-sided
subgradient conventions at kinks never enter. A loss added to the registry is
picked up automatically; if it has kinks that :func:`kinks` does not know, these
tests fail on it, which is the cue to add them here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import losscore
from losscore.evaluate import Reduction
from losscore.spec import ParamSpec

NAMES = losscore.loss_names()
REDUCTIONS = ("mean", "sum", "none")
KINK_GAP = 1e-2
STEP = 1e-4
MAX_EXAMPLES = 8

FDSettings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# -- the non-differentiable points of each loss, in its natural variable -----------------------


def kinks(name: str, params: Mapping[str, float]) -> tuple[float, ...]:
    """Kinks of the loss (or of its gradient) in r = f - y, z = y·f, or the hinge margin.

    For ``multiclass_hinge`` the variable is m + max_{j≠y} f_j - f_y (see
    :func:`multiclass_hinge_gaps`); ``softmax_cross_entropy``, ``l2``, ``log_cosh``,
    ``exponential``, ``log_loss`` and ``binary_cross_entropy`` (on p in (0, 1), away
    from the clamp) are smooth.
    """
    p = params
    table: dict[str, tuple[float, ...]] = {
        "l1": (0.0,),
        "smooth_l1": (0.0, p.get("beta", 0.0), -p.get("beta", 0.0)),
        "huber": (p.get("delta", 1.0), -p.get("delta", 1.0)),
        "quantile": (0.0,),
        "epsilon_insensitive": (0.0, p.get("epsilon", 0.0), -p.get("epsilon", 0.0)),
        "squared_epsilon_insensitive": (0.0, p.get("epsilon", 0.0), -p.get("epsilon", 0.0)),
        "hinge": (p.get("threshold", 1.0),),
        "squared_hinge": (p.get("threshold", 1.0),),
        "modified_huber": (1.0, -1.0),
        "perceptron": (0.0,),
        "multiclass_hinge": (0.0,),
    }
    return table.get(name, ())


def multiclass_hinge_gaps(f: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    """Per row: the hinge argument and the gap between the two best wrong-class scores."""
    rows = np.arange(f.shape[0])
    others = f.copy()
    others[rows, y] = -np.inf
    top2 = np.sort(others, axis=1)[:, -2:]
    arg = margin + top2[:, 1] - f[rows, y]
    if f.shape[1] > 2:
        return np.minimum(np.abs(arg), top2[:, 1] - top2[:, 0])
    return np.abs(arg)


# -- input generation ------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    params: dict[str, float]
    prediction: np.ndarray
    target: np.ndarray
    weight: np.ndarray | None
    reduction: Reduction


def _is_probability_loss(spec: losscore.LossSpec) -> bool:
    return spec.prediction_domain.startswith("probabilit")


def _accepts_probability_targets(spec: losscore.LossSpec) -> bool:
    return spec.kind == "multiclass" and "probabilit" in spec.target_domain


def _param_strategy(p: ParamSpec) -> st.SearchStrategy[float]:
    iv = p.interval
    low = -3.0 if iv.low is None else iv.low
    high = low + 3.0 if iv.high is None else iv.high
    # keep clear of open ends (q -> 0 or 1, delta -> 0 make finite differences meaningless)
    if not iv.low_inclusive:
        low += 0.05
    if not iv.high_inclusive:
        high -= 0.05
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _away_from(values: np.ndarray, ks: tuple[float, ...], step: float = 0.137) -> np.ndarray:
    """Shift each entry by multiples of *step* until it is KINK_GAP away from every kink."""
    out = values.copy()
    flat = out.reshape(-1)
    for i in range(flat.size):
        for _ in range(50):
            if all(abs(flat[i] - k) > KINK_GAP for k in ks):
                break
            flat[i] += step
    return out


floats_4 = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw: st.DrawFn, name: str, reduction: Reduction, weighted: bool) -> Case:
    loss = losscore.get_loss(name)
    spec = loss.spec
    params = {p.name: draw(_param_strategy(p)) for p in spec.params}
    ks = kinks(name, params)

    if spec.kind == "multiclass":
        n = draw(st.integers(1, 3))
        k = draw(st.integers(2, 4))
        f = np.array(draw(st.lists(floats_4, min_size=n * k, max_size=n * k))).reshape(n, k)
        probabilistic = _accepts_probability_targets(spec) and draw(st.booleans())
        if probabilistic:
            raw = np.array(
                draw(st.lists(st.floats(0.0, 1.0), min_size=n * k, max_size=n * k))
            ).reshape(n, k)
            raw[:, 0] += 1e-3  # no all-zero rows
            target = raw / raw.sum(axis=1, keepdims=True)
        else:
            target = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
        if name == "multiclass_hinge":
            # push each row's scores apart until no kink is within reach
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            for _ in range(50):
                gaps = multiclass_hinge_gaps(f, target, params.get("margin", 1.0))
                if (gaps > KINK_GAP).all():
                    break
                f = f + rng.uniform(-0.5, 0.5, size=f.shape) * (gaps <= KINK_GAP)[:, None]
            assume((multiclass_hinge_gaps(f, target, params.get("margin", 1.0)) > KINK_GAP).all())
        el_shape: tuple[int, ...] = (n,)
    else:
        shape = draw(st.sampled_from([(1,), (3,), (5,), (2, 3)]))
        size = math.prod(shape)
        if _is_probability_loss(spec):
            p = draw(st.lists(st.floats(0.02, 0.98), min_size=size, max_size=size))
            t = draw(st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size))
            f = np.array(p).reshape(shape)
            target = np.array(t).reshape(shape)
        elif spec.kind == "binary":
            labels = np.array(
                draw(st.lists(st.sampled_from([-1, 1]), min_size=size, max_size=size))
            ).reshape(shape)
            z = _away_from(np.array(draw(st.lists(floats_4, min_size=size, max_size=size))), ks)
            f = z.reshape(shape) * labels  # margin z = y f
            if draw(st.booleans()):
                labels = (labels + 1) // 2  # the {0, 1} convention
            target = labels
        else:
            y = np.array(draw(st.lists(floats_4, min_size=size, max_size=size))).reshape(shape)
            r = _away_from(np.array(draw(st.lists(floats_4, min_size=size, max_size=size))), ks)
            f = y + r.reshape(shape)
            # r must be as far from the kinks after rounding f - y
            f = y + _away_from(f - y, ks)
            target = y
        el_shape = shape

    weight = None
    if weighted:
        size = math.prod(el_shape)
        w = np.array(draw(st.lists(st.floats(0.0, 3.0), min_size=size, max_size=size)))
        w[0] = max(w[0], 0.25)  # a positive weight sum for "mean"
        weight = w.reshape(el_shape)
    return Case(name, params, f, target, weight, reduction)


# -- finite differences ----------------------------------------------------------------------


def _objective(case: Case, f: np.ndarray) -> tuple[float, np.ndarray]:
    """The differentiated quantity and the gradient the library reports for it."""
    res = losscore.evaluate(
        case.name, f, case.target, weight=case.weight, reduction=case.reduction, **case.params
    )
    if case.reduction == "none":
        # the per-element derivative: each element only moves its own term
        value = math.fsum(np.asarray(res.elementwise, dtype=np.float64).reshape(-1))
    else:
        assert res.value is not None
        value = res.value
    return value, np.asarray(res.gradient, dtype=np.float64)


def finite_differences(case: Case, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(FD gradient of the value, FD Hessian diagonal from the gradient, value scale)."""
    grad = np.empty_like(f)
    hess = np.empty_like(f)
    scale = abs(_objective(case, f)[0])
    for idx in np.ndindex(f.shape):
        vals, grads = [], []
        for s in (-2, -1, 1, 2):
            g = f.copy()
            g[idx] += s * STEP
            v, gr = _objective(case, g)
            vals.append(v)
            grads.append(gr[idx])
            scale = max(scale, abs(v))
        grad[idx] = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * STEP)
        hess[idx] = (grads[0] - 8 * grads[1] + 8 * grads[2] - grads[3]) / (12 * STEP)
    return grad, hess, scale


def _evaluate(case: Case, f: np.ndarray) -> losscore.Evaluation:
    return losscore.evaluate(
        case.name,
        f,
        case.target,
        weight=case.weight,
        reduction=case.reduction,
        hessian=True,
        **case.params,
    )


def _assert_close(
    actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float, what: str, case: Case
) -> None:
    err = np.abs(actual - expected)
    bound = rtol * np.abs(expected) + atol
    assert (err <= bound).all(), (
        f"{what} of {case.name}{case.params} ({case.reduction}) differs from finite differences:\n"
        f"prediction={case.prediction!r}\ntarget={case.target!r}\nweight={case.weight!r}\n"
        f"got={actual!r}\nfd={expected!r}"
    )


def _param_grid() -> list[Any]:
    return [
        pytest.param(name, reduction, weighted, id=f"{name}-{reduction}-{'w' if weighted else 'u'}")
        for name in NAMES
        for reduction in REDUCTIONS
        for weighted in (False, True)
    ]


def _run(test: Callable[[Case], None]) -> Callable[..., None]:
    @pytest.mark.parametrize(("name", "reduction", "weighted"), _param_grid())
    @FDSettings
    @given(data=st.data())
    def wrapper(name: str, reduction: Reduction, weighted: bool, data: st.DataObject) -> None:
        test(data.draw(cases(name, reduction, weighted)))

    wrapper.__name__ = test.__name__
    wrapper.__doc__ = test.__doc__
    return wrapper


# -- the tests -------------------------------------------------------------------------------


def _check_float64(case: Case) -> None:
    """float64: gradient and Hessian diagonal agree with finite differences to ~1e-7."""
    res = _evaluate(case, case.prediction)
    assert res.gradient.dtype == np.float64
    assert res.gradient.shape == case.prediction.shape
    assert res.hessian is not None and res.hessian.shape == case.prediction.shape
    fd_grad, fd_hess, scale = finite_differences(case, case.prediction)
    atol = 1e-8 * (1.0 + scale)
    _assert_close(res.gradient, fd_grad, rtol=1e-7, atol=atol, what="gradient", case=case)
    hscale = 1.0 + float(np.max(np.abs(res.gradient)))
    _assert_close(res.hessian, fd_hess, rtol=1e-6, atol=1e-7 * hscale, what="Hessian", case=case)


def _check_float32(case: Case) -> None:
    """float32: evaluated in float32, dtype kept, close to the float64 finite differences."""
    f32 = case.prediction.astype(np.float32)
    f64 = f32.astype(np.float64)  # the very same points, exactly
    target = case.target
    if target.dtype.kind == "f":
        target = target.astype(np.float32)
        case.target = target.astype(np.float64)  # the float64 oracle sees the same target
    w32 = None if case.weight is None else case.weight.astype(np.float32)
    if w32 is not None:
        case.weight = w32.astype(np.float64)
    res32 = losscore.evaluate(
        case.name,
        f32,
        target,
        weight=w32,
        reduction=case.reduction,
        hessian=True,
        **case.params,
    )
    assert res32.gradient.dtype == np.float32
    assert res32.elementwise.dtype == np.float32
    assert res32.hessian is not None and res32.hessian.dtype == np.float32
    fd_grad, fd_hess, scale = finite_differences(case, f64)
    gscale = 1.0 + float(np.max(np.abs(fd_grad)))
    _assert_close(
        res32.gradient.astype(np.float64),
        fd_grad,
        rtol=2e-4,
        atol=2e-5 * gscale,
        what="float32 gradient",
        case=case,
    )
    hscale = 1.0 + float(np.max(np.abs(fd_hess)))
    _assert_close(
        res32.hessian.astype(np.float64),
        fd_hess,
        rtol=2e-4,
        atol=2e-5 * hscale,
        what="float32 Hessian",
        case=case,
    )
    if res32.value is not None:
        value64 = _objective(case, f64)[0]
        assert math.isclose(res32.value, value64, rel_tol=1e-5, abs_tol=1e-6 * (1 + scale))


test_gradient_and_hessian_match_finite_differences_float64 = _run(_check_float64)
test_float32_matches_float64_finite_differences = _run(_check_float32)


def test_every_loss_is_exercised() -> None:
    """The parametrisation comes from the registry, so a new loss cannot be missed."""
    ids = {p.values[0] for p in _param_grid()}
    assert ids == set(losscore.loss_names())
    assert len(ids) >= 17
