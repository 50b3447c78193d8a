"""Validation and encoding of training inputs (private).

Turns user arrays into a :class:`Dataset`: a float64 feature matrix, the
loss-ready target (real values, ±1 labels or class indices), the per-sample
weights sᵢ and class weights cᵢ, and the sorted ``classes``. Every problem is
reported as a :class:`~losscore.errors.LosscoreError` naming the field and,
where one applies, the first offending index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray, as_numeric, check_finite, first_index
from losscore.errors import InvalidInputError, InvalidParameterError

__all__ = ["ClassWeight", "Dataset", "check_features", "class_table", "encode_dataset"]

ClassWeight = Mapping[Any, float] | str | None


@dataclass(frozen=True)
class Dataset:
    """Validated training data.

    Attributes:
        X: float64 features, shape (n, d), C-contiguous.
        target: real targets (regression), or integer class indices in [0, k) (classification).
        sample_weight: sᵢ ≥ 0, shape (n,), Σ sᵢ > 0, scaled by a power of two so that the
            largest lies in [0.5, 1) (F does not depend on a common factor).
        class_factor: cᵢ = class_weight[yᵢ] per sample (ones for regression).
        classes: sorted distinct labels (classification) or None.
    """

    X: FloatArray
    target: NDArray[Any]
    sample_weight: FloatArray
    class_factor: FloatArray
    classes: NDArray[Any] | None


def check_features(X: Any, *, field: str = "X") -> FloatArray:
    """A finite float64 matrix with n ≥ 1 rows and d ≥ 1 columns."""
    arr = as_numeric(field, X)
    if arr.ndim != 2:
        raise InvalidInputError(
            field, f"must be a 2-d array (n, d), got {arr.ndim}-d shape {list(arr.shape)}"
        )
    n, d = arr.shape
    if n == 0:
        raise InvalidInputError(field, "has no rows (n = 0); at least one sample is needed")
    if d == 0:
        raise InvalidInputError(field, "has no columns (d = 0); at least one feature is needed")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    check_finite(field, out)
    return out


def _check_weights(sample_weight: Any, n: int) -> FloatArray:
    if sample_weight is None:
        return np.ones(n)
    s = as_numeric("sample_weight", sample_weight)
    if s.shape != (n,):
        raise InvalidInputError(
            "sample_weight",
            f"shape {list(s.shape)} does not match the {n} rows of X (expected [{n}])",
        )
    s = np.ascontiguousarray(s, dtype=np.float64)
    check_finite("sample_weight", s)
    neg = s < 0
    if neg.any():
        idx = first_index(neg)
        raise InvalidInputError(
            "sample_weight", f"must be >= 0, found {s[idx].item()!r}", index=idx
        )
    peak = float(s.max())
    if not peak > 0:
        raise InvalidInputError("sample_weight", "all weights are zero; Σ sᵢ must be positive")
    # F = Σ sᵢℓᵢ / Σ sᵢ does not change when every sᵢ is scaled alike: scale by the power of
    # two that brings the largest to [0.5, 1) (exact), so Σ sᵢ neither overflows (1e308 each)
    # nor loses subnormal weights (5e-324 each)
    scaled: FloatArray = np.ldexp(s, -int(np.frexp(peak)[1]))
    return scaled


_LABEL_KINDS = {bool: "booleans", int: "numbers", float: "numbers", str: "strings"}


def _check_label_kinds(y: list[Any] | tuple[Any, ...]) -> None:
    """Labels given as a list are all numbers, all strings or all booleans (NumPy would turn
    a mix silently into strings, or booleans into numbers)."""
    types = set(map(type, y)) - {type(None)}  # a None is reported below, with its index
    kinds = {_LABEL_KINDS.get(t, t.__name__) for t in types}
    if len(kinds) > 1:
        raise InvalidInputError(
            "y",
            "labels must be all numbers, all strings or all booleans; found "
            + " and ".join(sorted(kinds)),
        )


def _labels(y: Any, n: int) -> NDArray[Any]:
    if isinstance(y, list | tuple):
        _check_label_kinds(y)
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("y", f"not a flat array of labels ({exc})") from None
    if arr.ndim != 1:
        raise InvalidInputError(
            "y", f"must be 1-d with one label per row, got shape {list(arr.shape)}"
        )
    if arr.shape[0] != n:
        raise InvalidInputError("y", f"has {arr.shape[0]} labels but X has {n} rows")
    if arr.dtype.kind == "f":
        check_finite("y", arr)
    elif arr.dtype.kind == "O":
        for i, v in enumerate(arr.tolist()):
            if v is None or (isinstance(v, float) and not np.isfinite(v)):
                raise InvalidInputError(
                    "y", f"labels must be defined values, found {v!r}", index=(i,)
                )
        try:
            arr = np.asarray(arr.tolist())
        except (ValueError, TypeError) as exc:  # pragma: no cover - exotic objects
            raise InvalidInputError("y", f"labels are not comparable ({exc})") from None
        if arr.dtype.kind == "O":
            raise InvalidInputError("y", "labels must be all numbers or all strings")
    elif arr.dtype.kind not in "biuUS":
        raise InvalidInputError("y", f"labels must be numbers or strings, got dtype {arr.dtype}")
    return arr


def _class_factors(
    class_weight: ClassWeight, classes: NDArray[Any], codes: NDArray[np.intp]
) -> FloatArray:
    if class_weight is None:
        return np.ones(codes.shape[0])
    counts = np.bincount(codes, minlength=len(classes))
    out: FloatArray = class_table(class_weight, classes, counts)[codes]
    return out


def class_table(
    class_weight: ClassWeight, classes: NDArray[Any], counts: NDArray[Any]
) -> FloatArray:
    """cⱼ per class: ones (None), n / (k·countⱼ) ("balanced", unweighted counts), or the
    mapping's weight for each label named in it (1 for the others), validated."""
    k = len(classes)
    if class_weight is None:
        return np.ones(k)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise InvalidParameterError(
                "class_weight",
                f"must be a mapping label -> weight or 'balanced', got {class_weight!r}",
            )
        counts_f = np.asarray(counts, dtype=np.float64)
        balanced: FloatArray = float(counts_f.sum()) / (k * counts_f)
        return balanced
    if not isinstance(class_weight, Mapping):
        raise InvalidParameterError(
            "class_weight", "must be a mapping label -> weight or 'balanced'"
        )
    per_class = np.ones(k)
    lookup = {str(c): i for i, c in enumerate(classes.tolist())}
    for key, value in class_weight.items():
        i = lookup.get(str(key))
        if i is None:
            raise InvalidParameterError(
                f"class_weight.{key}", f"label {key!r} is not one of the classes {classes.tolist()}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise InvalidParameterError(
                f"class_weight.{key}", f"must be a finite number, got {value!r}"
            )
        if not value > 0:  # a class of weight 0 is absent, as with zero sample weights
            raise InvalidParameterError(
                f"class_weight.{key}",
                f"must be > 0, got {value!r} (to leave a class out, drop its samples)",
            )
        per_class[i] = float(value)
    return per_class


def _encode_labels(labels: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """(sorted distinct labels, index of each label in them), as ``np.unique(...,
    return_inverse=True)``; integer labels over a small range skip the O(n log n) sort."""
    if labels.shape[0] > 0 and (
        labels.dtype.kind == "i" or (labels.dtype.kind == "u" and labels.dtype.itemsize < 8)
    ):
        lo, hi = int(labels.min()), int(labels.max())
        if hi - lo < 1 << 16:
            offset = np.subtract(labels, lo, dtype=np.int64)
            present = np.bincount(offset, minlength=hi - lo + 1) > 0
            lookup = np.cumsum(present, dtype=np.intp)
            lookup -= 1
            classes = (np.flatnonzero(present) + lo).astype(labels.dtype)
            return classes, lookup[offset]
    classes, codes = np.unique(labels, return_inverse=True)
    return classes, codes.astype(np.intp).reshape(-1)


def encode_dataset(
    X: Any,
    y: Any,
    *,
    classification: bool,
    sample_weight: Any = None,
    class_weight: ClassWeight = None,
) -> Dataset:
    """Validate ``X``, ``y`` and the weights; encode labels as indices into ``classes``."""
    Xf = check_features(X)
    n = Xf.shape[0]
    s = _check_weights(sample_weight, n)
    labels = _labels(y, n)
    if not classification:
        if class_weight is not None:
            raise InvalidParameterError("class_weight", "applies to classification only")
        if labels.dtype.kind not in "biuf":
            raise InvalidInputError(
                "y", f"regression targets must be real numbers, got dtype {labels.dtype}"
            )
        target = np.ascontiguousarray(labels, dtype=np.float64)
        return Dataset(Xf, target, s, np.ones(n), None)
    classes, codes = _encode_labels(labels)
    if len(classes) < 2:
        raise InvalidInputError(
            "y", f"classification needs at least two classes, found only {classes.tolist()!r}"
        )
    # without weights every class is present (classes are the labels found)
    present = None if sample_weight is None else np.bincount(codes[s > 0], minlength=len(classes))
    if present is not None and (present == 0).any():
        missing = classes[int(np.argmax(present == 0))]
        raise InvalidInputError(
            "sample_weight", f"every sample of class {missing.item()!r} has weight 0"
        )
    c = _class_factors(class_weight, classes, codes)
    return Dataset(Xf, codes, s, c, classes)
