"""SVG charts of losses and their derivatives (matplotlib, Agg, object-oriented API).

No pyplot: each call builds its own :class:`~matplotlib.figure.Figure`, so charts
can be drawn from several threads at once without shared global state.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from losscore import Curve

__all__ = ["MAX_LINES", "cv_svg", "losses_svg", "path_svg"]

MAX_LINES = 20  # most coefficient lines a path chart draws


def losses_svg(curves: Sequence[Curve]) -> bytes:
    """Two panels: ℓ(x) and dℓ/dx of each curve, with axes, ticks, grid and legend."""
    fig = Figure(figsize=(10, 4.2))
    FigureCanvasSVG(fig)
    ax_value, ax_grad = fig.subplots(1, 2)
    labels = sorted({c.x_label for c in curves})
    x_label = labels[0] if len(labels) == 1 else " / ".join(labels)
    for curve in curves:
        params = ", ".join(f"{k}={v:g}" for k, v in curve.params.items())
        label = f"{curve.loss}({params})" if params else curve.loss
        ax_value.plot(curve.x, curve.value, label=label, linewidth=1.6)
        ax_grad.plot(curve.x, curve.gradient, label=label, linewidth=1.6)
    ax_value.set_title("loss")
    ax_value.set_ylabel("ℓ(x)")
    ax_grad.set_title("derivative")
    ax_grad.set_ylabel("dℓ/dx")
    for ax in (ax_value, ax_grad):
        ax.set_xlabel(x_label)
        ax.grid(True, alpha=0.3)
        ax.axhline(0.0, color="0.5", linewidth=0.6)
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def _svg(fig: Figure) -> bytes:
    """The figure as SVG with its text kept as text (searchable, smaller than glyph paths)."""
    fig.tight_layout()
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    return buf.getvalue()


def path_svg(alphas: Sequence[float], coefs: Sequence[Sequence[Sequence[float]]],
             chosen: float, names: Sequence[str]) -> bytes:  # fmt: skip
    """Coefficients against α (log scale, decreasing to the right as the path runs), one line
    per (output, feature), the chosen α marked."""
    fig = Figure(figsize=(8, 4.5))
    FigureCanvasSVG(fig)
    ax = fig.subplots()
    a = list(alphas)[: len(coefs)]
    outputs, features = len(coefs[0]), len(coefs[0][0])
    lines = [(k, j) for k in range(outputs) for j in range(features)]
    # the MAX_LINES coefficients that grow largest along the path; the rest are summarised
    lines.sort(key=lambda kj: -max(abs(c[kj[0]][kj[1]]) for c in coefs))
    for k, j in lines[:MAX_LINES]:
        label = names[j] if outputs == 1 else f"{names[j]} (output {k})"
        ax.plot(a, [c[k][j] for c in coefs], linewidth=1.4, label=label)
    if len(lines) > MAX_LINES:
        ax.set_title(f"Regularisation path ({MAX_LINES} largest of {len(lines)} coefficients)")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axvline(chosen, color="0.2", linestyle="--", linewidth=1.0, label=f"chosen α = {chosen:.3g}")
    ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel("α (penalty strength)")
    ax.set_ylabel("coefficient")
    if len(lines) <= MAX_LINES:
        ax.set_title("Regularisation path")
    ax.grid(True, alpha=0.3)
    if min(len(lines), MAX_LINES) <= 12:
        ax.legend(loc="best", fontsize="small")
    return _svg(fig)


def cv_svg(alphas: Sequence[float], mean: Sequence[float | None],
           std_error: Sequence[float | None], alpha_min: float, alpha_one_se: float,
           chosen: float, scoring: str) -> bytes:  # fmt: skip
    """Mean held-out score ± one standard error against α, α_min and α_1se marked."""
    fig = Figure(figsize=(8, 4.5))
    FigureCanvasSVG(fig)
    ax = fig.subplots()
    keep = [i for i, m in enumerate(mean) if m is not None]
    a = [alphas[i] for i in keep]
    m = [float(mean[i] or 0.0) for i in keep]
    se = [float(std_error[i] or 0.0) for i in keep]
    ax.errorbar(a, m, yerr=se, fmt="o-", markersize=3, linewidth=1.2, capsize=2,
                label=f"mean {scoring} ± 1 SE")  # fmt: skip
    ax.axvline(alpha_min, color="tab:red", linestyle="--", linewidth=1.0,
               label=f"α_min = {alpha_min:.3g}")  # fmt: skip
    ax.axvline(alpha_one_se, color="tab:green", linestyle=":", linewidth=1.2,
               label=f"α_1se = {alpha_one_se:.3g}")  # fmt: skip
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("α (penalty strength)")
    ax.set_ylabel(f"held-out {scoring}")
    ax.set_title(f"Cross-validation (chosen α = {chosen:.3g})")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return _svg(fig)
