"""``losscore plot``: ℓ and ℓ′ curves of several losses as an SVG file."""

from __future__ import annotations

import argparse
import inspect
import sys
from typing import Any

from losscore import Curve, InvalidParameterError, loss_curve
from losscore_cli import _svg
from losscore_cli._args import add_json, add_param, float_pair, name_list, new_parser
from losscore_cli._catalog import loss_label, params_for, spec_of
from losscore_cli._errors import CliError
from losscore_cli._output import Output

__all__ = ["register"]

_DEFAULTS = inspect.signature(loss_curve).parameters
DEFAULT_RANGE = (float(_DEFAULTS["start"].default), float(_DEFAULTS["stop"].default))
DEFAULT_POINTS = int(_DEFAULTS["num"].default)
PROBABILITY_RANGE = (0.01, 0.99)  # inside (0, 1), where a probability's loss is finite
QUANTITIES = (("value", "loss ℓ(x)", "ℓ"), ("gradient", "derivative ℓ′(x)", "ℓ′"))
HESSIAN = ("hessian", "second derivative ℓ″(x)", "ℓ″")


def register(subparsers: Any) -> None:
    parser = new_parser(
        subparsers,
        "plot",
        summary="draw ℓ and ℓ′ of several losses into an SVG file",
        description=f"""
            The loss ℓ(x) and its derivative ℓ′(x) (with --hessian also ℓ″) of every listed
            loss on a grid, drawn as an SVG file. The x axis follows what the loss's target is
            (losscore.curves): the residual f − y for regression losses, the margin y·f for
            binary ones, the probability p for a loss of probabilities, the true class's margin
            for multiclass ones; losses of different kinds get a row of charts each.
            The default range is {DEFAULT_RANGE[0]:g},{DEFAULT_RANGE[1]:g}
            ({PROBABILITY_RANGE[0]:g},{PROBABILITY_RANGE[1]:g} for probabilities).
        """,
        examples="""
            losscore plot -l l1,l2,smooth_l1 -o losses.svg
            losscore plot -l l1,l2,smooth_l1,huber --param smooth_l1.beta=0.5 --param huber.delta=2 --range -4,4 -o /tmp/robust.svg
            losscore plot -l hinge,log_loss,exponential --range -2,2 -o /tmp/margins.svg
        """,
        run=run,
    )
    parser.add_argument(
        "-l",
        "--losses",
        required=True,
        type=name_list,
        metavar="A,B,…",
        help="loss names or aliases, comma-separated",
    )
    add_param(parser, qualified=True)
    parser.add_argument(
        "--range", type=float_pair, metavar="LOW,HIGH", help="the x range (default: see above)"
    )
    parser.add_argument(
        "--points", type=int, default=DEFAULT_POINTS, metavar="N", help="grid points per curve"
    )
    parser.add_argument("--hessian", action="store_true", help="also draw ℓ″")
    parser.add_argument("--title", help="the title (default: the losses)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the SVG file to write (- for stdout)"
    )
    add_json(parser)


def _curves(args: argparse.Namespace) -> list[Curve]:
    params = params_for(args.losses, args.param)
    curves = []
    for name, p in zip(args.losses, params, strict=True):
        spec = spec_of(name, "--losses")
        default = PROBABILITY_RANGE if spec.target == "probability" else DEFAULT_RANGE
        low, high = args.range or default
        try:
            curves.append(loss_curve(name, start=low, stop=high, num=args.points, **p))
        except InvalidParameterError as exc:
            if exc.field in ("start", "stop"):
                raise CliError(exc.reason, field="--range") from None
            if exc.field == "num":
                raise CliError(exc.reason, field="--points") from None
            raise
    return curves


def _charts(curves: list[Curve], hessian: bool) -> list[_svg.Chart]:
    """One chart per x axis (the losses' target kind), in the order the losses were listed."""
    groups: dict[str, list[tuple[int, Curve]]] = {}
    for i, c in enumerate(curves):
        groups.setdefault(c.x_label, []).append((i, c))
    quantities = [*QUANTITIES, *([HESSIAN] if hessian else [])]
    charts = []
    for x_label, members in groups.items():
        kind = spec_of(members[0][1].loss).target
        panels = [
            _svg.Panel(
                title=title,
                x_label=x_label,
                y_label=symbol,
                series=[
                    _svg.Series(
                        loss_label(c.loss, c.params),
                        _svg.color(i),
                        c.x.tolist(),
                        getattr(c, attr).tolist(),
                    )
                    for i, c in members
                ],
                attrs={"data-quantity": attr, "data-kind": kind},
            )
            for attr, title, symbol in quantities
        ]
        charts.append(_svg.Chart(x_label, panels))
    return charts


def run(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    curves = _curves(args)
    charts = _charts(curves, args.hessian)
    title = args.title or "losses: " + ", ".join(loss_label(c.loss, c.params) for c in curves)
    svg = _svg.render(title, charts)
    if args.output == "-":
        sys.stdout.write(svg)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(svg)
    except OSError as exc:
        raise CliError(
            f"{args.output}: cannot write it ({exc.strerror})", field="--output"
        ) from None
    summary: list[dict[str, Any]] = [
        {
            "x_label": chart.title,
            "losses": [s.label for s in chart.panels[0].series],
            "range": [chart.panels[0].series[0].x[0], chart.panels[0].series[0].x[-1]],
        }
        for chart in charts
    ]
    if out.json_mode:
        out.json({"output": args.output, "charts": summary})
        return 0
    out.line(f"wrote {args.output}")
    for chart in summary:
        out.line(f"  {chart['x_label']}: {', '.join(chart['losses'])}")
    return 0
