"""Render docs/LOSSES.md from the loss and norm specs (the single source of truth).

Usage: python tools/render_losses_doc.py [OUTPUT]   (default: docs/LOSSES.md)
tests/test_docs_current.py fails when the committed file differs from this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import losscore
from losscore.spec import KinkSpec, LossSpec, ParamSpec
from losscore.train import list_penalties

HEADER = """# Losses and norms

Generated from the specs in `losscore/` by `make docs` (`tools/render_losses_doc.py`); do not edit by hand.

Rules shared by every loss:

- `evaluate(loss, prediction, target, *, weight=None, reduction="mean", hessian=False, **params)`.
- `elementwise = w·ℓ` (w = 1 without weights). `sum`: Σ w·ℓ. `mean`: Σ w·ℓ / Σ w for **every** loss
  (Σ w = N without weights). `none`: no reduced value; gradient and Hessian per element.
- The gradient is that of the reduced value (for `mean` it carries the 1/Σw factor); the Hessian is its
  diagonal. Piecewise-linear parts have Hessian 0.
- Kinks: the gradient is the minimum-norm subgradient unless stated; the second derivative is the one of
  the branch the formula assigns to the kink point. Each loss states its kinks below.
- Dtypes: float32 stays float32; float64, integers and mixed widths compute in float64; label and
  class-index targets do not take part. Prediction and target must have the same shape (class indices:
  `prediction.shape[:-1]`); nothing is broadcast.
- Empty arrays: `none` and `sum` work (sum = 0), `mean` is an error. NaN/±Inf anywhere is an error naming
  the argument and the first bad index.
"""


def _param_rows(params: tuple[ParamSpec, ...]) -> list[str]:
    if not params:
        return ["Parameters: none."]
    rows = ["| parameter | default | valid interval | meaning |", "|---|---|---|---|"]
    rows += [f"| `{p.name}` | {p.default:g} | {p.interval} | {p.description} |" for p in params]
    return rows


def _kink(k: KinkSpec) -> str:
    where = f"{k.offset:g}" if k.param is None else f"{k.scale:g}·{k.param}"
    if k.param is not None and k.offset:
        where = f"{k.offset:g} + {where}"
    where = where.replace("-1·", "−").replace("1·", "")
    return f"x = {where} ({'gradient' if k.order == 1 else 'second derivative'} jumps)"


def _training(spec: LossSpec) -> str:
    t = spec.training
    if not t.tasks:
        return "evaluate only (not trainable)"
    parts = [" and ".join(t.tasks)]
    if t.multinomial:
        parts.append("multinomial (one score per class)")
    if t.probability:
        parts.append(f"probabilities through the {t.probability} link")
    if t.constant_hessian is not None:
        parts.append(f"constant Hessian {t.constant_hessian:g} (exact normal equations)")
    if t.zero_at_zero:
        parts.append("w = 0 is optimal for every penalty")
    if t.linear_pieces:
        parts.append("linear pieces (ℓ″ = 0 where ℓ′ ≠ 0)")
    loss = losscore.get_loss(spec.name)
    defaults = {p.name: p.default for p in spec.params}
    if loss.piecewise_linear(defaults):
        parts.append("piecewise linear (LP / interior-point solvers)")
    elif any(loss.piecewise_linear({**defaults, p.name: 0.0}) for p in spec.params):
        parts.append("piecewise linear when a parameter is 0")
    return "; ".join(parts)


def _loss_section(spec: LossSpec) -> list[str]:
    aliases = ", ".join(f"`{a}`" for a in spec.aliases) or "none"
    kink_points = "; ".join(_kink(k) for k in spec.kink_points) or "none"
    return [
        f"### `{spec.name}` — {spec.title}",
        "",
        f"Kind: {spec.kind}. Aliases: {aliases}.",
        "",
        *_param_rows(spec.params),
        "",
        f"- Loss: $`{spec.formula}`$",
        f"- Derivative: $`{spec.derivative}`$",
        f"- Second derivative: $`{spec.second_derivative}`$",
        f"- Labels: {spec.label_convention}.",
        f"- Prediction: {spec.prediction_domain}. Target: {spec.target_domain}.",
        f"- Kinks: {spec.kinks} Points: {kink_points}.",
        f"- Training: {_training(spec)}.",
        f"- Reference: {spec.reference}",
        "",
    ]


def render() -> str:
    lines = [HEADER]
    for kind, title in (
        ("regression", "Regression (r = prediction − target)"),
        ("binary", "Binary classification (z = y·f)"),
        ("multiclass", "Multiclass"),
    ):
        lines += [f"## {title}", ""]
        for spec in losscore.list_losses():
            if spec.kind == kind:
                lines += _loss_section(spec)
    lines += ["## Training penalties", "", "F(w, b) = mean loss + alpha·R(w).", ""]
    for pen in list_penalties():
        aliases = ", ".join(f"`{a}`" for a in pen.aliases) or "none"
        lines += [
            f"### `{pen.name}` — {pen.title}",
            "",
            f"Aliases: {aliases}.",
            "",
            *_param_rows(pen.params),
            "",
            f"- $`{pen.formula}`$",
            "",
        ]
    list_norms = getattr(losscore, "list_norms", None)
    if list_norms is not None:
        lines += ["## Norms and regularisers", ""]
        for n in list_norms():
            aliases = ", ".join(f"`{a}`" for a in n.aliases) or "none"
            lines += [
                f"### `{n.name}` — {n.title}",
                "",
                f"Aliases: {aliases}. Domain: {n.domain}.",
                "",
                *_param_rows(n.params),
                "",
                f"- Value: $`{n.formula}`$",
                f"- Subgradient: $`{n.subgradient}`$",
                f"- Proximal operator: $`{n.prox}`$",
                f"- Reference: {n.reference}",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/LOSSES.md")
    out.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
