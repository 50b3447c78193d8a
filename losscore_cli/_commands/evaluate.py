"""``losscore evaluate`` (one loss: value and per-element arrays) and ``losscore compare``
(a table of several losses on the same files)."""

from __future__ import annotations

import argparse
from typing import Any, get_args

import numpy as np
from numpy.typing import NDArray

from losscore import Reduction
from losscore_cli import _local
from losscore_cli._args import add_json, add_param, add_server, name_list, new_parser
from losscore_cli._catalog import loss_label, params_for
from losscore_cli._commands._common import client, write_columns
from losscore_cli._inputs import read_array
from losscore_cli._output import Output
from losscore_cli._types import Evaluated

__all__ = ["register"]

INPUTS = """
    Inputs: .npy, .txt (numbers) or .csv (one column, or --column NAME in a file with a
    header). Multiclass predictions are (n, k): a .npy, a .txt or a headerless .csv matrix.
"""


def register(subparsers: Any) -> None:
    ev = new_parser(
        subparsers,
        "evaluate",
        summary="evaluate one loss: value, gradient, Hessian",
        description=f"""
            The value of a loss at (prediction, target) under a reduction, and with --output
            the per-element loss w·ℓ, the gradient of the value (and with --hessian its
            diagonal second derivative): .csv (columns loss, gradient[, hessian]; gradient_j
            per class for multiclass losses), .npy (the same columns as one matrix) or .npz
            (named arrays). Use --reduction none for the per-element derivatives ℓ′.
            {INPUTS}
            In-process by default; with --server (or $LOSSCORE_SERVER) on the service.
        """,
        examples="""
            losscore evaluate -l smooth_l1 --param beta=0.5 --prediction examples/prediction.npy --target examples/target.npy
            losscore evaluate -l huber --prediction p.csv --target y.csv --reduction none --hessian --output /tmp/huber.csv
            losscore evaluate -l l2 --prediction run.csv --prediction-column yhat --target run.csv --target-column y --json
        """,
        run=run_evaluate,
    )
    ev.add_argument("-l", "--loss", required=True, metavar="NAME", help="a loss name or alias")
    add_param(ev, qualified=False)
    _inputs(ev)
    ev.add_argument(
        "-o", "--output", metavar="FILE", help="write the per-element arrays (.csv, .npy, .npz)"
    )
    add_json(ev)
    add_server(ev)

    cmp = new_parser(
        subparsers,
        "compare",
        summary="a table of several losses on the same files",
        description=f"""
            Every listed loss at the same (prediction, target): the value under the reduction,
            and the mean and largest |ℓ′| per element (w·∂ℓ/∂f, whatever the reduction; with
            --hessian also the mean ℓ″).
            {INPUTS}
            In-process by default; with --server (or $LOSSCORE_SERVER) one /v1/compare request.
        """,
        examples="""
            losscore compare -l l1,l2,smooth_l1,huber --prediction examples/prediction.npy --target examples/target.npy
            losscore compare -l l1,smooth_l1,huber --param smooth_l1.beta=0.5 --param delta=2 --prediction p.npy --target y.npy --json
        """,
        run=run_compare,
    )
    cmp.add_argument(
        "-l",
        "--losses",
        required=True,
        type=name_list,
        metavar="A,B,…",
        help="loss names or aliases, comma-separated",
    )
    add_param(cmp, qualified=True)
    _inputs(cmp)
    add_json(cmp)
    add_server(cmp)


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prediction", required=True, metavar="FILE", help="the predictions")
    parser.add_argument("--target", required=True, metavar="FILE", help="the targets or labels")
    parser.add_argument("--weight", metavar="FILE", help="non-negative sample weights")
    parser.add_argument(
        "--column", metavar="NAME", help="the column to read from every .csv input with a header"
    )
    for name in ("prediction", "target", "weight"):
        parser.add_argument(
            f"--{name}-column", metavar="NAME", help=f"the column of the --{name} .csv file"
        )
    parser.add_argument(
        "--reduction",
        choices=get_args(Reduction),
        default="mean",
        help="mean (weighted: Σw·ℓ/Σw), sum or none",
    )
    parser.add_argument(
        "--hessian", action="store_true", help="also compute the diagonal second derivative"
    )


def _arrays(
    args: argparse.Namespace,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    def read(name: str) -> NDArray[Any] | None:
        path = getattr(args, name)
        if path is None:
            return None
        column = getattr(args, f"{name}_column") or args.column
        return read_array(path, field=f"--{name}", column=column)

    prediction, target = read("prediction"), read("target")
    assert prediction is not None and target is not None  # required options
    return prediction, target, read("weight")


def _evaluate(args: argparse.Namespace, names: list[str], qualified: bool) -> list[Evaluated]:
    params = params_for(names, args.param)
    losses = list(zip(names, params, strict=True))
    prediction, target, weight = _arrays(args)
    service = client(args)
    if service is not None:
        return service.evaluate(losses, prediction, target, weight, args.reduction, args.hessian)
    return _local.evaluate(losses, prediction, target, weight, args.reduction, args.hessian)


def run_evaluate(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    (result,) = _evaluate(args, [args.loss], qualified=False)
    if args.output:
        _write(args.output, result)
    if out.json_mode:
        out.json(
            {
                "loss": result.loss,
                "params": result.params,
                "reduction": result.reduction,
                "value": result.value,
                "shape": list(result.gradient.shape),
                "weight_sum": result.weight_sum,
                "output": args.output,
            }
        )
        return 0
    out.fields(
        [
            ("loss", loss_label(result.loss, result.params)),
            ("reduction", result.reduction),
            ("value", result.value if result.value is not None else "- (reduction none)"),
            ("shape", "×".join(str(d) for d in result.gradient.shape) or "scalar"),
            *([("output", args.output)] if args.output else []),
        ]
    )
    return 0


def _write(path: str, r: Evaluated) -> None:
    n = r.elementwise.size
    names, columns = ["loss"], [r.elementwise.reshape(n)]
    for what, array in (("gradient", r.gradient), ("hessian", r.hessian)):
        if array is None:
            continue
        block = array.reshape(n, -1)
        if block.shape[1] == 1:
            names.append(what)
            columns.append(block[:, 0])
        else:
            names += [f"{what}_{j}" for j in range(block.shape[1])]
            columns += [block[:, j] for j in range(block.shape[1])]
    write_columns(path, names, columns, "--output")


def _stats(r: Evaluated) -> dict[str, Any]:
    g = np.abs(r.element_gradient())
    row: dict[str, Any] = {
        "loss": r.loss,
        "params": r.params,
        "value": r.value,
        "mean_abs_gradient": float(np.mean(g)) if g.size else None,
        "max_abs_gradient": float(np.max(g)) if g.size else None,
    }
    h = r.element_hessian()
    if h is not None:
        row["mean_hessian"] = float(np.mean(h)) if h.size else None
    return row


def run_compare(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    rows = [_stats(r) for r in _evaluate(args, args.losses, qualified=True)]
    if out.json_mode:
        out.json({"reduction": args.reduction, "results": rows})
        return 0
    columns = ["loss", f"value ({args.reduction})", "mean |ℓ′|", "max |ℓ′|"]
    if args.hessian:
        columns.append("mean ℓ″")
    out.table(
        columns,
        [
            [
                loss_label(r["loss"], r["params"]),
                r["value"],
                r["mean_abs_gradient"],
                r["max_abs_gradient"],
                *([r["mean_hessian"]] if args.hessian else []),
            ]
            for r in rows
        ],
        numeric=[False] + [True] * (len(columns) - 1),
    )
    return 0
