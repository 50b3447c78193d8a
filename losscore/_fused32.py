"""float32 e^x (x ≤ 0) and log(1 + x) (0 ≤ x ≤ 1) for compiled kernels (private).

A float32 loop that calls the float64 functions of :mod:`losscore._fused` widens every lane:
it runs at float64's speed. These run in float32 arithmetic (twice the lanes per vector), in
plain arithmetic the compiler vectorises, within 2 ulp of the correctly rounded result on the
domains stated (tests/losses/test_fused_math.py checks them against NumPy in long double).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from losscore._jit import compiled

__all__ = ["exp_nonpos32", "log1p_unit32"]

_F = np.float32


@intrinsic
def _as_bits32_intrinsic(typingctx: Any, x: Any) -> Any:
    """The IEEE bits of a float32, as an int32 (an LLVM bitcast)."""
    if x != types.float32:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _from_bits32_intrinsic(typingctx: Any, x: Any) -> Any:
    """The float32 with the given IEEE bits (the low 32 bits of an integer, bitcast)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        value = args[0]
        width = value.type.width  # the LLVM integer's
        if width > 32:
            value = builder.trunc(value, ir.IntType(32))
        elif width < 32:
            value = builder.sext(value, ir.IntType(32))
        return builder.bitcast(value, ir.FloatType())

    return types.float32(x), codegen


_as_bits32 = cast("Callable[[Any], Any]", _as_bits32_intrinsic)
_from_bits32 = cast("Callable[[Any], Any]", _from_bits32_intrinsic)

_EXP_FLOOR = _F(-104.0)  # e^x is below half the smallest float32 subnormal there
_INV_LN2 = _F(1.4426950408889634)
_ROUND = _F(12582912.0)  # 1.5·2^23: x + _ROUND rounds x to an integer (|x| < 2^22)
_LN2_HI = _F(0.693145751953125)  # ln 2 with 8 trailing zero bits: k·_LN2_HI is exact
_LN2_LO = _F(1.4286067653302724e-06)
_C2, _C3, _C4 = _F(1 / 2), _F(1 / 6), _F(1 / 24)
_C5, _C6, _C7 = _F(1 / 120), _F(1 / 720), _F(1 / 5040)
_ONE = _F(1.0)
_BIAS = np.int32(127)


@compiled(inline="always")
def exp_nonpos32(x):  # type: ignore[no-untyped-def]
    """e^x for float32 x ≤ 0: x = k·ln 2 + r (|r| ≤ ln(2)/2, ln 2 in two parts), e^r by its
    Taylor polynomial to r⁷ (truncation below 6e-9 relative), then ·2^k as two exact powers
    of two (the second product rounds a subnormal result once)."""
    x = max(x, _EXP_FLOOR)
    shifted = x * _INV_LN2 + _ROUND
    k = _as_bits32(shifted) - _as_bits32(_ROUND)
    kf = shifted - _ROUND
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * _C7))))))
    k1 = k >> 1
    k2 = k - k1
    return p * _from_bits32((k1 + _BIAS) << 23) * _from_bits32((k2 + _BIAS) << 23)


_SQRT2 = _F(1.4142135623730951)
_HALF = _F(0.5)
_TWO = _F(2.0)
_LN2 = _F(0.6931471805599453)
_L1, _L2, _L3, _L4 = _F(2 / 3), _F(2 / 5), _F(2 / 7), _F(2 / 9)


@compiled(inline="always")
def log1p_unit32(x):  # type: ignore[no-untyped-def]
    """log(1 + x) for float32 x in [0, 1]: u = 1 + x (its rounding c = (x − (u − 1))/u added
    back), u = 2^k·(1 + g) with 1 + g in (√2/2, √2] (g exact), s = g/(2 + g), z = s²,
    log(1 + g) = g − (g²/2 − s·(g²/2 + R)) with R = z·(2/3 + z·(2/5 + z·(2/7 + z·2/9)))
    (fdlibm's arrangement; |s| ≤ 0.172: truncation below 3e-9 relative)."""
    u = x + _ONE
    f = u - _ONE  # exact (u in [1, 2])
    c = (x - f) / u
    high = u > _SQRT2
    g = u * _HALF - _ONE if high else f  # exact either way
    s = g / (_TWO + g)
    z = s * s
    hfsq = _HALF * g * g
    series = z * (_L1 + z * (_L2 + z * (_L3 + z * _L4)))
    base = _LN2 if high else _F(0.0)
    return base + (c + (g - (hfsq - s * (hfsq + series))))
