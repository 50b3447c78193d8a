"""K-fold assignments, reproducible from a seed: plain, stratified by class, grouped.

The three follow the published algorithms of scikit-learn's ``KFold``, ``StratifiedKFold``
and ``GroupKFold`` (same seed, same shuffling: the same folds; the tests check it against
scikit-learn itself), written here so that the library does not depend on scikit-learn:

* plain: indices 0..n−1 (shuffled with ``RandomState(seed).shuffle`` when asked) cut into
  k consecutive runs, the first n mod k one longer;
* stratified: classes numbered by first appearance; fold j takes the class counts of every
  k-th element of the sorted class codes starting at j; each class's fold numbers are laid
  out in blocks (shuffled per class with one ``RandomState(seed)``) over its samples in order;
* grouped: without shuffling, groups by decreasing size (stable), each to the fold with the
  fewest samples so far; with shuffling, ``RandomState(seed).permutation`` of the sorted
  unique groups cut into k runs (``array_split``).

A fold assignment is an integer array: ``folds[i]`` is the test fold of sample i.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore.errors import InvalidParameterError

__all__ = ["check_folds", "group_folds", "kfold", "stratified_folds"]

IntArray = NDArray[np.intp]


def check_folds(cv: Any, n: int) -> int:
    """The number of folds: an integer in [2, n]."""
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer):
        raise InvalidParameterError("cv", f"must be an integer number of folds, got {cv!r}")
    if not 2 <= int(cv) <= n:
        raise InvalidParameterError("cv", f"must be in [2, {n}] (the number of samples)")
    return int(cv)


def kfold(n: int, k: int, *, shuffle: bool, seed: int | None) -> IntArray:
    """Plain k-fold (module docstring)."""
    order = np.arange(n)
    if shuffle:
        np.random.RandomState(seed).shuffle(order)
    sizes = np.full(k, n // k, dtype=np.intp)
    sizes[: n % k] += 1
    folds = np.empty(n, dtype=np.intp)
    folds[order] = np.repeat(np.arange(k), sizes)
    return folds


def stratified_folds(codes: IntArray, k: int, *, shuffle: bool, seed: int | None) -> IntArray:
    """Stratified k-fold of class codes (any integer labels; module docstring)."""
    rng = np.random.RandomState(seed)
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    _, by_appearance = np.unique(first, return_inverse=True)
    encoded = by_appearance[inverse]
    n_classes = first.size
    counts = np.bincount(encoded, minlength=n_classes)
    smallest = int(np.argmin(counts))
    if counts[smallest] < k:
        raise InvalidParameterError(
            "cv",
            f"a class has only {int(counts[smallest])} samples, fewer than the {k} folds: "
            f"every fold must see every class (use fewer folds)",
        )
    ordered = np.sort(encoded)
    allocation = np.array([np.bincount(ordered[j::k], minlength=n_classes) for j in range(k)])
    folds = np.empty(codes.size, dtype=np.intp)
    for c in range(n_classes):
        of_class = np.repeat(np.arange(k), allocation[:, c])
        if shuffle:
            rng.shuffle(of_class)
        folds[encoded == c] = of_class
    return folds


def group_folds(groups: Any, k: int, *, shuffle: bool, seed: int | None) -> IntArray:
    """Grouped k-fold: no group in two folds (module docstring)."""
    g = np.asarray(groups)
    unique, index = np.unique(g, return_inverse=True)
    if unique.size < k:
        raise InvalidParameterError(
            "groups", f"has {unique.size} distinct groups, fewer than the {k} folds"
        )
    if shuffle:
        parts = np.array_split(np.random.RandomState(seed).permutation(unique), k)
        fold_of = np.empty(unique.size, dtype=np.intp)
        for j, part in enumerate(parts):
            fold_of[np.searchsorted(unique, part)] = j
        return fold_of[index]
    sizes = np.bincount(index)
    order = np.argsort(sizes, kind="stable")[::-1]
    load = np.zeros(k)
    fold_of = np.zeros(unique.size, dtype=np.intp)
    for group in order:
        j = int(np.argmin(load))
        load[j] += sizes[group]
        fold_of[group] = j
    return fold_of[index]
