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

__all__ = ["losses_svg"]


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
