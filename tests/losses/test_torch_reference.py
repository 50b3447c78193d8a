"""losscore against PyTorch, from values recorded in tests/reference/torch_reference.json.

The JSON is written by tests/reference/generate_torch_reference.py in an environment with
torch (see its docstring); this test never imports torch. Every recorded case must be mapped
here onto a ``losscore.evaluate`` call — an unknown case fails rather than being skipped.

Mapping and convention differences (converted explicitly, never by loosening a tolerance):

* l1_loss → ``l1``; mse_loss → ``l2`` (no ½ in either); smooth_l1_loss(beta) →
  ``smooth_l1(beta)`` (beta = 0 is l1 in both); huber_loss(delta) → ``huber(delta)``.
* binary_cross_entropy_with_logits → ``log_loss`` with {0, 1} labels; soft_margin_loss →
  ``log_loss`` with ±1 labels (log(1 + e^{−y f})).
* binary_cross_entropy → ``binary_cross_entropy``: both clamp log at −100, so values agree
  everywhere. Gradients differ by design where PyTorch's formula is not the derivative of its
  value: PyTorch returns (p − t) / max(p(1 − p), 1e-12) everywhere, we return the derivative of
  the clamped function (0 for a term whose clamp is active). Gradients are compared only where
  both logs are above −100 and p(1 − p) ≥ 1e-12; elsewhere the test pins our documented values.
* ``weight=`` of the binary losses rescales each element, as ours does, and 'sum'/'none'
  agree. PyTorch's weighted 'mean' divides by N, not by Σw: it is our weighted 'sum' / N.
* cross_entropy with class indices or class-probability targets and label_smoothing s →
  ``softmax_cross_entropy(label_smoothing=s)`` (q = (1 − s)·t + s/k in both).
  Class weights ``weight=c`` with s = 0: PyTorch's 'mean' divides by Σ_i c[y_i], so it is our
  weighted mean with per-sample weights w_i = c[y_i] ('sum' and 'none' as well).
  With s > 0 PyTorch weights the smoothing term per *class*, not per sample:
  ℓ_i = (1 − s)·c[y_i]·ce(f_i, y_i) + (s/k)·Σ_j c[j]·ce(f_i, j), mean divided by Σ_i c[y_i].
  That is not a per-sample weighting, so no single ``evaluate`` call gives it; the test builds
  it from our unweighted per-class losses to confirm that reading of PyTorch.

Tolerances: float64 relative 1e-12; float32 relative 1e-5 (PyTorch sums in float32 in its
own order, we accumulate in float64). On top of that an absolute tolerance of 8 ulps of a
per-element magnitude (``_element_scale``; weighted and reduced like the loss), because some
formulas round absolutely where they cancel: PyTorch's log(1 + e^{−30}) in BCE-with-logits
and σ(x) − y (magnitude 1), its lse(f) − f_y in cross-entropy (magnitude max(1, max_j |f_j|),
i.e. ~1e3 for the row with logits ±1000), and our BCE gradient −t/p + (1 − t)/(1 − p), which
cancels when p ≈ t (magnitude t/p + (1 − t)/(1 − p)).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import losscore

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "torch_reference.json"
CLAMP = -100.0
TORCH_GRAD_EPS = 1e-12  # torch: grad = (p - t) / max(p (1 - p), 1e-12)


@cache
def _reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = _reference()["cases"]
    return cases


def _np_dtype(case: dict[str, Any]) -> Any:
    return {"float64": np.float64, "float32": np.float32}[case["dtype"]]


def _inputs(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    dtype = _np_dtype(case)
    x = np.array(case["input"], dtype=dtype)
    if case["target_kind"] == "class_indices":
        target = np.array(case["target"], dtype=np.int64)
    else:
        target = np.array(case["target"], dtype=dtype)
    weight = None if "weight" not in case else np.array(case["weight"], dtype=dtype)
    return x, target, weight


class Expected:
    """What losscore must produce for one reduction, in PyTorch's convention."""

    def __init__(
        self,
        value: Any,
        grad: np.ndarray,
        hess: np.ndarray | None,
        grad_mask: np.ndarray | None = None,
    ) -> None:
        self.value = value
        self.grad = grad
        self.hess = hess
        self.grad_mask = grad_mask


def _fn(case: dict[str, Any]) -> str:
    name: str = case["function"].removeprefix("torch.nn.functional.")
    return name


def _ours(case: dict[str, Any], reduction: str, hessian: bool) -> Expected:
    """losscore's answer to one recorded case and reduction, converted to PyTorch's terms."""
    fn = _fn(case)
    kw = case["kwargs"]
    x, target, weight = _inputs(case)

    def ev(loss: str, tgt: Any = target, w: Any = None, red: str = reduction, **p: Any) -> Any:
        return losscore.evaluate(loss, x, tgt, weight=w, reduction=red, hessian=hessian, **p)

    def plain(e: Any) -> Expected:
        value = e.elementwise if reduction == "none" else e.value
        return Expected(value, e.gradient, e.hessian)

    if fn == "l1_loss":
        return plain(ev("l1"))
    if fn == "mse_loss":
        return plain(ev("l2"))
    if fn == "smooth_l1_loss":
        return plain(ev("smooth_l1", beta=kw["beta"]))
    if fn == "huber_loss":
        return plain(ev("huber", delta=kw["delta"]))
    if fn == "soft_margin_loss":
        assert set(np.unique(target)) <= {-1.0, 1.0}
        return plain(ev("log_loss"))
    if fn in ("binary_cross_entropy_with_logits", "binary_cross_entropy"):
        ours = "log_loss" if fn == "binary_cross_entropy_with_logits" else "binary_cross_entropy"
        mask = _bce_gradient_mask(x, target) if fn == "binary_cross_entropy" else None
        if weight is not None and reduction == "mean":
            # PyTorch: Σ w·ℓ / N. Ours: Σ w·ℓ / Σ w. Convert from our weighted sum.
            e = ev(ours, w=weight, red="sum")
            n = x.size
            hess = None if e.hessian is None else e.hessian / n
            return Expected(e.value / n, e.gradient / n, hess, mask)
        e = ev(ours, w=weight)
        out = plain(e)
        out.grad_mask = mask
        return out
    if fn == "cross_entropy":
        s = kw["label_smoothing"]
        if weight is None:
            return plain(ev("softmax_cross_entropy", label_smoothing=s))
        assert case["target_kind"] == "class_indices"
        if s == 0.0:
            # PyTorch's class-weighted mean divides by Σ_i c[y_i]: per-sample weights c[y_i].
            return plain(ev("softmax_cross_entropy", w=weight[target]))
        return _torch_class_weighted_smoothed_ce(x, target, weight, s, reduction)
    raise AssertionError(f"no losscore mapping for recorded case {case['id']!r} ({fn})")


def _bce_gradient_mask(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Where PyTorch's BCE gradient is the derivative of its (clamped) value."""
    p64 = p.astype(np.float64)
    with np.errstate(divide="ignore"):
        live = (np.log(p64) > CLAMP) & (np.log1p(-p64) > CLAMP)
    return live & (p64 * (1 - p64) >= TORCH_GRAD_EPS)


def _torch_class_weighted_smoothed_ce(
    x: np.ndarray, y: np.ndarray, c: np.ndarray, s: float, reduction: str
) -> Expected:
    """PyTorch's cross_entropy(weight=c, label_smoothing=s), built from our unweighted losses.

    ℓ_i = (1 − s)·c[y_i]·ce(f_i, y_i) + (s/k)·Σ_j c[j]·ce(f_i, j); 'mean' divides by Σ c[y_i].
    """
    n, k = x.shape
    value = np.zeros(n)
    grad = np.zeros((n, k))
    for j in range(k):
        e = losscore.evaluate("softmax_cross_entropy", x, np.full(n, j), reduction="none")
        coef = (s / k) * c[j] + np.where(y == j, (1 - s) * c[y], 0.0)  # per row
        value += coef * e.elementwise
        grad += coef[:, None] * e.gradient
    if reduction == "none":
        return Expected(value, grad, None)
    denom = float(np.sum(c[y])) if reduction == "mean" else 1.0
    return Expected(float(np.sum(value)) / denom, grad / denom, None)


# ---------------------------------------------------------------------------------------------


def _case_ids() -> list[str]:
    return [c["id"] for c in _cases()]


def _by_id(case_id: str) -> dict[str, Any]:
    return next(c for c in _cases() if c["id"] == case_id)


def _element_scale(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per-element magnitudes (value, gradient) for the absolute part of the tolerance."""
    fn = _fn(case)
    x, target, _ = _inputs(case)
    x64 = np.abs(x.astype(np.float64))
    if fn == "cross_entropy":
        row = np.maximum(1.0, x64.max(axis=1))
        return row, np.ones_like(x64)
    if fn == "binary_cross_entropy":
        p = x.astype(np.float64)
        t = target.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, t / p, 0.0) + np.where(p < 1, (1 - t) / (1 - p), 0.0)
        return np.ones_like(p), np.maximum(1.0, terms)
    # Regression: the same residual and formula on both sides. BCE-with-logits: PyTorch's
    # log(e^{-m} + e^{-x-m}) rounds to a few eps absolutely (x = ±30: value 9.36e-14, error
    # 1.2e-15), and σ(x) − y, σ(x)(1 − σ(x)) likewise. Scale 1 keeps those checks tight.
    return np.ones_like(x64), np.ones_like(x64)


def _reduce_scale(
    scale: np.ndarray, case: dict[str, Any], reduction: str, per_sample_w: np.ndarray | None
) -> Any:
    w = np.ones(scale.shape[0]) if per_sample_w is None else per_sample_w
    ws = scale * (w if scale.ndim == 1 else w[:, None])
    if reduction == "none":
        return ws
    if reduction == "sum":
        return float(np.sum(ws))
    # mean: torch divides by N except for class-weighted cross-entropy (Σ c[y_i])
    fn = _fn(case)
    denom = float(np.sum(w)) if fn == "cross_entropy" and "weight" in case else scale.shape[0]
    return float(np.sum(ws)) / denom


def _per_sample_weight(case: dict[str, Any]) -> np.ndarray | None:
    _, target, weight = _inputs(case)
    if weight is None:
        return None
    w64 = weight.astype(np.float64)
    if _fn(case) == "cross_entropy":
        c_max = float(w64.max())
        return np.full(target.shape[0], c_max)  # the smoothing term mixes all classes
    return w64


def _assert_close(ours: Any, ref: Any, rtol: float, atol: Any, what: str) -> None:
    ours_a = np.asarray(ours, dtype=np.float64)
    ref_a = np.asarray(ref, dtype=np.float64)
    assert ours_a.shape == ref_a.shape, what
    err = np.abs(ours_a - ref_a)
    bound = rtol * np.abs(ref_a) + atol
    if not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.ndim else ()
        raise AssertionError(
            f"{what}: ours {ours_a[worst]!r} vs torch {ref_a[worst]!r} at {worst} "
            f"(|diff| {err[worst]:.3g} > bound {np.asarray(bound)[worst]:.3g})"
        )


@pytest.mark.parametrize("case_id", _case_ids())
def test_matches_torch(case_id: str) -> None:
    case = _by_id(case_id)
    dtype = _np_dtype(case)
    eps = float(np.finfo(dtype).eps)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    value_scale, grad_scale = _element_scale(case)
    psw = _per_sample_weight(case)
    assert case["reductions"], case_id
    for reduction, ref in case["reductions"].items():
        what = f"{case_id}/{reduction}"
        exp = _ours(case, reduction, hessian="hess" in ref)
        grad = np.asarray(exp.grad)
        assert grad.dtype == dtype, f"{what}: dtype {grad.dtype}"
        if reduction == "none":
            assert np.asarray(exp.value).dtype == dtype, what

        v_atol = 8 * eps * _reduce_scale(value_scale, case, reduction, psw)
        g_atol = 8 * eps * _reduce_scale(grad_scale, case, "none", psw)
        if reduction == "mean":
            g_atol = g_atol / _mean_denominator(case)
        _assert_close(exp.value, ref["value"], rtol, v_atol, f"{what} value")

        ref_grad = np.asarray(ref["grad"])
        if exp.grad_mask is not None:
            mask = exp.grad_mask
            assert mask.sum() >= ref_grad.size // 2, "most BCE elements must be compared"
            _assert_close(grad[mask], ref_grad[mask], rtol, g_atol[mask], f"{what} grad")
        else:
            _assert_close(grad, ref_grad, rtol, g_atol, f"{what} grad")

        if "hess" in ref:
            assert exp.hess is not None, what
            assert exp.hess.dtype == dtype, what
            _assert_close(exp.hess, ref["hess"], rtol, g_atol, f"{what} hessian")


def _mean_denominator(case: dict[str, Any]) -> float:
    _, target, weight = _inputs(case)
    if _fn(case) == "cross_entropy" and weight is not None:
        return float(np.sum(weight.astype(np.float64)[target]))
    return float(target.shape[0])


def test_bce_gradient_where_torch_differs() -> None:
    """Our BCE gradient where PyTorch's is not the derivative of its clamped value.

    Pinned from the recorded inputs: the derivative of
    −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)), i.e. a clamped term contributes 0
    and a live one its usual −t/p or (1 − t)/(1 − p).
    """
    case = _by_id("bce")
    p, t, _ = _inputs(case)
    mask = _bce_gradient_mask(p, t)
    assert (~mask).sum() >= 5  # exact 0 and 1, 1e-50 and 1e-13 are all recorded
    ours = losscore.evaluate("binary_cross_entropy", p, t, reduction="none").gradient
    with np.errstate(divide="ignore", invalid="ignore"):
        live_p = np.log(p) > CLAMP
        live_q = np.log1p(-p) > CLAMP
        want = np.where(live_q, (1 - t) / np.where(live_q, 1 - p, 1), 0.0) - np.where(
            live_p, t / np.where(live_p, p, 1), 0.0
        )
    np.testing.assert_allclose(ours[~mask], want[~mask], rtol=1e-15)
    torch_grad = np.asarray(case["reductions"]["none"]["grad"])
    # p = 1e-13, t = 0: PyTorch 1e-13 / 1e-12 = 0.1, the true derivative 1/(1 − p) ≈ 1.
    i = int(np.flatnonzero((p == 1e-13) & (t == 0))[0])
    assert torch_grad[i] == pytest.approx(0.1)
    assert ours[i] == pytest.approx(1.0)
    # values agree everywhere, clamps included (exact 0/1 give 100·t or 100·(1 − t))
    np.testing.assert_allclose(
        losscore.evaluate("binary_cross_entropy", p, t, reduction="none").elementwise,
        case["reductions"]["none"]["value"],
        rtol=1e-12,
        atol=1e-15,
    )


def test_class_weighted_smoothed_ce_is_not_a_per_sample_weighting() -> None:
    """PyTorch's class weights with label smoothing ≠ our per-sample weights w_i = c[y_i]."""
    case = _by_id("ce_indices_class_weight_ls0.1")
    x, y, c = _inputs(case)
    assert c is not None
    ours = losscore.evaluate(
        "softmax_cross_entropy", x, y, weight=c[y], label_smoothing=0.1, reduction="mean"
    )
    torch_mean = case["reductions"]["mean"]["value"]
    assert abs(ours.value - torch_mean) > 1e-3 * abs(torch_mean)


def test_reference_file_metadata() -> None:
    ref = _reference()
    assert ref["torch_version"].startswith("2.")
    assert ref["date"]
    assert REFERENCE.stat().st_size < 300_000
    fns = {_fn(c) for c in _cases()}
    assert fns >= {
        "l1_loss",
        "mse_loss",
        "smooth_l1_loss",
        "huber_loss",
        "binary_cross_entropy_with_logits",
        "binary_cross_entropy",
        "cross_entropy",
        "soft_margin_loss",
    }
    assert {c["dtype"] for c in _cases()} == {"float64", "float32"}
