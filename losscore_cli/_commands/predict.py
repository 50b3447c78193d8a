"""``losscore predict``: predictions of a saved model (``--model FILE``) or of a model stored on
the service (``--model-id ID --server URL``) for the rows of a table or a ``.npy`` matrix."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from losscore.tables import Table
from losscore.train import FitResult
from losscore_cli import _local
from losscore_cli._args import add_json, add_server, new_parser
from losscore_cli._commands._common import require_client, write_columns
from losscore_cli._errors import CliError
from losscore_cli._inputs import TABLE_SUFFIXES, read_array, read_table
from losscore_cli._model import feature_names, load_model
from losscore_cli._output import Output, note
from losscore_cli._remote import fit_dict
from losscore_cli._types import Predicted

__all__ = ["register"]

SHOWN_ROWS = 50  # rows printed in a terminal (all of them when piped or with --output)


def register(subparsers: Any) -> None:
    parser = new_parser(
        subparsers,
        "predict",
        summary="predict with a saved or a stored model",
        description="""
            Labels (classification) or values (regression), the scores (one per output) and,
            for losses with a probability link, the class probabilities, for each row of DATA.
            DATA is a table (.csv with a header row, .json records, .parquet) holding the
            model's feature columns, read by name in the model's order; a column the model
            does not use is an error (a misnamed column must not pass unnoticed) unless
            --ignore-extra is given. A model fitted on unnamed arrays reads a table's columns
            in order. DATA may also be a .npy matrix of rows (n, d).
            --output writes .csv (prediction, score[_class], probability_class columns), .npz
            or .npy (numbers only).
        """,
        examples="""
            losscore predict --model /tmp/iris.json examples/iris.csv --ignore-extra
            losscore predict --model /tmp/iris.json rows.json --json
            losscore predict --model-id 01J… --server http://127.0.0.1:8000 examples/X.npy --output /tmp/preds.csv
        """,
        run=run,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--model", metavar="FILE", help="a model saved by `losscore train --output`"
    )
    source.add_argument("--model-id", metavar="ID", help="a model stored on the service (--server)")
    parser.add_argument("data", metavar="DATA", help="rows: .csv, .json, .parquet or .npy")
    parser.add_argument(
        "--ignore-extra", action="store_true", help="skip table columns the model does not use"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the predictions (.csv, .npz, .npy)"
    )
    add_json(parser)
    add_server(parser, required=True)


def _finite(cell: Any) -> float | None:
    if isinstance(cell, bool) or cell is None:
        return None
    try:
        value = float(cell)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _table_rows(table: Table, model: FitResult, ignore_extra: bool) -> NDArray[np.float64]:
    """The model's feature columns of *table*, in the model's order."""
    path = table.field
    if model.feature_names:
        names = list(model.feature_names)
        missing = [n for n in names if n not in table.names]
        if missing:
            raise CliError(
                f"lacks column {missing[0]!r} (the model's features: {', '.join(names)})",
                field=path,
            )
        extra = [n for n in table.names if n not in names]
        if extra and not ignore_extra:
            raise CliError(
                f"has column {extra[0]!r}, which is not one of the model's features "
                f"({', '.join(names)}); pass --ignore-extra to use only the model's columns",
                field=path,
            )
    else:
        if len(table.names) != model.n_features:
            raise CliError(
                f"has {len(table.names)} columns; the model was fitted on "
                f"{model.n_features} unnamed features (its columns are read in order)",
                field=path,
            )
        names = list(table.names)
    columns = [table.names.index(n) for n in names]
    X = np.empty((len(table.rows), len(columns)))
    for r, row in enumerate(table.rows):
        for j, c in enumerate(columns):
            value = _finite(row[c])
            if value is None:
                raise CliError(
                    f"column {names[j]!r}, {table.where[r]}: {row[c]!r} is not a finite number",
                    field=path,
                )
            X[r, j] = value
    return X


def _rows(path: str, model: FitResult, ignore_extra: bool) -> NDArray[np.float64]:
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        return _table_rows(read_table(path), model, ignore_extra)
    X = read_array(path, field="DATA").astype(np.float64)
    if X.ndim == 1 and model.n_features == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise CliError(
            f"{path}: must be a matrix of rows (n, d), got shape {list(X.shape)}", field="DATA"
        )
    return X


def _columns(p: Predicted, classes: list[Any] | None) -> tuple[list[str], list[NDArray[Any]]]:
    """Output columns: prediction, then for classifiers the score (score_<class> for several
    outputs) and probability_<class>."""
    names, columns = ["prediction"], [np.asarray(p.prediction)]
    scores = p.decision_function
    if classes is None:  # regression: the score is the prediction
        return names, columns
    if scores.shape[1] == 1:
        names.append("score")
        columns.append(scores[:, 0])
    else:
        labels = (
            classes
            if classes is not None and len(classes) == scores.shape[1]
            else list(range(scores.shape[1]))
        )
        names += [f"score_{c}" for c in labels]
        columns += [scores[:, k] for k in range(scores.shape[1])]
    if p.probability is not None and classes is not None:
        names += [f"probability_{c}" for c in classes]
        columns += [p.probability[:, k] for k in range(p.probability.shape[1])]
    return names, columns


def run(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    if args.model is not None:
        model = load_model(args.model)
        X = _rows(args.data, model, args.ignore_extra)
        predicted = _local.predict_rows(model, X)
    else:
        service = require_client(args, "--model-id")
        stored = service.model(args.model_id)
        model = FitResult.from_dict(fit_dict(stored))
        X = _rows(args.data, model, args.ignore_extra)
        predicted = service.predict(stored, X)
    names, columns = _columns(predicted, predicted.classes)
    if args.output:
        write_columns(args.output, names, columns, "--output")
    if out.json_mode:
        out.json(
            {
                "n": int(X.shape[0]),
                "classes": predicted.classes,
                "feature_names": feature_names(model),
                "prediction": predicted.prediction,
                "decision_function": predicted.decision_function,
                "probability": predicted.probability,
                "output": args.output,
            }
        )
        return 0
    if args.output:
        out.line(f"wrote {X.shape[0]} predictions to {args.output}")
        return 0
    shown = X.shape[0] if out.console is None else min(X.shape[0], SHOWN_ROWS)
    rows = [
        [i, *(c[i].item() if hasattr(c[i], "item") else c[i] for c in columns)]
        for i in range(shown)
    ]
    out.table(["row", *names], rows)
    if shown < X.shape[0]:
        note(f"{X.shape[0] - shown} more rows; write them all with --output or --json")
    return 0
