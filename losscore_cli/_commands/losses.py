"""``losscore losses [NAME]``: the loss catalog, as a table or one loss in full."""

from __future__ import annotations

import argparse
from typing import Any, get_args

import losscore
from losscore.spec import LossKind, LossSpec, Task
from losscore_cli._args import add_json, new_parser
from losscore_cli._catalog import spec_of
from losscore_cli._output import Output, fmt

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = new_parser(
        subparsers,
        "losses",
        summary="list the losses of the catalog (or describe one)",
        description="""
            The loss catalog: names, aliases, kind, parameters with their defaults, and the
            tasks a linear model trains with each loss. With NAME, everything about one loss
            (formula, derivatives, kinks, parameter intervals, reference).
        """,
        examples="""
            losscore losses
            losscore losses --task classification
            losscore losses smooth_l1
            losscore losses --json | jq '.[].name'
        """,
        run=run,
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a loss name or alias")
    parser.add_argument("--kind", choices=get_args(LossKind), help="only the losses of this kind")
    parser.add_argument(
        "--task", choices=get_args(Task), help="only the losses that train this task"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    if args.name is not None:
        spec = spec_of(args.name, "NAME")
        if out.json_mode:
            out.json(spec.as_dict())
        else:
            _describe(out, spec)
        return 0
    specs = [
        s
        for s in losscore.list_losses()
        if (args.kind is None or s.kind == args.kind)
        and (args.task is None or args.task in s.training.tasks)
    ]
    if out.json_mode:
        out.json([s.as_dict() for s in specs])
        return 0
    out.table(
        ["name", "aliases", "kind", "target", "parameters", "trains"],
        [
            [
                s.name,
                ", ".join(s.aliases) or "-",
                s.kind,
                s.target,
                ", ".join(f"{p.name}={fmt(p.default)}" for p in s.params) or "-",
                ", ".join(s.training.tasks) or "-",
            ]
            for s in specs
        ],
        numeric=[False] * 6,
    )
    return 0


def _describe(out: Output, spec: LossSpec) -> None:
    out.heading(f"{spec.name}: {spec.title}")
    out.fields(
        [
            ("aliases", ", ".join(spec.aliases) or "-"),
            ("kind", spec.kind),
            ("target", f"{spec.target}: {spec.target_domain}"),
            ("prediction", f"{spec.prediction}: {spec.prediction_domain}"),
            ("labels", spec.label_convention or "-"),
            ("trains", ", ".join(spec.training.tasks) or "- (evaluate only)"),
            ("smooth", spec.smooth),
            ("formula", spec.formula),
            ("derivative", spec.derivative),
            ("2nd derivative", spec.second_derivative),
            ("kinks", spec.kinks or "-"),
            ("reference", spec.reference),
        ]
    )
    if spec.params:
        out.line()
        out.table(
            ["parameter", "default", "interval", "description"],
            [[p.name, p.default, str(p.interval), p.description] for p in spec.params],
        )
    if spec.notes:
        out.line()
        out.line(spec.notes)
