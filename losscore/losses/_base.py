"""The loss interface: a :class:`Loss` is a spec plus a chunk kernel.

A kernel computes per-element loss ℓ, derivative ∂ℓ/∂f and second derivative
∂²ℓ/∂f² for a contiguous chunk of *validated* inputs and writes them into
caller-owned buffers. Validation (shapes, finiteness, labels, domains) happens
once, in :meth:`Loss.check_prediction` / :meth:`Loss.prepare_target`, before
any kernel runs; the engine in :mod:`losscore.evaluate` handles chunking,
threads, weights and reductions. Solvers call :meth:`Loss.pointwise` directly.

A loss may also give the engine a compiled one-pass chunk kernel (:meth:`Loss.fused`,
:mod:`losscore._fused`): the same ℓ, ∂ℓ/∂f, ∂²ℓ/∂f² per element, with the weighting, the
mean's scale and the sum fused into one loop that writes only the outputs asked for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, check_finite, check_same_shape, first_index
from losscore._fused import FusedKernel
from losscore._parallel import CHUNK_ELEMENTS, chunk_bounds, map_chunks
from losscore.errors import InvalidInputError
from losscore.spec import LossSpec

__all__ = ["Loss", "Ramps"]


class Ramps(NamedTuple):
    """A piecewise-linear loss of one score per sample, as ramps:

        ℓᵢ(f) = cᵢ + gᵢ·f + Σⱼ Δᵢⱼ·max(0, f − κᵢⱼ),   Δᵢⱼ > 0,

    kinks κᵢ₁ ≤ κᵢ₂ ≤ … in each row. ``const`` c and ``slope`` g have shape (n,);
    ``kinks`` κ and ``jumps`` Δ shape (n, J), Fortran-ordered (one contiguous column per
    ramp). The LP, interior-point and smoothing solvers of training read the loss only
    through this form.
    """

    const: FloatArray
    slope: FloatArray
    kinks: FloatArray
    jumps: FloatArray


class Loss(ABC):
    """Base class of every loss. Subclasses set :attr:`spec` and implement :meth:`kernel`.

    For ``regression`` and ``binary`` losses prediction, target, elementwise
    loss and gradient all share one shape. For ``multiclass`` losses the
    prediction has shape ``(..., k)``; the target is either class indices of
    shape ``(...)`` or class probabilities of shape ``(..., k)``; the
    elementwise loss has shape ``(...)`` and the gradient ``(..., k)``.
    """

    spec: ClassVar[LossSpec]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    # -- validation (whole arrays, once) ------------------------------------------------------

    def check_prediction(self, prediction: FloatArray, params: Mapping[str, float]) -> None:  # noqa: B027
        """Raise if *prediction* has values outside the loss's domain (finiteness is checked already).

        The default accepts every finite score.
        """

    def prepare_target(
        self, target: NDArray[Any], prediction: FloatArray, params: Mapping[str, float]
    ) -> NDArray[Any]:
        """Validate *target* against *prediction* and return it flattened for the kernel.

        Default (real-valued targets of the prediction's shape): finite values, cast
        to the prediction's dtype.
        """
        check_finite("target", target)
        return real_target_unchecked(target, prediction)

    def fused_target(
        self, target: NDArray[Any], prediction: FloatArray, params: Mapping[str, float]
    ) -> NDArray[Any] | None:
        """*target* flat for :meth:`fused`, its shape checked but its values not read, when
        this loss's compiled kernel checks them itself in its one pass (its ``probe``,
        :mod:`losscore._fused`); the engine then runs :meth:`prepare_target` only to raise
        the error for a bad value; None: :meth:`prepare_target` checks the target first.
        (Every compiled kernel checks the prediction's finiteness.)

        Derived from ``spec.target``: a compiled kernel checks a real target's finiteness
        and binary labels itself (the contract of :mod:`losscore._fused`); other targets
        (probabilities, class indices) are checked first. Called only for a loss that has a
        compiled kernel."""
        if self.spec.target == "real":
            return real_target_unchecked(target, prediction)
        if self.spec.target == "binary_label":
            return binary_labels_unchecked(target, prediction)
        return None

    def elementwise_shape(self, prediction_shape: tuple[int, ...]) -> tuple[int, ...]:
        return prediction_shape

    # -- what training and the curves need, beyond the spec's data ------------------------------

    def kinks(self, params: Mapping[str, float]) -> list[tuple[float, int]]:
        """(x, order) of every non-twice-differentiable point at *params* (see
        :class:`~losscore.spec.KinkSpec`), sorted, coinciding points merged (lowest order)."""
        found: dict[float, int] = {}
        for k in self.spec.kink_points:
            x = k.location(params) + 0.0  # -0.0 -> 0.0
            found[x] = min(found.get(x, 2), k.order)
        return sorted(found.items())

    def piecewise_linear(self, params: Mapping[str, float]) -> bool:
        """True when, at *params*, ℓ is a piecewise-linear function of one score per sample
        and :meth:`ramps` gives its pieces."""
        return False

    def ramps(self, target: FloatArray, params: Mapping[str, float]) -> Ramps:
        """The ramp form of ℓ(yᵢ, ·) for training targets *target* (reals, or ±1 labels);
        defined where :meth:`piecewise_linear` is true."""
        raise NotImplementedError(f"{self.name} is not piecewise linear")

    def class_major(
        self,
        scores: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
    ) -> tuple[FloatArray, FloatArray]:
        """(ℓ, ∂ℓ/∂f) of a multiclass loss with the classes on the leading axis: *scores*
        (k, n), *target* class indices (n,); returns ℓ (n,) and the gradient (k, n).

        *scores* may be overwritten. Training's per-block function uses this layout (its
        reductions run over k contiguous rows); the default transposes to :meth:`pointwise`.
        ℓ needs absolute accuracy only (it enters a mean, the objective).
        """
        loss, grad, _ = self.pointwise(np.ascontiguousarray(scores.T), target, params)
        return loss, np.ascontiguousarray(grad.T)

    # -- computation --------------------------------------------------------------------------

    @abstractmethod
    def kernel(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        loss_out: FloatArray,
        grad_out: FloatArray,
        hess_out: FloatArray | None,
    ) -> None:
        """Write ℓ, ∂ℓ/∂f and (if *hess_out* is given) ∂²ℓ/∂f² for one chunk.

        Inputs are contiguous and validated; ``loss_out`` has the elementwise
        chunk shape, ``grad_out`` and ``hess_out`` the prediction chunk shape.
        """

    def fused(
        self, prediction: FloatArray, target: NDArray[Any], params: Mapping[str, float]
    ) -> FusedKernel | None:
        """The compiled one-pass chunk kernel for these inputs (validated, flat as
        :meth:`kernel` gets them; the chunks are slices of these) at *params*, or None.

        With None (the default) the engine runs :meth:`kernel` on cache-sized chunks and
        weights and reduces with NumPy. A fused kernel computes the same formulas; it must
        equal :meth:`kernel` bit for bit, or state where it does not (the tests check).
        """
        return None

    def pointwise(
        self,
        prediction: FloatArray,
        target: NDArray[Any],
        params: Mapping[str, float],
        *,
        hessian: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Unreduced, unweighted ℓ, ∂ℓ/∂f, ∂²ℓ/∂f² on already validated, flat inputs.

        The fast path used by solvers: no validation, one kernel call.
        """
        dtype = prediction.dtype
        loss = np.empty(self.elementwise_shape(prediction.shape), dtype=dtype)
        grad = np.empty_like(prediction)
        hess = np.empty_like(prediction) if hessian else None
        # Same floating-point policy as evaluate: overflow to inf where the true value exceeds
        # the float range is documented behaviour, not a warning.
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            self.kernel(prediction, target, params, loss, grad, hess)
        return loss, grad, hess


# -- shared validation helpers for label conventions --------------------------------------------


def check_binary_labels(target: NDArray[Any]) -> None:
    """Labels must be all in {−1, +1} or all in {0, 1}; the first offender is named."""
    if target.size == 0:
        return
    if target.dtype.kind == "b":
        return
    is_pos = target == 1
    is_zero = target == 0
    is_neg = target == -1
    bad = ~(is_pos | is_zero | is_neg)
    if bad.any():
        idx = first_index(bad)
        raise InvalidInputError(
            "target",
            f"binary labels must be in {{-1, +1}} or in {{0, 1}}, found {target[idx].item()!r}",
            index=idx,
        )
    if is_zero.any() and is_neg.any():
        zi, ni = first_index(is_zero), first_index(is_neg)
        raise InvalidInputError(
            "target",
            "binary labels mix the {0, 1} and {-1, +1} conventions "
            f"(0 at index {list(zi)}, -1 at index {list(ni)})",
            index=max(zi, ni),
        )


def signed_labels(target: NDArray[Any], dtype: np.dtype[Any]) -> FloatArray:
    """Map validated labels to ±1 in *dtype*: 1 → +1; 0 and −1 → −1."""
    signed: FloatArray = np.empty(np.shape(target), dtype=dtype)
    np.greater(target, 0, out=signed, casting="unsafe")  # 1.0 / 0.0, no masked select
    signed *= 2
    signed -= 1
    return signed


def real_target_unchecked(target: NDArray[Any], prediction: FloatArray) -> NDArray[Any]:
    """A real-valued target of the prediction's shape, flat in its dtype (values not read)."""
    check_same_shape("target", target, prediction.shape, "prediction")
    return np.ascontiguousarray(target, dtype=prediction.dtype).reshape(-1)


def binary_labels_unchecked(target: NDArray[Any], prediction: FloatArray) -> NDArray[Any]:
    """Binary labels of the prediction's shape, flat, values not read (a compiled kernel
    checks them: 1, 0 or -1, and 0 and -1 not mixed)."""
    check_same_shape("target", target, prediction.shape, "prediction")
    return np.ascontiguousarray(target).reshape(-1)


def binary_labels_ok(target: NDArray[Any]) -> bool:
    """True when :func:`check_binary_labels` accepts *target* (its labels are then finite too).

    One read of *target* in cache-sized blocks on the thread pool, without the full-size
    masks of :func:`check_binary_labels`, which callers run (for its error) when this is False.
    """
    if target.size == 0 or target.dtype.kind == "b":
        return True
    flat = target.reshape(-1)

    def block(lo: int, hi: int) -> tuple[bool, bool, bool]:
        t = flat[lo:hi]
        zero = t == 0
        neg = t == -1
        n_ok = np.count_nonzero(t == 1) + np.count_nonzero(zero) + np.count_nonzero(neg)
        return n_ok == hi - lo, bool(zero.any()), bool(neg.any())

    blocks = map_chunks(block, chunk_bounds(flat.size, CHUNK_ELEMENTS))
    return all(ok for ok, _, _ in blocks) and not (
        any(z for _, z, _ in blocks) and any(n for _, _, n in blocks)
    )


def check_interval(field: str, arr: NDArray[Any], low: float, high: float, what: str) -> None:
    if arr.size == 0:
        return
    bad = (arr < low) | (arr > high)
    if bad.any():
        idx = first_index(bad)
        raise InvalidInputError(
            field, f"{what} must lie in [{low:g}, {high:g}], found {arr[idx].item()!r}", index=idx
        )
