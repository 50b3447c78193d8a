"""``losscore.warm_up`` compiles what common requests run: after it, the service's default
evaluation (value, elementwise, gradient; with and without weights), value only and value +
gradient add no machine-code specialisation to any compiled kernel, in either float dtype
(every array in it, as over HTTP), for every target dtype the warm-up names, with writable
or read-only inputs (a call that did add one would wait for the compiler, about a second).
Oracle: numba's own record of the signatures each kernel has loaded or compiled, in a fresh
process (earlier tests in this one would have loaded them already)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np

import losscore
from losscore.losses import Loss, get_loss, list_losses

CALLS: list[dict[str, Any]] = [
    {},
    {"weight": True},
    {"outputs": ["value"]},
    {"outputs": ["value", "gradient"]},
    {"reduction": "sum", "outputs": ["value", "elementwise", "gradient"]},
]


def _inputs(loss: Loss, dtype: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Writable inputs, and the same read-only (as ``np.frombuffer`` decodes a binary or
    base64 request body)."""
    rng = np.random.default_rng(3)
    if loss.kind == "multiclass":
        pairs = [(rng.normal(size=(40, 4)).astype(dtype), rng.integers(0, 4, 40))]
    else:
        prediction = rng.normal(size=300).astype(dtype)
        if loss.spec.target == "binary_label":
            labels = rng.integers(0, 2, 300)
            pairs = [(prediction, labels.astype(dtype)), (prediction, labels)]
        else:
            pairs = [(prediction, rng.normal(size=300).astype(dtype))]
    return pairs + [(_read_only(p), _read_only(t)) for p, t in pairs]


def _read_only(a: np.ndarray) -> np.ndarray:
    return np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape)


def _kernels() -> dict[str, Any]:
    """Each catalog loss with a compiled kernel: its numba dispatcher."""
    kernels = {}
    for spec in list_losses():
        loss = get_loss(spec.name)
        if type(loss).fused is Loss.fused:
            continue
        prediction, target = _inputs(loss, np.float64)[0]
        fused = loss.fused(prediction, target, spec.resolve({}))
        assert fused is not None, spec.name
        kernels[spec.name] = fused.run
    return kernels


def signature_counts_after_warm_up() -> tuple[dict[str, int], dict[str, int]]:
    """(each kernel's signature count after ``warm_up``, after the common calls too)."""
    losscore.warm_up()
    kernels = _kernels()
    assert {"l2", "smooth_l1", "huber", "hinge", "log_loss", "softmax_cross_entropy"} <= set(
        kernels
    )
    before = {name: len(run.signatures) for name, run in kernels.items()}
    for name in kernels:
        loss = get_loss(name)
        for dtype in (np.float64, np.float32):
            for prediction, target in _inputs(loss, dtype):
                for call in CALLS:
                    kwargs = dict(call)
                    if kwargs.pop("weight", False):
                        kwargs["weight"] = np.linspace(0.5, 2.0, prediction.shape[0], dtype=dtype)
                    ev = losscore.evaluate(name, prediction, target, **kwargs)
                    assert np.isfinite(ev.value)
    after = {name: len(run.signatures) for name, run in kernels.items()}
    return before, after


def test_warm_up_covers_the_common_calls() -> None:
    script = (
        "import json; from tests.losses.test_warm_up import signature_counts_after_warm_up as f; "
        "print(json.dumps(f()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"l2", "smooth_l1", "huber", "hinge", "log_loss", "softmax_cross_entropy"} <= set(before)
    assert after == before
