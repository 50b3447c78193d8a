"""What runs on the workers: one function per kind of pass over one block of rows (private).

Every function here takes one block (``Part``: the rows of one chunk or partition, as it
lives on a worker) and returns small sums — never rows — that the driver tree-reduces:

* :func:`census`: the checks (finite features, weights, labels), row count, label counts,
  the largest weight, and the weighted column :func:`moments` (merged with Chan et al.'s
  update) — the first and only pass before the solver's;
* :func:`loss_sums`: ℓ and gradient sums at one coefficient vector (one per solver step),
  through :func:`losscore.train._problem.chunk_sums`, the same per-block function as the
  in-memory fit;
* :func:`jump_sum`: Σ aᵢ Σⱼ Δᵢⱼ of a piecewise-linear loss (its smoothing bound);
* :func:`report`: objectives and the training metrics at the solution (the last pass).

A block is a tuple ``(X, y, s)`` of NumPy arrays (from Dask arrays) or a pandas DataFrame
with the columns named by a :class:`Columns` (from a Dask DataFrame); :func:`rows` gives
both as arrays. Targets are derived per block from the raw labels (:class:`Target`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore._arrays import FloatArray
from losscore.errors import InvalidInputError
from losscore.train._problem import PointwiseLoss, chunk_sums

__all__ = [
    "Columns",
    "Target",
    "census",
    "jump_sum",
    "loss_sums",
    "moments",
    "report",
    "rows",
]

MAX_LABELS = 100_000  # distinct labels a census keeps (classification), per block and merged


@dataclass(frozen=True)
class Columns:
    """Column names of a DataFrame source: features, target and (optionally) weight."""

    features: tuple[str, ...]
    target: str
    weight: str | None = None


def rows(part: Any, columns: Columns | None) -> tuple[FloatArray, NDArray[Any], FloatArray | None]:
    """(X, y, s) of one block as arrays (s None: unit weights)."""
    if columns is None:
        X, y, s = part
        return np.asarray(X, dtype=np.float64), np.asarray(y), s
    X = _numeric(part, list(columns.features), "features")
    y = part[columns.target].to_numpy()
    s = None if columns.weight is None else _numeric(part, [columns.weight], "sample_weight")[:, 0]
    return X, y, s


def _numeric(frame: Any, names: list[str], field: str) -> FloatArray:
    try:
        out: FloatArray = frame[names].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(c for c in names if frame[c].dtype.kind not in "biuf")
        raise InvalidInputError(
            field, f"column {bad!r} is not numeric (dtype {frame[bad].dtype})"
        ) from None
    return out


@dataclass(frozen=True)
class Target:
    """How a block's labels become the loss's target: real values (regression), ±1 for one
    class against the rest (``positive``), or class indices (multinomial). ``classes`` are
    the sorted labels, ``class_factor`` cᵢ per class, ``weight_scale`` the power of two that
    every sᵢ is multiplied by (the in-memory fit's weight normalisation)."""

    kind: str  # "real" | "pm1" | "codes"
    classes: NDArray[Any] | None = None
    class_factor: FloatArray | None = None
    positive: int = 1
    weight_scale: float = 1.0

    def codes(self, y: NDArray[Any]) -> NDArray[np.intp]:
        assert self.classes is not None
        return np.searchsorted(self.classes, y).astype(np.intp)

    def of(self, y: NDArray[Any]) -> tuple[NDArray[Any], FloatArray]:
        """(target, class factors cᵢ) of one block."""
        if self.kind == "real":
            return np.asarray(y, dtype=np.float64), np.ones(y.shape[0])
        assert self.class_factor is not None and self.classes is not None
        factor = self.class_factor
        if self.kind == "pm1" and y.dtype.kind in "biuf" and (factor == factor[0]).all():
            # one factor for every class: a comparison instead of a search for the codes
            t = np.where(y == self.classes[self.positive], 1.0, -1.0)
            return t, np.full(y.shape[0], factor[0])
        codes = self.codes(y)
        c = self.class_factor[codes]
        if self.kind == "codes":
            return codes, c
        return np.where(codes == self.positive, 1.0, -1.0), c

    def weights(self, s: FloatArray | None, n: int) -> FloatArray:
        if s is None:
            return np.full(n, self.weight_scale)
        return s * self.weight_scale


# ---- pass 1: checks, counts, labels ----------------------------------------------------


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def census(part: Any, columns: Columns | None, classification: bool) -> dict[str, Any]:
    """Row count, the first problem found (field, reason, index within the block), the largest
    weight, and labels with their counts (all rows; rows of positive weight) or, for
    regression, whether every target is a finite real number."""
    X, y, s = rows(part, columns)
    n = int(X.shape[0])
    out: dict[str, Any] = {
        "n": [n],
        "problem": [None],
        "s_max": 0.0,
        "d": int(X.shape[1]),
        "labels": {},
        "moments": moments(X[:0], None, None),
    }
    if n == 0:
        return out
    if X.ndim != 2:
        out["problem"] = [("X", f"a block of rows has shape {list(X.shape)}", None)]
        return out
    bad = ~np.isfinite(X)
    if bad.any():
        i = _first_bad(bad)
        out["problem"] = [("X", f"must be finite, found {X[i].item()!r}", i)]
        return out
    if y.shape != (n,):
        out["problem"] = [("y", f"a block has {y.shape} targets for {n} rows", None)]
        return out
    if s is not None:
        if s.shape != (n,) or not np.isfinite(s).all() or (s < 0).any():
            badw = ~np.isfinite(s) | (s < 0)
            i = _first_bad(badw)
            out["problem"] = [
                ("sample_weight", f"must be finite and >= 0, found {s[i].item()!r}", i)
            ]
            return out
        out["s_max"] = float(s.max())
    else:
        out["s_max"] = 1.0
    if not classification:
        if y.dtype.kind not in "biuf":
            out["problem"] = [
                ("y", f"regression targets must be real numbers, got {y.dtype}", None)
            ]
        elif not np.isfinite(y).all():
            i = _first_bad(~np.isfinite(y))
            out["problem"] = [("y", f"must be finite, found {y[i].item()!r}", i)]
        else:
            out["moments"] = moments(X, np.asarray(y, dtype=np.float64), s)
        out["labels"] = {}
        return out
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = _first_bad(~np.isfinite(y))
        out["problem"] = [("y", f"labels must be defined values, found {y[i].item()!r}", i)]
        return out
    if y.dtype.kind == "O":
        y = y.astype(str)
    labels, counts = np.unique(y, return_counts=True)
    live = np.unique(y[s > 0]) if s is not None else labels
    if labels.shape[0] > MAX_LABELS:
        out["problem"] = [("y", f"has more than {MAX_LABELS:,} distinct labels", None)]
        return out
    out["labels"] = {
        lab: [int(c), 0] for lab, c in zip(labels.tolist(), counts.tolist(), strict=True)
    }
    for lab in live.tolist():
        out["labels"][lab][1] = 1
    out["moments"] = moments(X, None, s)
    return out


def merge_census(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": [], "problem": [], "s_max": 0.0, "labels": {}, "d": parts[0]["d"]}
    out["moments"] = merge_moments(*(p["moments"] for p in parts))
    for p in parts:
        out["n"] += p["n"]
        out["problem"] += p["problem"]
        out["s_max"] = max(out["s_max"], p["s_max"])
        if p["d"] != out["d"]:
            out["problem"] += [("X", f"blocks have {out['d']} and {p['d']} columns", None)]
        for lab, (count, live) in p["labels"].items():
            have = out["labels"].setdefault(lab, [0, 0])
            have[0] += count
            have[1] |= live
        if len(out["labels"]) > MAX_LABELS:
            out["problem"] += [("y", f"has more than {MAX_LABELS:,} distinct labels", None)]
            out["labels"] = {}
    return out


# ---- moments (in the census pass) --------------------------------------------------------


MOMENT_ROWS = 8192


def moments(X: FloatArray, y: FloatArray | None, s: FloatArray | None) -> tuple[Any, ...]:
    """(W, mean, M, first row, ȳ, M_y) of a block's valid rows: W = Σ sᵢ (1 without weights),
    the weighted column means and M = Σ sᵢ(x − m)², its first row, and the same moments of the
    regression targets y (None: classification, zeros). The map to solver coordinates uses
    M / W only, so the weights' power-of-two normalisation (known after the census) is not
    needed here."""
    d = X.shape[1] if X.ndim == 2 else 0
    p = np.ones(X.shape[0]) if s is None else s
    W = float(p.sum())
    if X.shape[0] == 0 or W <= 0:
        first = X[0] if X.shape[0] else np.full(d, np.nan)
        return 0.0, np.zeros(d), np.zeros(d), first, 0.0, 0.0
    mean = (p @ X) / W
    M = np.zeros(d)
    dev = np.empty((min(X.shape[0], MOMENT_ROWS), d))  # reused: no block-sized temporary
    for lo in range(0, X.shape[0], MOMENT_ROWS):
        rows_dev = dev[: min(MOMENT_ROWS, X.shape[0] - lo)]
        np.subtract(X[lo : lo + MOMENT_ROWS], mean, out=rows_dev)
        np.square(rows_dev, out=rows_dev)
        M += p[lo : lo + MOMENT_ROWS] @ rows_dev
    if y is None:
        return W, mean, M, X[0], 0.0, 0.0
    ybar = float(p @ y) / W
    return W, mean, M, X[0], ybar, float(p @ np.square(y - ybar))


def merge_moments(*parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """Chan et al.'s pairwise update: no Σx² − m² cancellation."""
    W, mean, M, first, ybar, My = parts[0]
    mean, M = mean.copy(), M.copy()
    for Wb, mb, Mb, fb, yb, Myb in parts[1:]:
        if Wb <= 0:
            continue
        if W <= 0:
            W, mean, M, first, ybar, My = Wb, mb.copy(), Mb.copy(), fb, yb, Myb
            continue
        Wn = W + Wb
        delta = mb - mean
        M += Mb + delta * delta * (W * Wb / Wn)
        mean += delta * (Wb / Wn)
        dy = yb - ybar
        My += Myb + dy * dy * (W * Wb / Wn)
        ybar += dy * (Wb / Wn)
        W = Wn
    return W, mean, M, first, ybar, My


# ---- solver passes -------------------------------------------------------------------------


def loss_sums(
    part: Any,
    columns: Columns | None,
    target: Target,
    loss: PointwiseLoss,
    params: Mapping[str, float],
    coef: FloatArray,
    intercept: FloatArray,
) -> tuple[float, FloatArray, FloatArray, float]:
    """(Σ wᵢℓᵢ, Σ wᵢ∂ℓᵢ·xᵢ, Σ wᵢ∂ℓᵢ, Σ sᵢ) at raw-unit coefficients (w = s·c)."""
    X, y, s = rows(part, columns)
    if X.shape[0] == 0:
        return 0.0, np.zeros_like(coef), np.zeros_like(intercept), 0.0
    t, c = target.of(y)
    sums = chunk_sums(loss, params, X, t, target.weights(s, X.shape[0]), c, coef, intercept)
    return sums.loss_sum, sums.grad_coef, sums.grad_intercept, sums.weight_sum


def add(*parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """Entrywise sum of tuples of numbers and arrays."""
    out = list(parts[0])
    for p in parts[1:]:
        for i, v in enumerate(p):
            out[i] = out[i] + v
    return tuple(out)


def jump_sum(
    part: Any, columns: Columns | None, target: Target, pl: Any
) -> tuple[float, float, float]:
    """(Σ wᵢ Σⱼ Δᵢⱼ, Σ wᵢℓᵢ(0), Σ sᵢ) of a piecewise-linear loss (``pl.ramps(t)``: its pieces;
    ℓᵢ(0) = cᵢ + Σⱼ Δᵢⱼ·max(0, −κᵢⱼ), the exact loss at zero scores)."""
    X, y, s = rows(part, columns)
    if X.shape[0] == 0:
        return 0.0, 0.0, 0.0
    t, cf = target.of(y)
    s_full = target.weights(s, X.shape[0])
    w = s_full * cf
    c, _, K, D = pl.ramps(np.asarray(t, dtype=np.float64))
    at_zero = c + np.sum(D * np.maximum(-K, 0.0), axis=1)
    return float(w @ np.sum(D, axis=1)), float(w @ at_zero), float(s_full.sum())


def report(
    part: Any,
    columns: Columns | None,
    targets: Sequence[Target],
    loss: PointwiseLoss,
    params: Mapping[str, float],
    coefs: Sequence[FloatArray],
    intercepts: Sequence[FloatArray],
    k: int,
) -> tuple[Any, ...]:
    """Per problem Σ wᵢℓᵢ and Σ sᵢ at the solution, and the metrics' sums: the confusion
    matrix (classification) or (n, Σr², Σ|r|, Chan moments of y) (regression)."""
    X, y, s = rows(part, columns)
    n = X.shape[0]
    losses = np.zeros(len(targets))
    weights = np.zeros(len(targets))
    scores = []
    for i, (tg, W, b) in enumerate(zip(targets, coefs, intercepts, strict=True)):
        if n == 0:
            scores.append(np.zeros((0,) if W.ndim == 1 else (0, W.shape[0])))
            continue
        t, c = tg.of(y)
        f = np.empty((n,) if W.ndim == 1 else (n, W.shape[0]))
        sums = chunk_sums(loss, params, X, t, tg.weights(s, n), c, W, b, scores_out=f)
        losses[i], weights[i] = sums.loss_sum, sums.weight_sum
        scores.append(f)
    if targets[0].kind == "real":
        yf = np.asarray(y, dtype=np.float64)
        r = scores[0] - yf if n else np.zeros(0)
        ybar = float(yf.mean()) if n else 0.0
        stats = (
            float(n),
            float(r @ r),
            float(np.abs(r).sum()),
            ybar,
            float(np.square(yf - ybar).sum()),
        )
        return losses, weights, None, stats
    codes = targets[0].codes(y)
    if n == 0:
        pred = np.zeros(0, dtype=np.intp)
    elif len(scores) == 1 and scores[0].ndim == 1:
        pred = (scores[0] > 0).astype(np.intp)
    else:
        S = scores[0] if len(scores) == 1 else np.column_stack(scores)
        pred = np.argmax(S, axis=1)
    confusion = np.bincount(codes * k + pred, minlength=k * k).reshape(k, k)
    return losses, weights, confusion, None


def merge_report(*parts: tuple[Any, ...]) -> tuple[Any, ...]:
    losses, weights, confusion, stats = parts[0]
    losses, weights = losses.copy(), weights.copy()
    for lb, wb, cb, sb in parts[1:]:
        losses += lb
        weights += wb
        if confusion is not None:
            confusion = confusion + cb
        else:
            n, sse, sae, ybar, m2 = stats
            nb, sseb, saeb, ybarb, m2b = sb
            tot = n + nb
            if tot > 0:
                delta = ybarb - ybar
                m2 = m2 + m2b + delta * delta * (n * nb / tot)
                ybar = ybar + delta * (nb / tot)
            stats = (tot, sse + sseb, sae + saeb, ybar, m2)
    return losses, weights, confusion, stats


def raise_problem(problem: tuple[str, str, tuple[int, ...] | None], offset: int) -> None:
    """The census's first problem as the in-memory fit's error (global row index)."""
    field, reason, index = problem
    if index is not None:
        index = (index[0] + offset, *index[1:])
    raise InvalidInputError(field, reason, index=index)


def kink_terms(
    part: Any,
    columns: Columns | None,
    target: Target,
    pl: Any,
    coef: FloatArray,
    intercept: FloatArray,
    limit: int,
) -> tuple[Any, ...]:
    """The partition of a piecewise-linear loss's ramp terms at one point (smoothing width
    ``pl.mu``): (Σ wᵢgfixᵢxᵢ, Σ wᵢgfixᵢ, Σ sᵢ, max |κ|, number of terms at a kink, and — while
    that number is within ``limit`` — those terms: rows x, weights w, kinks κ, jumps Δ).
    gfixᵢ = gᵢ + Σⱼ Δᵢⱼ·[term j on], the slope of row i with its kink terms left out."""
    X, y, s = rows(part, columns)
    d = X.shape[1]
    if X.shape[0] == 0:
        return np.zeros(d), 0.0, 0.0, 0.0, 0, [], [], [], []
    t, c = target.of(y)
    s_full = target.weights(s, X.shape[0])
    w = s_full * c
    f = X @ coef
    f += intercept[0]
    _, g, K, D = pl.ramps(np.asarray(t, dtype=np.float64))
    U = f[:, None] - K
    live = (D > 0) & (w > 0)[:, None]
    half = 0.5 * pl.mu
    at = live & (np.abs(U) < half)
    on = live & (half <= U)
    gfix = g + np.sum(D * on, axis=1)
    wg = w * gfix
    ei, ej = np.nonzero(at)
    peak = float(np.max(np.abs(K))) if K.size else 0.0
    head = (X.T @ wg, float(wg.sum()), float(s_full.sum()), peak, int(ei.shape[0]))
    if ei.shape[0] > limit:
        return (*head, None, None, None, None)
    return (*head, [X[ei]], [w[ei]], [K[ei, ej]], [D[ei, ej]])


def merge_kinks(*parts: tuple[Any, ...]) -> tuple[Any, ...]:
    r0, r0b, W, peak, count, xs, ws, ks, ds = parts[0]
    r0 = r0.copy()
    xs, ws, ks, ds = (None if v is None else list(v) for v in (xs, ws, ks, ds))
    for p in parts[1:]:
        r0 += p[0]
        r0b += p[1]
        W += p[2]
        peak = max(peak, p[3])
        count += p[4]
        if xs is None or p[5] is None:
            xs = ws = ks = ds = None
        else:
            assert ws is not None and ks is not None and ds is not None
            xs += p[5]
            ws += p[6]
            ks += p[7]
            ds += p[8]
    return r0, r0b, W, peak, count, xs, ws, ks, ds


def kink_check(
    part: Any,
    columns: Columns | None,
    target: Target,
    pl: Any,
    old: tuple[FloatArray, FloatArray],
    new: tuple[FloatArray, FloatArray],
    ftol: float,
) -> tuple[int, float, float, float]:
    """Whether the partition read at ``old`` (raw coefficients, intercept) holds at ``new``:
    (terms that crossed their kink, the largest |f − κ| of the kink terms at ``new``, Σ wᵢℓᵢ
    of the exact loss at ``new``, Σ sᵢ)."""
    X, y, s = rows(part, columns)
    if X.shape[0] == 0:
        return 0, 0.0, 0.0, 0.0
    t, c = target.of(y)
    tf = np.asarray(t, dtype=np.float64)
    s_full = target.weights(s, X.shape[0])
    w = s_full * c
    ramps = pl.ramps(tf)
    K, D = ramps[2], ramps[3]
    f_old = X @ old[0] + old[1][0]
    f_new = X @ new[0] + new[1][0]
    U_old = f_old[:, None] - K
    U_new = f_new[:, None] - K
    live = (D > 0) & (w > 0)[:, None]
    half = 0.5 * pl.mu
    at = live & (np.abs(U_old) < half)
    on = live & (U_old >= half)
    off = live & ~on & ~at
    crossed = int(np.count_nonzero(on & (U_new < -ftol)) + np.count_nonzero(off & (U_new > ftol)))
    resid = float(np.max(np.abs(U_new[at]), initial=0.0))
    exact = pl.with_mu(0.0)
    ell, _, _ = exact.evaluate(f_new, ramps, value_only=True)
    return crossed, resid, float(w @ ell), float(s_full.sum())


# ---- the band of a piecewise-linear loss (see _band) ---------------------------------------


def _band_partition(
    X: FloatArray, t: NDArray[Any], w: FloatArray, pl: Any, coef: FloatArray, b: FloatArray
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
    """(live terms, U = f − κ per term, the ramps' g and Δ) at raw coefficients (coef, b)."""
    f = X @ coef
    f += b[0]
    _, g, K, D = pl.ramps(np.asarray(t, dtype=np.float64))
    U = f[:, None] - K
    live = (D > 0) & (w > 0)[:, None]
    return live, U, g, D


def band_rows(
    part: Any,
    columns: Columns | None,
    target: Target,
    pl: Any,
    coef: FloatArray,
    intercept: FloatArray,
    width: float,
    limit: int,
) -> tuple[Any, ...]:
    """The rows with a ramp term within ``width`` of its kink (the band) and the sums of the
    others: (Σ wᵢgfixᵢxᵢ, Σ wᵢgfixᵢ and Σ wᵢcfixᵢ over rows outside the band, Σ sᵢ over all,
    the band's row count, and — while it is within ``limit`` — its rows x, targets t and
    weights w). A row outside the band is on the affine piece cfixᵢ + gfixᵢ·f of its loss:
    gfixᵢ = gᵢ + Σⱼ Δᵢⱼ·[term j on], cfixᵢ = cᵢ − Σⱼ Δᵢⱼκᵢⱼ·[term j on]."""
    X, y, s = rows(part, columns)
    d = X.shape[1]
    if X.shape[0] == 0:
        return np.zeros(d), 0.0, 0.0, 0.0, 0, [], [], []
    t, c = target.of(y)
    s_full = target.weights(s, X.shape[0])
    w = s_full * c
    tf = np.asarray(t, dtype=np.float64)
    live, U, g, D = _band_partition(X, t, w, pl, coef, intercept)
    band = np.any(live & (np.abs(U) < width), axis=1)
    on = live & (width <= U)
    w_fixed = np.where(band, 0.0, w)
    wg = w_fixed * (g + np.sum(D * on, axis=1))
    c0, _, K, _ = pl.ramps(tf)
    w_const = float(w_fixed @ (c0 - np.sum(np.where(on, D * K, 0.0), axis=1)))
    count = int(np.count_nonzero(band))
    head = (X.T @ wg, float(wg.sum()), w_const, float(s_full.sum()), count)
    if count > limit:
        return (*head, None, None, None)
    return (*head, [X[band]], [tf[band]], [w[band]])


def merge_band(*parts: tuple[Any, ...]) -> tuple[Any, ...]:
    r0, r0b, const, W, count, xs, ts, ws = parts[0]
    r0 = r0.copy()
    lists = None if xs is None else [list(xs), list(ts), list(ws)]
    for p in parts[1:]:
        r0 += p[0]
        r0b += p[1]
        const += p[2]
        W += p[3]
        count += p[4]
        if lists is None or p[5] is None:
            lists = None
        else:
            for have, more in zip(lists, p[5:], strict=True):
                have += more
    return (r0, r0b, const, W, count, *(lists if lists is not None else (None, None, None)))


def band_check(
    part: Any,
    columns: Columns | None,
    target: Target,
    pl: Any,
    old: tuple[FloatArray, FloatArray],
    new: tuple[FloatArray, FloatArray],
    width: float,
    ftol: float,
) -> tuple[int, float, float]:
    """Whether every row outside the band read at ``old`` keeps each term's side at ``new``:
    (terms that crossed their kink, Σ wᵢℓᵢ of the exact loss at ``new``, Σ sᵢ)."""
    X, y, s = rows(part, columns)
    if X.shape[0] == 0:
        return 0, 0.0, 0.0
    t, c = target.of(y)
    s_full = target.weights(s, X.shape[0])
    w = s_full * c
    live, U_old, _, _ = _band_partition(X, t, w, pl, *old)
    fixed = live & ~np.any(live & (np.abs(U_old) < width), axis=1)[:, None]
    f_new = X @ new[0] + new[1][0]
    ramps = pl.ramps(np.asarray(t, dtype=np.float64))
    U_new = f_new[:, None] - ramps[2]
    on = fixed & (U_old >= width)
    off = fixed & (U_old <= -width)
    crossed = int(np.count_nonzero(on & (U_new < -ftol)) + np.count_nonzero(off & (U_new > ftol)))
    ell, _, _ = pl.with_mu(0.0).evaluate(f_new, ramps, value_only=True)
    return crossed, float(w @ ell), float(s_full.sum())
