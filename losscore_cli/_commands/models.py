"""``losscore models ls|show|rm``: the models stored on the service."""

from __future__ import annotations

import argparse
from typing import Any

from losscore.train import FitResult
from losscore_cli._args import add_json, add_server, new_parser
from losscore_cli._catalog import loss_label
from losscore_cli._commands._common import require_client
from losscore_cli._model import print_model, save_model
from losscore_cli._output import Output, note
from losscore_cli._remote import fit_dict

__all__ = ["register"]

DEFAULT_LIMIT = 50


def register(subparsers: Any) -> None:
    parser = new_parser(
        subparsers,
        "models",
        summary="list, show or delete the models stored on the service",
        description="The model store of the service at --server (or $LOSSCORE_SERVER).",
        examples="""
            losscore models ls --server http://127.0.0.1:8000
            losscore models show MODEL_ID --server http://127.0.0.1:8000 --output /tmp/model.json
            losscore models rm MODEL_ID --server http://127.0.0.1:8000
        """,
        run=lambda args: _usage(parser),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    ls = new_parser(
        actions,
        "ls",
        summary="list stored models, newest first",
        description="Stored models, newest first (GET /v1/models, page after page).",
        examples="losscore models ls --limit 10 --server http://127.0.0.1:8000",
        run=run_ls,
    )
    ls.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help="at most N models"
    )
    ls.add_argument("--all", action="store_true", help="every model (no limit)")
    show = new_parser(
        actions,
        "show",
        summary="one stored model in full",
        description="A stored model: options, solver, certificate, metrics, coefficients.",
        examples="losscore models show MODEL_ID --server http://127.0.0.1:8000 --json",
        run=run_show,
    )
    show.add_argument("model_id", metavar="ID")
    show.add_argument(
        "-o", "--output", metavar="FILE", help="also save it as a model file for `predict --model`"
    )
    rm = new_parser(
        actions,
        "rm",
        summary="delete a stored model",
        description="Delete a stored model (DELETE /v1/models/{id}).",
        examples="losscore models rm MODEL_ID --server http://127.0.0.1:8000",
        run=run_rm,
    )
    rm.add_argument("model_id", metavar="ID")
    for sub in (ls, show, rm):
        add_json(sub)
        add_server(sub, required=True)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_ls(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    service = require_client(args, "models ls")
    if args.limit < 1 and not args.all:
        args.limit = 1
    models, cursor = service.models(None if args.all else args.limit)
    if out.json_mode:
        out.json({"models": models, "next_cursor": cursor})
        return 0
    out.table(
        ["id", "created", "task", "loss", "penalty", "features", "outputs", "classes"],
        [
            [
                m["model_id"],
                m["created_at"],
                m["task"],
                _named(m["loss"]),
                _named(m["penalty"]),
                m["n_features"],
                m["n_outputs"],
                ", ".join(str(c) for c in m["classes"]) if m.get("classes") else "-",
            ]
            for m in models
        ],
    )
    if cursor is not None:
        note(f"more models are stored: --limit N or --all to list them (shown: {len(models)})")
    return 0


def _named(spec: dict[str, Any]) -> str:
    params = {k: float(v) for k, v in spec.items() if k != "name"}
    return loss_label(str(spec["name"]), params)


def run_show(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    service = require_client(args, "models show")
    model = service.model(args.model_id)
    result = FitResult.from_dict(fit_dict(model))
    if args.output:
        save_model(result, args.output)
    if out.json_mode:
        out.json(model)
        return 0
    extra: list[tuple[str, Any]] = [
        ("model id", model["model_id"]),
        ("created", model["created_at"]),
    ]
    if args.output:
        extra.append(("saved", args.output))
    print_model(out, result, extra)
    return 0


def run_rm(args: argparse.Namespace) -> int:
    out = Output(json_mode=args.json)
    service = require_client(args, "models rm")
    service.delete(args.model_id)
    if out.json_mode:
        out.json({"deleted": args.model_id})
    else:
        out.line(f"deleted {args.model_id}")
    return 0
