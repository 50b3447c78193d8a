"""``losscore train``: fit a linear model on a table, with a live progress line, in-process or
on the service (``--server``: the training stream of an upload)."""

from __future__ import annotations

import argparse
import inspect
import json
import math
from pathlib import Path
from typing import Any, get_args

from losscore.spec import Task
from losscore.tables import Table
from losscore.train import FitResult, fit, get_penalty, list_penalties
from losscore_cli import _local
from losscore_cli._args import (
    add_json,
    add_param,
    add_server,
    column_ref,
    column_refs,
    new_parser,
    resolve_column,
)
from losscore_cli._catalog import default_task, params_for, spec_of
from losscore_cli._commands._common import client
from losscore_cli._errors import CliError
from losscore_cli._inputs import read_bytes, read_table, table_csv
from losscore_cli._model import print_model, save_model
from losscore_cli._output import Output
from losscore_cli._progress import ProgressSink, start
from losscore_cli._remote import Client, FilePart, fit_dict, multipart, stream_error
from losscore_cli._types import TrainOptions

__all__ = ["register"]

DEFAULT_PENALTY: str = inspect.signature(fit).parameters["penalty"].default
STREAM_UPLOAD = "/v1/train/stream/upload"


def register(subparsers: Any) -> None:
    penalties = ", ".join(p.name for p in list_penalties())
    parser = new_parser(
        subparsers,
        "train",
        summary="fit a linear model on a table (live progress)",
        description=f"""
            Fit a linear model by minimising the exact objective
            F(w, b) = mean loss + alpha·R(w) (docs/TRAINING.md) on the columns of a table:
            DATA is .csv (a header row), .json (a list of records) or .parquet. Columns are
            names or 0-based indices; --features defaults to every column that is not the
            target or the weight. --task defaults to the loss's task when it trains only one.
            In a terminal a progress line shows the iteration, the objective and the
            optimality against the tolerance. Prints the solver, the certificate, the
            training metrics and the coefficients by feature; --output saves the model
            (JSON, read by `losscore predict --model`).
            With --server (or $LOSSCORE_SERVER) the file is uploaded to the service's
            training stream and the model is stored there; its id is printed.
            Penalties: {penalties}.
        """,
        examples="""
            losscore train examples/iris.csv --target species --features sepal_length,petal_width --loss hinge --alpha 1e-3
            losscore train examples/iris.csv --target species --loss log_loss --alpha 1e-2 --output /tmp/iris.json
            losscore train examples/outliers.csv --target y --loss huber --param delta=0.5 --penalty none --json
            losscore train examples/iris.csv --target species --loss hinge --server http://127.0.0.1:8000
        """,
        run=run,
    )
    parser.add_argument("data", metavar="DATA", help="the table: .csv, .json (records) or .parquet")
    parser.add_argument(
        "--target", required=True, type=column_ref, metavar="COL", help="the column of y"
    )
    parser.add_argument(
        "--features",
        type=column_refs,
        metavar="A,B,…",
        help="the feature columns (default: the rest)",
    )
    parser.add_argument(
        "--weight", type=column_ref, metavar="COL", help="a column of sample weights"
    )
    parser.add_argument("-l", "--loss", required=True, metavar="NAME", help="a trainable loss")
    add_param(parser, qualified=False)
    parser.add_argument("--task", choices=get_args(Task), help="default: the loss's only task")
    parser.add_argument(
        "--penalty",
        metavar="NAME",
        help=f"the penalty R(w): {penalties} (default: {DEFAULT_PENALTY})",
    )
    parser.add_argument("--alpha", type=float, metavar="A", help="the penalty's strength")
    parser.add_argument("--l1-ratio", type=float, metavar="R", help="elastic net's l1 share")
    parser.add_argument("--standardize", action="store_true", help="fit on standardised features")
    parser.add_argument(
        "--no-intercept", dest="fit_intercept", action="store_false", help="fit no intercept"
    )
    parser.add_argument(
        "--class-weight", choices=["balanced"], help="weigh classes by n / (k·count)"
    )
    parser.add_argument("--max-iter", type=int, metavar="N", help="the iteration limit")
    parser.add_argument("--tol", type=float, metavar="T", help="the optimality tolerance")
    parser.add_argument("--time-limit", type=float, metavar="S", help="a wall-time limit (s)")
    parser.add_argument("-o", "--output", metavar="FILE", help="save the model as JSON")
    add_json(parser)
    add_server(parser)


def _penalty(args: argparse.Namespace) -> tuple[str | None, dict[str, float]]:
    """The penalty's canonical name (None: the default) and its parameters as given."""
    given = {"alpha": args.alpha, "l1_ratio": args.l1_ratio}
    given = {k: v for k, v in given.items() if v is not None}
    spec = get_penalty(args.penalty or DEFAULT_PENALTY, field="--penalty")
    known = {p.name for p in spec.params}
    for key in given:
        if key not in known:
            raise CliError(
                f"the penalty {spec.name!r} has no parameter {key}"
                f" (its parameters: {', '.join(sorted(known)) or 'none'})",
                field=f"--{key.replace('_', '-')}",
            )
    return (spec.name if args.penalty else None), given


def _options(args: argparse.Namespace) -> TrainOptions:
    spec = spec_of(args.loss)
    (params,) = params_for([args.loss], args.param)
    penalty, penalty_params = _penalty(args)
    return TrainOptions(
        target=args.target,
        task=default_task(spec, args.task),
        loss=spec.name,
        loss_params=params,
        features=args.features,
        weight=args.weight,
        penalty=penalty,
        penalty_params=penalty_params,
        standardize=args.standardize,
        fit_intercept=args.fit_intercept,
        class_weight=args.class_weight,
        max_iter=args.max_iter,
        tol=args.tol,
        time_limit_s=args.time_limit,
    )


def _with_names(table: Table, options: TrainOptions) -> TrainOptions:
    """Integers that name a column of the table (a header cell "3") read as that name."""
    names = table.names
    features = (
        None if options.features is None else [resolve_column(f, names) for f in options.features]
    )
    weight = None if options.weight is None else resolve_column(options.weight, names)
    return TrainOptions(
        **{
            **options.__dict__,
            "target": resolve_column(options.target, names),
            "features": features,
            "weight": weight,
        }
    )


def run(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    options = _options(args)
    table = read_table(args.data)
    options = _with_names(table, options)
    progress = start(options.tol if options.tol is not None else _local.DEFAULT_TOL)
    service = client(args)
    model_id: str | None = None
    if service is None:
        result = _local.train(table, options, progress)
    else:
        model_id, result = _remote(service, args.data, table, options, progress)
    if args.output:
        save_model(result, args.output)
    if out.json_mode:
        out.json({"model_id": model_id, "output": args.output, "model": result.to_dict()})
        return 0
    extra: list[tuple[str, Any]] = []
    if model_id is not None:
        extra.append(("model id", model_id))
    if args.output:
        extra.append(("saved", args.output))
    print_model(out, result, extra)
    return 0


# -- remote ---------------------------------------------------------------------------------------


def _by_name(ref: str | int, names: list[str]) -> str | int:
    """A column index in range as its name (the service reads names); others as given."""
    return names[ref] if isinstance(ref, int) and 0 <= ref < len(names) else ref


def _request(options: TrainOptions, names: list[str]) -> dict[str, Any]:
    """The ``request`` part: the options of ``TrainUpload`` that were given."""
    body: dict[str, Any] = {
        "task": options.task,
        "loss": {"name": options.loss, **options.loss_params},
        "target": _by_name(options.target, names),
        **options.solver_options(),
    }
    if options.features is not None:
        body["features"] = [_by_name(f, names) for f in options.features]
    if options.weight is not None:
        body["weight"] = _by_name(options.weight, names)
    if options.penalty is not None or options.penalty_params:
        body["penalty"] = {"name": options.penalty or DEFAULT_PENALTY, **options.penalty_params}
    return body


def _feature_names(options: TrainOptions, names: list[str]) -> list[str]:
    """The columns the service fitted on (its model names them once it can; until then the
    same rule as losscore.tables.select: the listed features, else every other column)."""
    if options.features is not None:
        return [str(_by_name(f, names)) for f in options.features]
    taken = {str(_by_name(options.target, names))}
    if options.weight is not None:
        taken.add(str(_by_name(options.weight, names)))
    return [n for n in names if n not in taken]


def _number(value: Any) -> float:
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return math.nan if value is None else float(value)


def _remote(
    service: Client, path: str, table: Table, options: TrainOptions, progress: ProgressSink
) -> tuple[str, FitResult]:
    """Upload the table (CSV as it is; JSON and Parquet written as CSV) to the training stream,
    draw its progress events, and return the stored model's id and the model."""
    is_csv = Path(path).suffix.lower() == ".csv"
    data = read_bytes(path, "DATA") if is_csv else table_csv(table)
    request = json.dumps(_request(options, table.names)).encode()
    body, content_type = multipart(
        [
            FilePart("request", request, content_type="application/json"),
            FilePart(
                "data", data, filename=Path(path).with_suffix(".csv").name, content_type="text/csv"
            ),
        ]
    )
    model: dict[str, Any] | None = None
    try:
        for event, payload in service.stream(STREAM_UPLOAD, body, content_type):
            if event == "progress":
                progress.update(
                    int(payload["iteration"]),
                    _number(payload["objective"]),
                    _number(payload["optimality"]),
                    float(payload["elapsed_s"]),
                )
            elif event == "model":
                model = payload
            elif event == "error":
                raise stream_error(payload)
    finally:
        progress.close()
    if model is None:
        raise CliError("the training stream ended without a model", field="--server")
    stored = fit_dict(model)
    stored.setdefault("feature_names", _feature_names(options, table.names))
    return str(model["model_id"]), FitResult.from_dict(stored)
