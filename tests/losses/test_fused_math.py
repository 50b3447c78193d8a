"""The compiled kernels' own e^x and log1p against NumPy in long double (the oracle): float64
within 1 ulp, float32 within 2 ulp of the correctly rounded value, on their stated domains,
in vectorised loops compiled with the kernels' flags: plain, and with a·b + c contracted to
one multiply-add (:data:`losscore._fused.transcendental_kernel`, log_loss's and softmax's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from llvmlite import binding
from numba import njit

from losscore._fused import exp_nonpos_any, log1p_nonneg, log1p_unit_any

TINY32 = float(np.finfo(np.float32).tiny)
# njit as losscore._jit.compiled calls it: the loops vectorise as the kernels' do
FLAGS = {
    "plain": {"error_model": "numpy"},
    "contracted": {"error_model": "numpy", "fastmath": {"contract"}},
}


def _exp_loop(x, out):  # type: ignore[no-untyped-def]
    for i in range(np.uint64(x.shape[0])):  # unsigned, as in the kernels
        out[i] = exp_nonpos_any(x[i])


def _log1p_loop(x, out):  # type: ignore[no-untyped-def]
    for i in range(np.uint64(x.shape[0])):
        out[i] = log1p_unit_any(x[i])


def _log1p_nonneg_loop(x, out):  # type: ignore[no-untyped-def]
    for i in range(np.uint64(x.shape[0])):
        out[i] = log1p_nonneg(x[i])


_EXP = {name: njit(**flags)(_exp_loop) for name, flags in FLAGS.items()}
_LOG1P = {name: njit(**flags)(_log1p_loop) for name, flags in FLAGS.items()}
_LOG1P_NONNEG = {name: njit(**flags)(_log1p_nonneg_loop) for name, flags in FLAGS.items()}


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got − exact| in units of the last place of exact rounded to got's dtype."""
    spacing = np.spacing(np.abs(exact.astype(got.dtype))).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def _exp_grid(dtype: Any) -> np.ndarray:
    low = -104 if dtype == np.float32 else -745
    parts = [
        np.linspace(0, -1, 200_001),
        np.linspace(-1, low, 200_001),
        -np.geomspace(1e-30, 1, 10_001),
    ]
    return np.concatenate(parts).astype(dtype)


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize(("dtype", "bound"), [(np.float64, 1.0), (np.float32, 2.0)])
def test_exp_nonpos(dtype: Any, bound: float, flags: str) -> None:
    x = _exp_grid(dtype)
    out = np.empty_like(x)
    _EXP[flags](x, out)
    exact = np.exp(x.astype(np.longdouble)).astype(np.float64)
    normal = exact >= (TINY32 if dtype == np.float32 else 2.3e-308)
    assert _ulps(out[normal], exact[normal]).max() <= bound
    # subnormal results: within one unit of the smallest subnormal
    smallest = float(np.finfo(dtype).smallest_subnormal)
    assert np.abs(out[~normal] - exact[~normal]).max() <= smallest
    assert out[0] == 1.0 and out.dtype == dtype


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize(("dtype", "bound"), [(np.float64, 1.0), (np.float32, 2.0)])
def test_log1p_unit(dtype: Any, bound: float, flags: str) -> None:
    x = np.concatenate([np.linspace(0, 1, 400_001), np.geomspace(1e-40, 1, 10_001)]).astype(dtype)
    out = np.empty_like(x)
    _LOG1P[flags](x, out)
    exact = np.log1p(x.astype(np.longdouble)).astype(np.float64)
    positive = exact > 0
    assert _ulps(out[positive], exact[positive]).max() <= bound
    assert np.all(out[~positive] == 0) and out.dtype == dtype


@pytest.mark.parametrize("flags", FLAGS)
def test_log1p_nonneg(flags: str) -> None:
    """softmax's log1p(τ), τ in [0, k − 1], in float64: within 1 ulp on [0, ∞) (past 2^54,
    where 1 + x no longer has a rounding to correct, too)."""
    x = np.concatenate(
        [np.linspace(0, 4, 400_001), np.geomspace(1e-300, 1e300, 100_001), [2.0**54, 2.0**60]]
    )
    out = np.empty_like(x)
    _LOG1P_NONNEG[flags](x, out)
    exact = np.log1p(x.astype(np.longdouble)).astype(np.float64)
    positive = exact > 0
    assert _ulps(out[positive], exact[positive]).max() <= 1.0
    assert np.all(out[~positive] == 0)


@pytest.mark.skipif(not binding.get_host_cpu_features().get("fma"), reason="no FMA on this CPU")
def test_the_contracted_loops_use_multiply_adds() -> None:
    """The contracted builds are what the kernels run: numba applies the flag to the inlined
    helpers (an FMA instruction appears), the plain ones have none."""
    x = np.zeros(8)
    out = np.empty_like(x)
    for loops in (_EXP, _LOG1P, _LOG1P_NONNEG):
        for flags, loop in loops.items():
            loop(x, out)
            asm = loop.inspect_asm(loop.signatures[0]).lower()
            fused = any(op in asm for op in ("fmadd", "fmsub", "fnmadd", "fnmsub", "fmla", "fmls"))
            assert fused == (flags == "contracted"), flags
