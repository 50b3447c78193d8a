"""Training on a dataset read where it lives (``"dataset"`` in a training request).

* **Where**: ``dataset.path`` must resolve (symbolic links and ``..`` followed) under one of
  ``LOSSCORE_DATASET_ROOTS``; anything else is a 403 naming ``dataset.path``, decided from the
  path alone, before any file is opened. A path under a root that does not exist is a 422.
* **Who reads it**: the Dask scheduler at ``LOSSCORE_DASK_SCHEDULER`` (its workers read the
  files: they must see the same paths), or Dask's local scheduler in this process when unset
  (threads; the blocks are read again at every pass, out of core). A scheduler that cannot be
  reached, or is lost during the fit, is a 503 ``scheduler_unavailable``.
* **How**: :func:`losscore.train.distributed.fit_distributed` on a Dask DataFrame of the named
  columns; the request's options as for inline data; the time limit as for any fit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from losscore.train import FitResult
from service.arrays import out_number
from service.errors import ApiError, ErrorDetail
from service.schemas.evaluate import DatasetEvaluateRequest, EvaluateDataset, EvaluateOutput
from service.schemas.train import DatasetRef, TrainOptions
from service.settings import Settings

__all__ = ["check_dataset", "check_output", "evaluate_dataset", "fit_dataset", "roots"]

_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def roots(settings: Settings) -> list[Path]:
    """The configured dataset roots, resolved."""
    return [
        Path(os.path.realpath(r.strip())) for r in settings.dataset_roots.split(",") if r.strip()
    ]


def _forbidden(reason: str) -> ApiError:
    detail = ErrorDetail(field="dataset.path", reason=reason)
    return ApiError(403, "forbidden_path", f"dataset.path: {reason}", [detail])


def check_dataset(ref: DatasetRef | EvaluateDataset, settings: Settings) -> Path:
    """The resolved path of a dataset reference, if it lies under a dataset root."""
    allowed = roots(settings)
    if not allowed:
        raise _forbidden(
            "datasets are not enabled on this server (LOSSCORE_DATASET_ROOTS is empty)"
        )
    if "\x00" in ref.path:
        raise _forbidden("contains a NUL character")
    raw = Path(ref.path)
    candidate = raw if raw.is_absolute() else allowed[0] / raw
    # a glob (CSV) is checked through its directory: the pattern itself may not name a parent
    pattern = any(ch in candidate.name for ch in "*?[")
    base = candidate.parent if pattern else candidate
    if pattern and any(ch in str(candidate.parent) for ch in "*?["):
        raise _forbidden("a glob is allowed in the file name only")
    resolved = Path(os.path.realpath(base))
    if not any(resolved == r or r in resolved.parents for r in allowed):
        raise _forbidden(
            f"{ref.path!r} is not under a dataset root (LOSSCORE_DATASET_ROOTS: "
            f"{', '.join(str(r) for r in allowed)})"
        )
    if not resolved.exists():
        raise ApiError.invalid("dataset.path", f"{ref.path!r}: no such file or directory")
    if ref.format == "csv" and resolved.is_dir():
        raise ApiError.invalid("dataset.path", "a CSV dataset is a file or a glob of files")
    return resolved / candidate.name if pattern else resolved


def _scheduler(settings: Settings) -> Any:
    """A connected ``distributed.Client`` for LOSSCORE_DASK_SCHEDULER (one per process,
    reconnected when lost), or "threads" for Dask's local scheduler."""
    address = settings.dask_scheduler.strip()
    if not address:
        return "threads"
    with _LOCK:
        client = _CLIENTS.get(address)
        if client is not None and client.status == "running":
            return client
        from distributed import Client

        try:
            client = Client(address, timeout=settings.dask_connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise _unavailable(address, exc) from None
        _CLIENTS[address] = client
        return client


def _unavailable(address: str, exc: BaseException) -> ApiError:
    return ApiError(
        503,
        "scheduler_unavailable",
        f"the Dask scheduler at {address} (LOSSCORE_DASK_SCHEDULER) cannot be reached: "
        f"{type(exc).__name__}: {exc}",
    )


def check_output(out: EvaluateOutput, settings: Settings) -> Path:
    """Where per-row results may be written: a new directory whose parent lies under a root."""
    allowed = roots(settings)
    raw = Path(out.path)
    candidate = raw if raw.is_absolute() else (allowed[0] / raw if allowed else raw)
    parent = Path(os.path.realpath(candidate.parent))
    if not any(parent == r or r in parent.parents for r in allowed) or candidate.name in (
        "",
        ".",
        "..",
    ):
        detail = ErrorDetail(field="output.path", reason="is not under a dataset root")
        raise ApiError(403, "forbidden_path", "output.path: is not under a dataset root", [detail])
    target = parent / candidate.name
    if target.exists() or target.is_symlink():
        raise ApiError.invalid(
            "output.path", f"{out.path!r} already exists (nothing is overwritten)"
        )
    return target


def evaluate_dataset(
    req: DatasetEvaluateRequest, path: Path, output: Path | None, settings: Settings
) -> dict[str, Any]:
    """``POST /v1/evaluate/dataset`` after its paths were checked: one pass on Dask."""
    from losscore.frames import evaluate_frame
    from losscore.losses import get_loss
    from losscore.spec import resolve_params

    loss = get_loss(req.loss.name)
    params = resolve_params(loss.spec.name, loss.spec.params, req.loss.params())
    scheduler = _scheduler(settings)
    ds = req.dataset
    columns = [*ds.prediction, ds.target] + ([ds.weight] if ds.weight else [])
    frame = _read(ds.format, path, columns)
    try:
        r = evaluate_frame(
            loss.spec.name,
            frame,
            prediction=ds.prediction,
            target=ds.target,
            weight=ds.weight,
            reduction=req.reduction,
            output=output,
            scheduler=scheduler,
            **params,
        )
    except (OSError, TimeoutError) as exc:
        raise _unavailable(settings.dask_scheduler or "local", exc) from None
    except KeyError as exc:
        raise ApiError.invalid("dataset", f"a column is missing: {exc}") from None
    return {
        "loss": {"name": loss.spec.name, **params},
        "reduction": req.reduction,
        "value": out_number(r.value),
        "rows": r.rows,
        "weight_sum": r.weight_sum,
        "files": r.files,
    }


def _frame(ref: DatasetRef, path: Path) -> Any:
    columns = None
    if ref.features is not None:
        columns = [*ref.features, ref.target] + ([ref.weight] if ref.weight else [])
    return _read(ref.format, path, columns)


def _read(fmt: str, path: Path, columns: list[str] | None) -> Any:
    import dask.dataframe as dd

    if fmt == "parquet":
        try:
            return dd.read_parquet(str(path), columns=columns)
        except (OSError, ValueError, KeyError) as exc:
            raise ApiError.invalid("dataset", f"cannot read it as Parquet: {exc}") from None
    try:
        return dd.read_csv(str(path), usecols=columns)
    except (OSError, ValueError, KeyError) as exc:
        raise ApiError.invalid("dataset", f"cannot read it as CSV: {exc}") from None


def fit_dataset(
    ref: DatasetRef,
    path: Path,
    opts: TrainOptions,
    *,
    max_iter: int,
    time_limit: float,
    settings: Settings,
    callback: Callable[[int, float, float, float], None] | None,
    cancel: Callable[[], bool] | None,
    on_pass: Callable[[int], None] | None,
) -> FitResult:
    """The fit of a checked dataset reference (runs in a fit-gate thread)."""
    from losscore.train.distributed import fit_distributed

    scheduler = _scheduler(settings)
    frame = _frame(ref, path)
    penalty = opts.penalty.params()
    try:
        return fit_distributed(
            frame,
            ref.target,
            features=ref.features,
            sample_weight=ref.weight,
            scheduler=scheduler,
            on_pass=on_pass,
            cancel=cancel,
            callback=callback,
            task=opts.task,
            loss=opts.loss.name,
            loss_params=opts.loss.params(),
            penalty=opts.penalty.name,
            alpha=penalty.get("alpha", 0.0),
            l1_ratio=penalty.get("l1_ratio", 0.5),
            fit_intercept=opts.fit_intercept,
            standardize=opts.standardize,
            class_weight=opts.class_weight,
            max_iter=max_iter,
            tol=opts.tol,
            time_limit_s=time_limit,
            random_state=opts.random_state,
        )
    except (OSError, TimeoutError) as exc:  # the scheduler or a worker lost mid-fit
        raise _unavailable(settings.dask_scheduler or "local", exc) from None
    except (KeyError, FileNotFoundError) as exc:
        raise ApiError.invalid("dataset", f"a column or file is missing: {exc}") from None
