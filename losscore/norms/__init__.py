"""Norms and regularisers: value, a (sub)gradient and the proximal operator.

Public surface::

    evaluate_norm(name, x, *, step=None, **params) -> NormResult
    get_norm(name) / list_norms() / norm_names()

Norms: ``l0``, ``l1``, ``l2``, ``squared_l2``, ``linf``, ``elastic_net(alpha, l1_ratio)``
(entrywise, any shape; ``l2`` of a matrix is the Frobenius norm) and ``nuclear``
(2-D matrices). Each norm's formula, subgradient convention and prox are in its
:class:`~losscore.spec.NormSpec`.

Conventions shared by all:

* The proximal operator is prox_{t·g}(x) = argmin_u g(u) + ‖u − x‖²/(2t), t = ``step`` > 0.
* Dtypes: float32 stays float32 (and float16 becomes float32); float64, integers and
  booleans give float64. Computation is in float64; returned arrays are rounded to
  the result dtype. An array entry is ±inf only where its true value exceeds that
  dtype's range (e.g. ``squared_l2``'s gradient 2x at |x| > max/2).
* ``value`` is a Python float (float64); ``inf`` only when the true value exceeds
  the float64 range (``squared_l2`` of entries ~1e200, say).
* Empty arrays: value 0, empty subgradient and prox. 0-d arrays are length-1 vectors
  for the entrywise norms; ``nuclear`` needs a 2-D array.
* Errors: NaN/±Inf in x → :class:`InvalidInputError` (field ``"x"``, first bad index);
  ``nuclear`` on a non-2-D array → :class:`InvalidInputError` (``"x"``); a step that is
  not a finite number > 0 → :class:`InvalidParameterError` (``"step"``); bad or unknown
  parameters → :class:`InvalidParameterError` (``"norm.<param>"``); an unknown name →
  :class:`UnknownNameError` (``"norm.name"``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscore._arrays import FloatArray, as_numeric, check_finite, common_float_dtype
from losscore._registry import Registry
from losscore.errors import InvalidInputError, InvalidParameterError
from losscore.norms._base import Norm
from losscore.norms.entrywise import ENTRYWISE_NORMS
from losscore.norms.matrix import MATRIX_NORMS
from losscore.spec import NormSpec

__all__ = ["Norm", "NormResult", "evaluate_norm", "get_norm", "list_norms", "norm_names"]

_REGISTRY: Registry[Norm] = Registry("norm", Norm)
for _cls in (*ENTRYWISE_NORMS, *MATRIX_NORMS):
    _REGISTRY.register(_cls())


def norm_names() -> tuple[str, ...]:
    """Canonical names, in catalog order."""
    return _REGISTRY.names()


def get_norm(name: str | Norm, *, field: str = "norm.name") -> Norm:
    """The norm registered under *name* (a canonical name or an alias, case-insensitive)."""
    return _REGISTRY.get(name, field)


def list_norms() -> list[NormSpec]:
    """Every norm's spec, in catalog order."""
    return [norm.spec for norm in _REGISTRY.items()]


@dataclass(frozen=True)
class NormResult:
    """The result of :func:`evaluate_norm`.

    Attributes:
        norm: canonical norm name.
        params: every norm parameter, defaults filled in (empty for parameter-free norms).
        value: g(x) as a Python float.
        subgradient: the documented (sub)gradient, same shape and dtype as the result dtype of x.
        prox: prox_{step·g}(x), or None when no step was given.
        step: the step t used for the prox, or None.
    """

    norm: str
    params: dict[str, float]
    value: float
    subgradient: FloatArray
    prox: FloatArray | None
    step: float | None

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.subgradient.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self.subgradient.shape


def _check_step(step: object) -> float:
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise InvalidParameterError("step", f"must be a number, got {step!r}")
    value = float(step)
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidParameterError("step", f"must be a finite number > 0, got {value!r}")
    return value


def _to_dtype(arr: FloatArray, dtype: np.dtype[Any], shape: tuple[int, ...]) -> FloatArray:
    with np.errstate(over="ignore"):  # only values beyond the dtype's range, which become ±inf
        return np.asarray(arr).astype(dtype, copy=False).reshape(shape)


def evaluate_norm(
    name: str | Norm, x: Any, *, step: float | None = None, **params: Any
) -> NormResult:
    """Value, (sub)gradient and, when *step* is given, the prox of the norm *name* at *x*.

    See the module docstring for dtypes, shapes and errors, and each norm's
    :class:`~losscore.spec.NormSpec` for its formulas and conventions.
    """
    norm = get_norm(name)
    resolved = norm.spec.resolve(params)
    t = None if step is None else _check_step(step)

    raw = as_numeric("x", x)
    dtype = common_float_dtype(raw)
    check_finite("x", raw)
    if norm.matrix_only and raw.ndim != 2:
        raise InvalidInputError(
            "x", f"the {norm.name} norm needs a 2-D matrix, got shape {list(raw.shape)}"
        )
    # A 0-d array is handled as a length-1 vector (ufuncs would turn 0-d results into scalars).
    x64 = np.asarray(raw, dtype=np.float64).reshape(raw.shape or (1,))
    eps = float(np.finfo(dtype).eps)

    value = norm.value(x64, resolved)
    subgradient = _to_dtype(norm.subgradient(x64, resolved, eps=eps), dtype, raw.shape)
    prox = None if t is None else _to_dtype(norm.prox(x64, t, resolved), dtype, raw.shape)
    return NormResult(
        norm=norm.name,
        params=resolved,
        value=value,
        subgradient=subgradient,
        prox=prox,
        step=t,
    )
