"""``numba.njit`` as the solvers' compiled kernels use it (private): :func:`losscore._jit.compiled`
and the solvers' fast-math flags."""

from __future__ import annotations

from losscore._jit import compiled

__all__ = ["FAST", "compiled"]

# reassociation lets the compiler vectorise the length-d dot products (a scalar reduction is
# latency-bound); no flag that assumes finite values or changes the rounding of single ops
FAST = {"reassoc", "contract"}
