"""One-pass compiled chunk kernels: the building blocks (private; numba).

A loss whose :meth:`~losscore.losses.Loss.fused` returns a :class:`FusedKernel` is evaluated
by one compiled loop per chunk that reads the prediction and target once, keeps ℓ, ∂ℓ/∂f
and ∂²ℓ/∂f² in registers, applies the weights and the mean's scale, writes only the outputs
asked for and returns the chunk's Σ w·ℓ. The NumPy kernels instead make several passes over
cache-resident chunks and write every output; they remain the definition for solvers
(:meth:`~losscore.losses.Loss.pointwise`) and for losses without a fused kernel.

Every fused kernel has the signature::

    run(p, t, consts, w, s1, s2, c, el, g, h, acc) -> (total, probe, labels)

``p``, ``t``: the chunk of prediction (1-d; ``(rows, k)`` for multiclass losses) and target;
``consts``: the loss's constants, a tuple in the computation dtype (a float literal in a
kernel would make float32 arithmetic float64); ``w``: the chunk's weights (None when
unweighted); ``s1``, ``s2``: the mean's weight scaling, w' = w·s1·s2 = w·2^-e exactly
(powers of two; 1 for sums and without weights); ``c``: the gradient's and Hessian's scale
(1/Σw' for ``"mean"``, else 1); ``el``, ``g``, ``h``: the output chunks (None for outputs
not asked for); ``acc``: 0 in the dtype the blocks are summed in (below). It returns ``total`` = Σ w'·ℓ (Σ ℓ unweighted) in
float64, a term with w' = 0 exactly 0 (0·∞ is not NaN); ``probe``, 0 when every input it
checks is valid (Σ f·0 over the prediction: NaN for a non-finite value; plus, for real
targets, Σ t·0, for binary labels a count of labels other than 1, 0, −1) and ``labels``, the
OR of :data:`LABEL_ZERO` / :data:`LABEL_MINUS_ONE` over the labels seen (0 for other
targets); the engine raises the NumPy checks' error when a probe is not 0 or both label
kinds occur. It writes, per element:

* ``el = w·ℓ`` (0 where w = 0), ``g = (ℓ'·w')·c``, ``h = (ℓ''·w')·c`` (0 where w' = 0);
* unweighted: ``el = ℓ``, ``g = ℓ'·c``, ``h = ℓ''·c``;

the same operations in the same order as the NumPy path of :mod:`losscore.evaluate`, so a
kernel whose ℓ, ℓ', ℓ'' are bit-identical to its loss's NumPy kernel gives bit-identical
outputs. Sums run over blocks of :data:`BLOCK` terms (:data:`BLOCK32` in float32; see
:func:`block_size`), each summed in ``acc``'s dtype with vector partial sums (reassociated:
a fast-math flag on the sum alone), the block sums accumulated in float64 with
Neumaier's compensation. The engine sums float32 blocks in
float32 (a float64 sum would widen every term: twice the vector instructions); the terms
are non-negative, so a block's sum is within (BLOCK32 / lanes + log2 lanes)·2^-24 of its
value relative: 2.1e-6 with AVX2's 8 float32 lanes, BLOCK32·2^-24 ≈ 1.5e-5 at most (a sum
the compiler does not vectorise). A float32 block sum overflows only when the total exceeds
the float32 range or is within rounding of it: a sum is then inf in float32, and
:func:`losscore.evaluate` recomputes a mean term by term (its convex mean).

The loops index with unsigned integers: numba's negative-index handling on a signed index
turns vector loads into gathers. Which outputs are asked for, and whether there are weights,
is part of the compiled signature, not a runtime flag (that left the branches in the loop:
LLVM unswitches only small bodies): numba compiles one specialisation per combination of
arrays and Nones and prunes the ``if el is not None`` branches at compile time, so each
combination runs its own vectorised loop with nothing computed for an output not asked
for. The engine passes the inputs as read-only views, so that writable and read-only
arrays (a request body's) share the specialisations. :func:`losscore.warm_up` compiles the
combinations the service's common requests use; another compiles at its first call.
Per-element outputs come back from :func:`weighed` as scalars and each kernel stores them
(see there).

Also here: :func:`exp_nonpos`, :func:`log1p_nonneg` and :func:`log1p_unit`, float64 e^x
(x ≤ 0) and log(1 + x) (x ≥ 0; 0 ≤ x ≤ 1) in plain arithmetic that the compiler vectorises
(a libm call in a loop would not be); fdlibm's algorithms and coefficients, within 1 ulp;
:func:`exp_nonpos_any` and :func:`log1p_unit_any` pick them or their float32 counterparts
(:mod:`losscore._fused32`) by the argument's type. A loop that calls e^x and then log1p on
its result is not vectorised as a whole (the combined body is too large): kernels compute
e^x in a loop of its own into block-sized scratch. Kernels built on them are compiled with
:data:`transcendental_kernel` (a·b + c contracted to multiply-adds), the others with
:data:`kernel` (no contraction: the bit-identity above).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from losscore._fused32 import exp_nonpos32, log1p_unit32
from losscore._jit import compiled

__all__ = [
    "BLOCK",
    "BLOCK32",
    "LABEL_MINUS_ONE",
    "LABEL_ZERO",
    "FusedKernel",
    "add_compensated",
    "block_size",
    "check_label",
    "compensated_total",
    "compilable",
    "exp_nonpos",
    "exp_nonpos_any",
    "kernel",
    "label_error",
    "label_kinds",
    "log1p_nonneg",
    "log1p_unit",
    "log1p_unit_any",
    "radd",
    "transcendental_kernel",
    "weighed",
]

BLOCK = 1024  # terms per vector-summed float64 block (shorter blocks cost more than they sum)
BLOCK32 = 256  # float32 (its rounding error grows with the block / lanes)


class FusedKernel(NamedTuple):
    """A loss's compiled chunk kernel (signature above) and its constants."""

    run: Callable[..., float]
    consts: tuple[Any, ...]


# -- summation ---------------------------------------------------------------------------------


@compiled(fastmath={"reassoc"})
def radd(a: float, b: float) -> float:
    """a + b with reassociation allowed: a loop summing through it vectorises."""
    return a + b


@compiled(inline="always")
def add_compensated(total: float, comp: float, x: float) -> tuple[float, float]:
    """Neumaier's step: (total + x, the running compensation)."""
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


@compiled(inline="always")
def compensated_total(total: float, comp: float) -> float:
    """The compensated sum; a non-finite total as it is (its compensation is NaN: ∞ − ∞)."""
    return total + comp if np.isfinite(total) else total


# -- outputs -----------------------------------------------------------------------------------


@compiled(inline="always")
def weighed(l, d, hh, wi, s1, s2, c, weighted):  # type: ignore[no-untyped-def]
    """Element outputs (module docstring) from ℓ, ℓ', ℓ'' and the weight *wi*:
    ``(el, g, h, term of the sum)``, all in the dtype. Scalars only: an inlined function that took the output
    arrays would increment and decrement their reference counts per element (atomics that
    cost more than the arithmetic and stop vectorisation), so each kernel stores the three
    values itself::

        ev, gv, hv, term = weighed(l, d, hh, w[i] if w is not None else one, s1, s2, c, weighted)
        if el is not None:
            el[i] = ev
        ...
    """
    zero = c - c
    if weighted:
        m = wi * s1 * s2
        ev = l * wi if wi != 0 else zero
        if m != 0:
            return ev, d * m * c, hh * m * c, l * m
        return ev, zero, zero, zero
    return l, d * c, hh * c, l


LABEL_ZERO = 1  # bits of a binary-label kernel's ``labels``: a 0 label was seen
LABEL_MINUS_ONE = 2  # a -1 label was seen (0 and -1 together mix two conventions)


@compiled(inline="always")
def label_error(t, good, bad):  # type: ignore[no-untyped-def]
    """*good* for a binary label (1, 0 or -1), *bad* for anything else (NaN included); the
    two in the computation dtype (a float64 constant would widen a float32 loop)."""
    return good if (t == 1) | (t == 0) | (t == -1) else bad  # no short-circuit: vectorises


@compiled(inline="always")
def check_label(probe, zeros, minus, f, t, zero, one):  # type: ignore[no-untyped-def]
    """One element's share of a binary-label kernel's checks: *probe* gains f·0 (NaN
    unless f is finite) and 1 for a label other than 1, 0, -1; *zeros* and *minus* count
    the 0 and -1 labels (in the dtype: see :func:`label_kinds`)."""
    return (
        radd(probe, f * zero + label_error(t, zero, one)),
        radd(zeros, one if t == 0 else zero),
        radd(minus, one if t == -1 else zero),
    )


@compiled(inline="always")
def label_kinds(zeros, minus):  # type: ignore[no-untyped-def]
    """``labels`` from the counts of 0 and -1 labels (kept in the dtype by the kernel: an
    int64 count beside float32 lanes halves the vector width): :data:`LABEL_ZERO` if any 0,
    :data:`LABEL_MINUS_ONE` if any -1."""
    return (LABEL_ZERO if zeros > 0 else 0) | (LABEL_MINUS_ONE if minus > 0 else 0)


# -- float64 bits --------------------------------------------------------------------------------


@intrinsic
def _as_bits_intrinsic(typingctx: Any, x: Any) -> Any:
    """The IEEE bits of a float64, as an int64 (an LLVM bitcast)."""
    if x != types.float64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits_intrinsic(typingctx: Any, x: Any) -> Any:
    """The float64 with the given IEEE bits (an LLVM bitcast)."""
    if x != types.int64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


# typed views of the intrinsics (the same objects: compiled code resolves them by name)
_as_bits = cast("Callable[[float], int]", _as_bits_intrinsic)
_from_bits = cast("Callable[[int], float]", _from_bits_intrinsic)


# -- e^x for x <= 0 ------------------------------------------------------------------------------

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with 32 trailing zero bits: k·_LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_ROUND = 6755399441055744.0  # 1.5·2^52: x + _ROUND rounds x to an integer (|x| < 2^51)
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_FLOOR = -800.0  # e^x underflows to 0 below -745.2; the clamp keeps 2^k in range
_BIAS = 1023


@compiled(inline="always")
def exp_nonpos(x: float) -> float:
    """e^x for float64 x ≤ 0 (−∞ included): fdlibm's ``__ieee754_exp``.

    x = k·ln 2 + r with |r| ≤ ln(2)/2 (k rounded to nearest, ln 2 in two parts so that
    r = hi − lo is exact to ~2^-85), e^r = 1 − ((lo − r·c/(2 − c)) − hi) with
    c = r − r²·P(r²) (fdlibm's Remez coefficients, error < 2^-59), then ·2^k as two
    exact powers of two (the second multiplication rounds a subnormal result once).
    """
    x = max(x, _EXP_FLOOR)
    shifted = x * _INV_LN2 + _ROUND
    k = _as_bits(shifted) - _as_bits(_ROUND)
    kf = shifted - _ROUND
    hi = x - kf * _LN2_HI
    lo = kf * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    k1 = k >> 1
    k2 = k - k1
    return y * _from_bits((k1 + _BIAS) << 52) * _from_bits((k2 + _BIAS) << 52)


# -- log(1 + x) for x >= 0 -------------------------------------------------------------------

_LP1 = 6.666666666666735130e-01
_LP2 = 3.999999999940941908e-01
_LP3 = 2.857142874366239149e-01
_LP4 = 2.222219843214978396e-01
_LP5 = 1.818357216161805012e-01
_LP6 = 1.531383769920937332e-01
_LP7 = 1.479819860511658591e-01
_SQRT2_M1 = 0.41421356237309503  # below: f = x itself, no rounding of 1 + x
_MANTISSA = (1 << 52) - 1
_SQRT2_MANTISSA = 0x6A09E << 32  # 1 + this/2^52 ≈ √2 (fdlibm's test of the high word)


@compiled(inline="always")
def log1p_nonneg(x: float) -> float:
    """log(1 + x) for finite float64 x ≥ 0: fdlibm's ``log1p``.

    x < √2 − 1: f = x. Otherwise u = 1 + x = 2^k·(1 + f) with 1 + f in [√2/2, √2) and
    c the rounding error of u relative to u (0 once u ≥ 2^54, where it no longer matters). Then, with s = f/(2 + f),
    log(1 + f) = f − (f²/2 − s·(f²/2 + R(s²))) (Remez R, error < 2^-58) and
    log1p(x) = k·ln2_hi − ((f²/2 − (s·(f²/2 + R) + (k·ln2_lo + c))) − f).
    """
    u = 1.0 + x
    bits = _as_bits(u)
    e = (bits >> 52) - _BIAS  # u = 2^e·m, m in [1, 2)
    mant = bits & _MANTISSA
    high = mant >= _SQRT2_MANTISSA
    k = e + 1 if high else e
    f = _from_bits(mant | ((_BIAS - 1 if high else _BIAS) << 52)) - 1.0
    c = ((1.0 - (u - x)) if e > 0 else (x - (u - 1.0))) / u if e < 54 else 0.0
    if x < _SQRT2_M1:
        k = 0
        f = x
        c = 0.0
    return _log1p_reduced(f, float(k), c)


def _log1p_reduced_formula(f: float, kf: float, c: float) -> float:
    """log(2^k·(1 + f)) + c for 1 + f in [√2/2, √2]: with s = f/(2 + f),
    k·ln2_hi − ((f²/2 − (s·(f²/2 + R(s²)) + (k·ln2_lo + c))) − f) (fdlibm's arrangement)."""
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    big_r = z * (_LP1 + z * (_LP2 + z * (_LP3 + z * (_LP4 + z * (_LP5 + z * (_LP6 + z * _LP7))))))
    return kf * _LN2_HI - ((hfsq - (s * (hfsq + big_r) + (kf * _LN2_LO + c))) - f)


_log1p_reduced = cast(
    "Callable[[float, float, float], float]", compiled(inline="always")(_log1p_reduced_formula)
)

_SQRT2 = 1.4142135623730951


@compiled(inline="always")
def log1p_unit(x: float) -> float:
    """log(1 + x) for float64 x in [0, 1]: :func:`log1p_nonneg`'s formula with its exponent
    k in {0, 1} chosen by a select, so that no integer arithmetic on the bits is left
    (AVX2 has no vector int64-to-double conversion: the general function vectorises poorly).

    u = 1 + x (its rounding c = (x − (u − 1))/u added back), u = 2^k·(1 + g) with 1 + g
    in (√2/2, √2] (g exact: u − 1 or u/2 − 1 by Sterbenz), s = g/(2 + g), then
    log1p(x) = k·ln2_hi − ((g²/2 − (s·(g²/2 + R(s²)) + (k·ln2_lo + c))) − g).
    """
    u = x + 1.0
    f = u - 1.0  # exact (u in [1, 2])
    c = (x - f) / u
    high = u > _SQRT2
    g = u * 0.5 - 1.0 if high else f
    return _log1p_reduced(g, 1.0 if high else 0.0, c)


# -- what a loss module uses ---------------------------------------------------------------------

kernel = compiled(nogil=True)
"""The decorator of a fused kernel (the signature in the module docstring)."""

transcendental_kernel = compiled(nogil=True, fastmath={"contract"})
"""The decorator of a fused kernel built on this module's e^x and log1p (log_loss, softmax):
a·b + c may be fused into one multiply-add (one rounding instead of two). Their results
already differ from NumPy's by an ulp, and contraction shortens the polynomials' dependency
chains, which bound these loops (a vectorised iteration is a long chain of dependent
operations, more than the processor overlaps; a multiplication then an addition take 3 + 3
cycles of latency on Zen 3, a multiply-add 4). Their bits therefore depend on the processor
(with or without FMA instructions) as well as on NumPy's. The piecewise kernels keep
:data:`kernel`: their outputs are bit-identical to the NumPy path.

Whether LLVM fuses a product into an addition depends on the product's other uses, which
differ between a kernel's output specialisations: a product that one output adds to and
another reads would round differently when the second output is not asked for, and each
output must have the same bits whatever else is asked (tests/losses/test_outputs_buffers.py
checks). Such a value goes through memory from a loop of its own (softmax's probabilities).

numba compiles a called function that sets no flags of its own with its caller's flags and
keeps that compilation for the signature: a compiled helper that these kernels call is
inlined (``inline="always"``) or declares its flags (:func:`radd`), so that no plain kernel
inherits contraction from a helper first compiled for one of these."""

# dtypes that compiled code reads: booleans, integers, float32 and float64, native byte order
_COMPILED_KINDS = frozenset("biuf")


def compilable(*arrays: Any) -> bool:
    """True when compiled kernels can read every array as it is (no float16, no foreign byte
    order, C-contiguous)."""
    return all(
        a.dtype.kind in _COMPILED_KINDS
        and a.dtype.isnative
        and a.dtype != np.float16
        and a.flags.c_contiguous
        for a in arrays
    )


# -- the same functions for either float dtype ------------------------------------------------


def exp_nonpos_any(x: float) -> float:  # pragma: no cover - replaced in compiled code
    """e^x for x ≤ 0 in x's dtype: :func:`exp_nonpos` (float64) or
    :func:`losscore._fused32.exp_nonpos32` (float32). Compiled code only."""
    raise NotImplementedError


def log1p_unit_any(x: float) -> float:  # pragma: no cover - replaced in compiled code
    """log(1 + x) for 0 ≤ x ≤ 1 in x's dtype: :func:`log1p_unit` (float64) or
    :func:`losscore._fused32.log1p_unit32` (float32). Compiled code only."""
    raise NotImplementedError


@overload(exp_nonpos_any, inline="always")
def _exp_nonpos_any(x):  # type: ignore[no-untyped-def]  # numba compares signatures
    if x == types.float32:
        return lambda x: exp_nonpos32(x)
    return lambda x: exp_nonpos(x)


@overload(log1p_unit_any, inline="always")
def _log1p_unit_any(x):  # type: ignore[no-untyped-def]  # numba compares signatures
    if x == types.float32:
        return lambda x: log1p_unit32(x)
    return lambda x: log1p_unit(x)


def block_size(acc: float) -> int:  # pragma: no cover - replaced in compiled code
    """Terms per block summed in *acc*'s dtype: :data:`BLOCK32` for float32, else
    :data:`BLOCK`. Compiled code only."""
    raise NotImplementedError


@overload(block_size, inline="always")
def _block_size(acc):  # type: ignore[no-untyped-def]  # numba compares signatures
    if acc == types.float32:
        return lambda acc: BLOCK32
    return lambda acc: BLOCK
