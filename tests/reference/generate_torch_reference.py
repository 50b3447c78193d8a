"""Record PyTorch loss values and derivatives as JSON, for tests/losses/test_torch_reference.py.

Run in a throw-away environment that has torch; the test suite itself never imports torch::

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchenv/bin/python tests/reference/generate_torch_reference.py

This writes ``tests/reference/torch_reference.json`` next to this script. The file holds
PyTorch facts only — the function called, its keyword arguments, the inputs and what PyTorch
returned; how each case maps onto ``losscore.evaluate`` (and where PyTorch's convention
differs from ours) lives in the test.

Each case records, for every reduction in ``reductions``:

* ``value``: the output (a list for ``"none"``, a number otherwise);
* ``grad``: d value / d input via autograd (for ``"none"``: the gradient of ``out.sum()``,
  i.e. the per-element derivative);
* ``hess`` (cases with ``second_derivative``): the diagonal of the Hessian of the reduced
  value w.r.t. the input, by a second autograd pass (per class column for cross-entropy, whose
  Hessian is block diagonal, not diagonal).

Inputs come from a seeded NumPy generator; float64 values are written with ``repr``
precision (JSON numbers round-trip exactly); float32 cases store the float32 values widened
to float64 exactly.
"""

from __future__ import annotations

import datetime
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual PyTorch spelling)

OUT = Path(__file__).with_name("torch_reference.json")
SEED = 20240611
N = 24  # elements per regression / binary case
ROWS, K = 10, 5  # cross-entropy cases: (ROWS, K) logits

DTYPES = {"float64": torch.float64, "float32": torch.float32}
NP_DTYPES = {"float64": np.float64, "float32": np.float32}


def _list(t: torch.Tensor | np.ndarray) -> Any:
    arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    out = arr.astype(np.float64).tolist()
    flat = np.asarray(out, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("non-finite value in a reference case")
    return out


def _hessian_diag(grad: torch.Tensor, x: torch.Tensor, per_row: bool) -> torch.Tensor:
    """Diagonal of d grad / d x. Elementwise losses: one pass (the Hessian is diagonal).

    Cross-entropy couples the classes of one row, so column c of the diagonal comes from the
    gradient of grad[:, c].sum() (rows stay independent).
    """
    if not per_row:
        (h,) = torch.autograd.grad(grad.sum(), x, retain_graph=True)
        return h
    cols = []
    for c in range(x.shape[-1]):
        (hc,) = torch.autograd.grad(grad[..., c].sum(), x, retain_graph=True)
        cols.append(hc[..., c])
    return torch.stack(cols, dim=-1)


def record(
    case_id: str,
    fn_name: str,
    inputs: dict[str, np.ndarray],
    kwargs: dict[str, Any],
    *,
    dtype: str = "float64",
    reductions: tuple[str, ...] = ("mean", "sum", "none"),
    second_derivative: bool = False,
    note: str = "",
) -> dict[str, Any]:
    """Call ``torch.nn.functional.<fn_name>(input, target, **kwargs)`` for each reduction.

    ``inputs`` holds ``input`` (differentiated), ``target`` and optionally ``weight``;
    an integer ``target`` (class indices) stays int64.
    """
    fn = getattr(F, fn_name)
    tdtype = DTYPES[dtype]
    target_np = inputs["target"]
    target_is_index = target_np.dtype.kind in "iu"
    result: dict[str, Any] = {
        "id": case_id,
        "function": f"torch.nn.functional.{fn_name}",
        "kwargs": kwargs,
        "dtype": dtype,
        "input": _list(inputs["input"].astype(NP_DTYPES[dtype])),
        "target": target_np.tolist()
        if target_is_index
        else _list(target_np.astype(NP_DTYPES[dtype])),
        "target_kind": "class_indices" if target_is_index else "values",
        "note": note,
        "reductions": {},
    }
    if "weight" in inputs:
        result["weight"] = _list(inputs["weight"].astype(NP_DTYPES[dtype]))
    for reduction in reductions:
        x = torch.tensor(inputs["input"], dtype=tdtype, requires_grad=True)
        target = (
            torch.tensor(target_np, dtype=torch.int64)
            if target_is_index
            else torch.tensor(target_np, dtype=tdtype)
        )
        extra = dict(kwargs)
        if "weight" in inputs:
            extra["weight"] = torch.tensor(inputs["weight"], dtype=tdtype)
        out = fn(x, target, reduction=reduction, **extra)
        assert out.dtype == tdtype
        total = out.sum() if reduction == "none" else out
        (grad,) = torch.autograd.grad(total, x, create_graph=second_derivative)
        entry: dict[str, Any] = {"value": _list(out), "grad": _list(grad)}
        if second_derivative:
            per_row = fn_name == "cross_entropy"
            entry["hess"] = _list(_hessian_diag(grad, x, per_row))
        result["reductions"][reduction] = entry
    return result


def main() -> None:
    rng = np.random.default_rng(SEED)
    cases: list[dict[str, Any]] = []

    def normal(*shape: int, scale: float = 1.0) -> np.ndarray:
        return rng.normal(0.0, scale, size=shape)

    # ---- regression -------------------------------------------------------------------------
    y = normal(N, scale=2.0)
    r = normal(N, scale=1.5)
    r[:3] = 0.0  # exact zeros: torch's sign(0) = 0 gradient, as ours
    cases.append(record("l1", "l1_loss", {"input": y + r, "target": y}, {}))

    y, r = normal(N, scale=2.0), normal(N, scale=1.5)
    cases.append(
        record("mse", "mse_loss", {"input": y + r, "target": y}, {}, second_derivative=True)
    )

    for beta in (1.0, 0.5, 0.0):
        y, r = normal(N, scale=2.0), normal(N, scale=1.5)
        if beta:
            # the |r| = beta boundary, exactly: value and gradient are continuous there
            y[:2], r[:2] = 0.0, (beta, -beta)
        cases.append(
            record(
                f"smooth_l1_beta{beta}",
                "smooth_l1_loss",
                {"input": y + r, "target": y},
                {"beta": beta},
                note="beta = 0 is l1 in PyTorch too" if beta == 0 else "",
            )
        )
    # Hessians away from |r| = beta (the second derivative jumps there)
    y, r = normal(N, scale=2.0), normal(N, scale=1.5)
    r[np.abs(np.abs(r) - 1.0) < 1e-3] += 0.01
    cases.append(
        record(
            "smooth_l1_beta1.0_hessian",
            "smooth_l1_loss",
            {"input": y + r, "target": y},
            {"beta": 1.0},
            second_derivative=True,
        )
    )

    for delta in (1.0, 2.0):
        y, r = normal(N, scale=2.0), normal(N, scale=2.5)
        r[np.abs(np.abs(r) - delta) < 1e-3] += 0.01
        cases.append(
            record(
                f"huber_delta{delta}",
                "huber_loss",
                {"input": y + r, "target": y},
                {"delta": delta},
                second_derivative=True,
            )
        )

    # ---- binary -----------------------------------------------------------------------------
    logits = normal(N, scale=3.0)
    logits[:8] = (30.0, -30.0, 1000.0, -1000.0, 30.0, -30.0, 1000.0, -1000.0)
    labels = rng.integers(0, 2, size=N).astype(np.float64)
    labels[:8] = (1, 1, 1, 1, 0, 0, 0, 0)
    cases.append(
        record(
            "bce_with_logits",
            "binary_cross_entropy_with_logits",
            {"input": logits, "target": labels},
            {},
            second_derivative=True,
        )
    )
    weight = rng.uniform(0.0, 2.0, size=N)
    weight[::6] = 0.0
    cases.append(
        record(
            "bce_with_logits_weighted",
            "binary_cross_entropy_with_logits",
            {"input": normal(N, scale=3.0), "target": labels, "weight": weight},
            {},
            note="weight= rescales each element; torch's 'mean' then divides by N, not sum(w)",
        )
    )

    probs = rng.uniform(0.0, 1.0, size=N)
    targets = rng.uniform(0.0, 1.0, size=N)
    targets[:10] = np.round(targets[:10])
    # exact 0 and 1 (log clamped at -100), a probability whose log is below -100, one whose
    # p(1 - p) is below torch's 1e-12 gradient floor, with hard and soft targets
    probs[:10] = (0.0, 1.0, 0.0, 1.0, 1e-50, 1.0 - 2.0**-53, 1e-13, 0.0, 1.0, 1e-50)
    targets[:10] = (0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.7, 0.0)
    cases.append(
        record(
            "bce",
            "binary_cross_entropy",
            {"input": probs, "target": targets},
            {},
            note="log clamped at -100; torch's gradient divides by max(p(1-p), 1e-12)",
        )
    )
    cases.append(
        record(
            "bce_weighted",
            "binary_cross_entropy",
            {
                "input": rng.uniform(0.01, 0.99, size=N),
                "target": rng.uniform(0.0, 1.0, size=N),
                "weight": weight,
            },
            {},
            note="weight= rescales each element; torch's 'mean' then divides by N, not sum(w)",
        )
    )

    signs = rng.choice([-1.0, 1.0], size=N)
    margins = normal(N, scale=3.0)
    margins[:4] = (30.0, -30.0, 25.0, -25.0)  # exp(-y f) overflows in torch beyond ~709
    cases.append(
        record(
            "soft_margin",
            "soft_margin_loss",
            {"input": margins, "target": signs},
            {},
            second_derivative=True,
        )
    )

    # ---- multiclass -------------------------------------------------------------------------
    def ce_logits() -> np.ndarray:
        f = normal(ROWS, K, scale=3.0)
        f[0] = (1000.0, -1000.0, 0.0, 3.0, 999.0)  # huge logits
        return f

    for smoothing in (0.0, 0.1):
        idx = rng.integers(0, K, size=ROWS)
        cases.append(
            record(
                f"ce_indices_ls{smoothing}",
                "cross_entropy",
                {"input": ce_logits(), "target": idx},
                {"label_smoothing": smoothing},
                second_derivative=True,
            )
        )
        soft = rng.dirichlet(np.full(K, 0.8), size=ROWS)
        cases.append(
            record(
                f"ce_probs_ls{smoothing}",
                "cross_entropy",
                {"input": ce_logits(), "target": soft},
                {"label_smoothing": smoothing},
                second_derivative=smoothing == 0.0,
            )
        )

    class_weight = np.array([0.5, 2.0, 1.0, 0.0, 3.0])
    for smoothing in (0.0, 0.1):
        idx = rng.integers(0, K, size=ROWS)
        idx[:2] = (3, 1)  # class 3 has weight 0
        cases.append(
            record(
                f"ce_indices_class_weight_ls{smoothing}",
                "cross_entropy",
                {"input": ce_logits(), "target": idx, "weight": class_weight},
                {"label_smoothing": smoothing},
                note="mean divides by sum_i weight[y_i]",
            )
        )

    # ---- float32 ----------------------------------------------------------------------------
    y, r = normal(N, scale=2.0), normal(N, scale=1.5)
    cases.append(record("mse_f32", "mse_loss", {"input": y + r, "target": y}, {}, dtype="float32"))
    y, r = normal(N, scale=2.0), normal(N, scale=1.5)
    r[np.abs(np.abs(r) - 0.5) < 1e-3] += 0.01
    cases.append(
        record(
            "smooth_l1_beta0.5_f32",
            "smooth_l1_loss",
            {"input": y + r, "target": y},
            {"beta": 0.5},
            dtype="float32",
        )
    )
    cases.append(
        record(
            "bce_with_logits_f32",
            "binary_cross_entropy_with_logits",
            {"input": normal(N, scale=3.0), "target": labels},
            {},
            dtype="float32",
            second_derivative=True,
        )
    )
    cases.append(
        record(
            "ce_indices_f32",
            "cross_entropy",
            {"input": normal(ROWS, K, scale=3.0), "target": rng.integers(0, K, size=ROWS)},
            {"label_smoothing": 0.1},
            dtype="float32",
        )
    )

    doc = {
        "generator": "tests/reference/generate_torch_reference.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "seed": SEED,
        "cases": cases,
    }
    text = json.dumps(doc, indent=1, allow_nan=False)
    OUT.write_text(text + "\n")
    print(f"wrote {len(cases)} cases, {len(text) / 1024:.1f} KiB to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
