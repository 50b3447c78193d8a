"""``evaluate``'s outputs and caller-owned buffers, and its compiled one-pass kernels.

Oracles: the NumPy kernels (checked against PyTorch, scikit-learn and finite differences in
the other tests of this package) for the compiled kernels; a full evaluation for the subsets
of outputs; tracemalloc for what a call allocates.
"""

from __future__ import annotations

import math
import re
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import losscore
from losscore._passes import FUSED_CHUNK_ELEMENTS
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.losses import Loss, get_loss

FUSED = ("l2", "smooth_l1", "huber", "hinge", "log_loss", "softmax_cross_entropy")
# the compiled kernels whose ℓ, ℓ', ℓ'' are the NumPy kernel's operations (bit for bit);
# log_loss and softmax use their own e^x and log1p (within an ulp of NumPy's)
BIT_EXACT = ("l2", "smooth_l1", "huber", "hinge")
NUMPY_ONLY = ("l1", "quantile", "exponential", "multiclass_hinge")


def _inputs(name: str, n: int, dtype: Any, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    loss = get_loss(name)
    if loss.kind == "multiclass":
        return (rng.normal(size=(n, 5)) * 3).astype(dtype), rng.integers(0, 5, n)
    pred = (rng.normal(size=n) * 3).astype(dtype)
    if loss.spec.target == "binary_label":
        return pred, (rng.random(n) < 0.5).astype(dtype)
    return pred, (rng.normal(size=n) * 3).astype(dtype)


@contextmanager
def _numpy_kernels(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    """Evaluate *name* with its NumPy kernel (the compiled one switched off)."""
    with monkeypatch.context() as m:
        m.setattr(type(get_loss(name)), "fused", Loss.fused)
        yield


def test_every_loss_named_here_has_a_compiled_kernel_or_not_as_stated() -> None:
    for name in FUSED:
        p, t = _inputs(name, 10, np.float64)
        loss = get_loss(name)
        flat = p.reshape(10, -1) if loss.kind == "multiclass" else p
        assert loss.fused(
            flat, loss.prepare_target(t, p, loss.spec.resolve({})), loss.spec.resolve({})
        )
    for name in NUMPY_ONLY:
        p, t = _inputs(name, 10, np.float64)
        loss = get_loss(name)
        assert loss.fused(p, t, loss.spec.resolve({})) is None


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_kernel_equals_numpy_kernel(
    monkeypatch: pytest.MonkeyPatch, name: str, dtype: Any, reduction: Any, weighted: bool
) -> None:
    n = (1 << 18) + 70_001  # more than one chunk of the compiled pass, not a multiple of a block
    p, t = _inputs(name, n, dtype)
    w = None
    if weighted:
        w = np.random.default_rng(1).random(n).astype(dtype) * 3
        w[::7] = 0  # zero weights remove their element
    fast = losscore.evaluate(name, p, t, weight=w, reduction=reduction, hessian=True)
    with _numpy_kernels(monkeypatch, name):
        ref = losscore.evaluate(name, p, t, weight=w, reduction=reduction, hessian=True)
    assert fast.dtype == ref.dtype == np.dtype(dtype)
    eps = float(np.finfo(dtype).eps)
    for what in ("elementwise", "gradient", "hessian"):
        a, b = fast.arrays[what], ref.arrays[what]
        assert a.dtype == b.dtype and a.shape == b.shape
        if name in BIT_EXACT:
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            scale = float(np.max(np.abs(b))) or 1.0
            np.testing.assert_allclose(a, b, rtol=8 * eps, atol=8 * eps * scale, err_msg=what)
    if reduction != "none":
        assert fast.value == pytest.approx(ref.value, rel=50 * eps)


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_block_sums_stay_within_their_bound(name: str, weighted: bool) -> None:
    """float32 kernels sum their blocks in float32: within 1.5e-5 relative (the documented
    bound, 256 terms a block) of the exact sum of the float32 terms they wrote (math.fsum of
    the elementwise output, w·ℓ when weighted), plus the value's rounding to float32."""
    p, t = _inputs(name, (1 << 20) + 1234, np.float32, seed=5)
    w = None
    if weighted:
        w = (np.random.default_rng(6).random(p.shape[0]) * 3).astype(np.float32)
    ev = losscore.evaluate(name, p, t, weight=w, reduction="sum")
    exact = math.fsum(ev.elementwise.astype(np.float64).ravel())
    assert exact > 0
    assert abs(ev.value - exact) <= 1.55e-5 * exact


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_float32_sums_beyond_the_float32_range(
    reduction: Any,
) -> None:
    """Terms near the float32 maximum: their float32 block sums overflow; the mean (in range)
    is still r², recomputed term by term; a sum beyond the range is inf in float32."""
    r = np.float32(1.5e19)
    p = np.full(3000, r, dtype=np.float32)
    p[::2] = -r
    t = np.zeros(3000, dtype=np.float32)
    ev = losscore.evaluate("l2", p, t, reduction=reduction)
    term = float(np.float32(r) * np.float32(r))  # each ℓ = r², rounded to float32
    assert math.isfinite(term)
    if reduction == "mean":
        assert ev.value == pytest.approx(term, rel=1e-6)
    else:
        assert ev.value == math.inf
    scale = np.float32(1 / 3000) if reduction == "mean" else np.float32(1)
    np.testing.assert_array_equal(ev.gradient, (p * np.float32(2)) * scale)  # ℓ' = 2r, scaled


@pytest.mark.parametrize("name", [*FUSED, *NUMPY_ONLY])
@pytest.mark.parametrize(
    "outputs",
    [["value"], ["gradient"], ["value", "gradient"], ["elementwise"], ["hessian"]],
)
@pytest.mark.parametrize(
    ("dtype", "weighting"),
    [(np.float64, "positive"), (np.float64, "none"), (np.float32, "zeros"), (np.float32, "none")],
)
def test_outputs_compute_what_is_asked_and_equal_a_full_evaluation(
    name: str, outputs: list[Any], dtype: Any, weighting: str
) -> None:
    """Each subset of outputs (its own compiled specialisation) equals the full evaluation."""
    p, t = _inputs(name, 50_000, dtype, seed=3)
    w = None
    if weighting != "none":
        w = (np.random.default_rng(4).random(p.shape[0]) + 0.1).astype(dtype)
        if weighting == "zeros":
            w[::5] = 0
    full = losscore.evaluate(name, p, t, weight=w, hessian=True)
    part = losscore.evaluate(name, p, t, weight=w, outputs=outputs)
    assert part.outputs == frozenset(outputs)
    assert set(part.arrays) == set(outputs) - {"value"}
    for what in part.arrays:
        np.testing.assert_array_equal(part.arrays[what], full.arrays[what])
    if "value" in outputs:  # the same block sums, in another vectorised loop
        assert part.value == pytest.approx(full.value, rel=1e-13 if dtype == np.float64 else 1e-6)
    else:
        assert part.value is None
    if "gradient" not in outputs:
        with pytest.raises(InvalidParameterError, match="'gradient' was not among the outputs"):
            _ = part.gradient
    if "hessian" not in outputs:
        assert part.hessian is None
    expected_weight = p.shape[0] if w is None else float(np.sum(w, dtype=np.float64))
    assert part.weight_sum == pytest.approx(expected_weight, rel=1e-13)


def test_hessian_flag_adds_the_hessian_to_the_outputs() -> None:
    r = losscore.evaluate("huber", [0.0, 3.0], [1.0, 0.0], outputs=["value"], hessian=True)
    assert r.outputs == {"value", "hessian"}
    np.testing.assert_array_equal(r.hessian, [0.5, 0.0])  # mean: [|r| ≤ δ] / N


@pytest.mark.parametrize(
    ("outputs", "reduction", "message"),
    [
        (["value", "grad"], "mean", "unknown output 'grad'"),
        ("value", "mean", "must be a list of output names"),
        ([], "mean", "at least one output"),
        (["value"], "none", "'value' needs reduction 'mean' or 'sum'"),
    ],
)
def test_bad_outputs_name_the_field(outputs: Any, reduction: Any, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message) as exc:
        losscore.evaluate("l2", [1.0], [0.0], outputs=outputs, reduction=reduction)
    assert exc.value.field == "outputs"


@pytest.mark.parametrize("name", [*FUSED, *NUMPY_ONLY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_buffers_receive_the_results_and_are_returned(name: str, dtype: Any) -> None:
    p, t = _inputs(name, 30_000, dtype, seed=5)
    ref = losscore.evaluate(name, p, t, hessian=True)
    el = np.full(ref.elementwise.shape, np.nan, dtype=dtype)
    g = np.full(p.shape, np.nan, dtype=dtype)
    h = np.full(p.shape, np.nan, dtype=dtype)
    r = losscore.evaluate(
        name, p, t, hessian=True, elementwise_out=el, gradient_out=g, hessian_out=h
    )
    assert r.elementwise is el and r.gradient is g and r.hessian is h
    np.testing.assert_array_equal(el, ref.elementwise)
    np.testing.assert_array_equal(g, ref.gradient)
    np.testing.assert_array_equal(h, ref.hessian)
    assert r.value == ref.value


def _bad_buffer_cases() -> list[tuple[str, Any, str]]:
    n = 8
    strided = np.zeros(2 * n)[::2]
    read_only = np.zeros(n)
    read_only.flags.writeable = False
    return [
        ("shape", np.zeros(n + 1), "shape [9] does not match the gradient shape [8]"),
        ("dtype", np.zeros(n, dtype=np.float32), "dtype float32 does not match"),
        ("strided", strided, "must be C-contiguous"),
        ("read-only", read_only, "must be writeable"),
        ("list", [0.0] * n, "must be a numpy.ndarray, got list"),
    ]


@pytest.mark.parametrize(("case", "buf", "message"), _bad_buffer_cases())
def test_bad_buffers_are_refused_naming_the_argument(case: str, buf: Any, message: str) -> None:
    p = np.linspace(-1, 1, 8)
    with pytest.raises(InvalidInputError, match=re.escape(message)) as exc:
        losscore.evaluate("l2", p, np.zeros(8), gradient_out=buf)
    assert exc.value.field == "gradient_out"


def test_buffers_must_not_overlap_inputs_or_each_other() -> None:
    p = np.linspace(-1, 1, 8)
    t = np.zeros(8)
    with pytest.raises(InvalidInputError, match="shares memory with prediction"):
        losscore.evaluate("l2", p, t, gradient_out=p)
    block = np.zeros(16)
    with pytest.raises(InvalidInputError, match="shares memory with target") as exc:
        losscore.evaluate("l2", p, block[:8], elementwise_out=block[4:12])
    assert exc.value.field == "elementwise_out"
    g = np.zeros(8)
    with pytest.raises(InvalidInputError, match="shares memory with elementwise_out"):
        losscore.evaluate("l2", p, t, elementwise_out=g, gradient_out=g)
    # halves of one array do not overlap: accepted
    both = np.zeros(16)
    losscore.evaluate("l2", p, t, elementwise_out=both[:8], gradient_out=both[8:])
    np.testing.assert_array_equal(both[8:], 2 * p / 8)


def test_a_buffer_for_an_output_not_asked_for_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="'hessian' is not among the outputs") as exc:
        losscore.evaluate("l2", [1.0], [0.0], hessian_out=np.zeros(1))
    assert exc.value.field == "hessian_out"


SMALL, LARGE = 1 << 18, 1 << 21


def _peak_of_calls(name: str, n: int, outputs: list[Any], buffers: bool) -> tuple[int, int]:
    """(the least peak of traced memory over three calls, the prediction's bytes), after a
    warm-up call (compilation, each thread's chunk scratch)."""
    p, t = _inputs(name, n, np.float64, seed=6)
    w = np.random.default_rng(7).random(p.shape[0])
    target = get_loss(name).prepare_target(t, p, get_loss(name).spec.resolve({}))
    g = np.empty_like(p) if buffers else None
    ref = losscore.evaluate(name, p, t, weight=w)

    def call() -> losscore.Evaluation:
        return losscore.evaluate(name, p, target, weight=w, outputs=outputs, gradient_out=g)

    for _ in range(2):
        call()
    peaks = [_peak_bytes(call) for _ in range(3)]
    result = call()
    assert result.value == pytest.approx(ref.value, rel=1e-13)
    if g is not None:
        np.testing.assert_array_equal(g, ref.gradient)
    return min(peaks), p.nbytes


@pytest.mark.parametrize("name", [*FUSED, "l1", "quantile"])
@pytest.mark.parametrize(
    ("outputs", "buffers"), [(["value", "gradient"], True), (["value"], False)]
)
def test_calls_with_buffers_or_value_only_allocate_nothing_of_the_input_size(
    name: str, outputs: list[Any], buffers: bool
) -> None:
    """What a call allocates (beyond chunk-sized temporaries) does not grow with the input:
    four times the input, at most 5% of the difference more."""
    small, small_bytes = _peak_of_calls(name, SMALL, outputs, buffers)
    large, large_bytes = _peak_of_calls(name, LARGE, outputs, buffers)
    assert large < small + (large_bytes - small_bytes) / 20, (small, large)
    assert large < large_bytes / 8, (large, large_bytes)


def _peak_bytes(fn: Any) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        return peak - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["hinge", "log_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_and_minus_one_labels_in_different_chunks_are_a_mix(name: str, dtype: Any) -> None:
    """Each compiled chunk sees one label kind; together they mix two conventions."""
    n = FUSED_CHUNK_ELEMENTS + 1000  # two chunks of the compiled pass
    y = np.ones(n, dtype=dtype)
    y[5] = 0  # first chunk: the 0/1 convention
    y[n - 3] = -1  # second chunk: ±1
    with pytest.raises(InvalidInputError, match="mix") as err:
        losscore.evaluate(name, np.zeros(n, dtype=dtype), y)
    assert err.value.field == "target" and err.value.index == (n - 3,)
