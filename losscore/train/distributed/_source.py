"""Dask inputs as aligned row blocks, and passes over them (private).

A :class:`Source` holds one Dask ``Delayed`` per block of rows (a chunk of a Dask array with
its targets and weights, or a partition of a Dask DataFrame) and runs *passes*: a function
of :mod:`._blocks` mapped over the blocks on the workers, its results tree-reduced (groups of
``SPLIT_EVERY``) into one small value on the driver. Nothing else in the fit touches Dask.

Whatever scheduler is active runs the passes: a ``distributed.Client`` (a cluster), or
Dask's local scheduler. With a client the blocks are persisted in the workers' memory
(spilling to disk beyond it) and read once; with the local scheduler they are not, so every
pass reads the data again from where it lives (out of core: the process holds a few blocks
at a time, never the dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from losscore.errors import InvalidInputError
from losscore.train.distributed._blocks import Columns

__all__ = ["SPLIT_EVERY", "Source", "is_dask"]

SPLIT_EVERY = 8  # blocks per reduction task (the tree's fan-in)


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection (without importing Dask for other inputs)."""
    if not type(obj).__module__.startswith("dask"):
        return False
    from dask.base import is_dask_collection

    return bool(is_dask_collection(obj))


def _is_client(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "Client" and type(scheduler).__module__.startswith(
        "distributed"
    )


def _active_client() -> Any:
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - distributed is installed with dask here
        return None
    try:
        return default_client()
    except ValueError:
        return None


@dataclass
class Source:
    """Row blocks on the workers and the number of passes made over them."""

    blocks: list[Any]
    columns: Columns | None
    d: int
    persisted: bool
    passes: int = 0
    scheduler: Any = field(default=None, repr=False)  # None: Dask's default
    on_pass: Callable[[int], None] | None = field(default=None, repr=False)

    @classmethod
    def of(
        cls,
        X: Any,
        y: Any,
        sample_weight: Any,
        features: Sequence[str] | None,
        persist: bool | None,
        scheduler: Any = None,
        on_pass: Callable[[int], None] | None = None,
    ) -> Source:
        """Blocks from a Dask array X (n, d) with y and weights as Dask or NumPy arrays of
        length n, or from a Dask DataFrame X with ``y`` (and ``sample_weight``) naming
        columns and ``features`` the feature columns (default: every other column).
        ``scheduler``: what runs the passes (a ``distributed.Client``, or a local scheduler's
        name; None: Dask's default); ``on_pass(count)`` is called after each pass."""
        if persist is None:
            persist = _is_client(scheduler) or (scheduler is None and _active_client() is not None)
        if hasattr(X, "columns") and hasattr(X, "to_delayed"):
            blocks, columns, d = _frame_blocks(X, y, sample_weight, features)
        else:
            if features is not None:
                raise InvalidInputError("features", "applies to a DataFrame source only")
            blocks, columns, d = _array_blocks(X, y, sample_weight), None, int(X.shape[1])
        if persist:
            from dask.base import persist as persist_all

            blocks = list(persist_all(*blocks, scheduler=scheduler))
        return cls(blocks, columns, d, persist, 0, scheduler, on_pass)

    @classmethod
    def in_memory(cls, X: Any, y: Any, sample_weight: Any) -> Source:
        """One block of NumPy rows, run by Dask's synchronous scheduler (a band problem's
        rows on the driver: see ._band)."""
        import dask.array as da

        Xd = da.from_array(X, chunks=(max(X.shape[0], 1), X.shape[1]))
        return cls.of(Xd, y, sample_weight, None, persist=False, scheduler="sync")

    def run(
        self,
        block_fn: Callable[..., Any],
        combine: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """One pass: ``block_fn(block, columns, *args)`` on every block, tree-reduced with
        ``combine(*results)``; the small result comes back to the driver."""
        from dask.base import compute
        from dask.delayed import delayed

        self.passes += 1
        fn = delayed(block_fn, pure=False)
        parts = [fn(b, self.columns, *args) for b in self.blocks]
        join = delayed(combine, pure=False)
        while len(parts) > 1:
            parts = [join(*parts[i : i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
        (out,) = compute(parts[0], scheduler=self.scheduler)
        if self.on_pass is not None:
            self.on_pass(self.passes)
        return out


def _array_blocks(X: Any, y: Any, sample_weight: Any) -> list[Any]:
    import dask.array as da
    from dask.delayed import delayed

    if X.ndim != 2:
        raise InvalidInputError("X", f"must be a 2-d array (n, d), got {X.ndim}-d")
    if X.shape[1] == 0:
        raise InvalidInputError("X", "has no columns (d = 0); at least one feature is needed")
    X = X.rechunk({1: -1})  # every block holds whole rows
    rows = X.chunks[0]

    def align(v: Any, name: str) -> Any:
        arr = v if is_dask(v) else da.from_array(v, chunks=(rows,))
        if arr.ndim != 1 or arr.shape[0] != X.shape[0]:
            raise InvalidInputError(
                name, f"shape {list(arr.shape)} does not match the {X.shape[0]} rows of X"
            )
        return arr.rechunk((rows,))

    yb = align(y, "y").to_delayed().ravel()
    sb = None if sample_weight is None else align(sample_weight, "sample_weight").to_delayed()
    xb = X.to_delayed().ravel()
    pack = delayed(_pack, pure=True)
    return [pack(xb[i], yb[i], None if sb is None else sb.ravel()[i]) for i in range(len(xb))]


def _pack(X: Any, y: Any, s: Any) -> tuple[Any, Any, Any]:
    return X, y, s


def _frame_blocks(
    frame: Any, y: Any, sample_weight: Any, features: Sequence[str] | None
) -> tuple[list[Any], Columns, int]:
    names = [str(c) for c in frame.columns]
    if not isinstance(y, str):
        raise InvalidInputError("y", "with a DataFrame, y names the target column")
    if sample_weight is not None and not isinstance(sample_weight, str):
        raise InvalidInputError(
            "sample_weight", "with a DataFrame, sample_weight names the weight column"
        )
    for field_name, col in (("y", y), ("sample_weight", sample_weight)):
        if col is not None and col not in names:
            raise InvalidInputError(field_name, f"no column {col!r}; the columns are {names}")
    if features is None:
        chosen = [c for c in names if c not in (y, sample_weight)]
    else:
        chosen = [str(c) for c in features]
        missing = [c for c in chosen if c not in names]
        if missing:
            raise InvalidInputError(
                "features", f"no column {missing[0]!r}; the columns are {names}"
            )
    if not chosen:
        raise InvalidInputError("features", "no feature columns; at least one is needed")
    columns = Columns(tuple(chosen), y, sample_weight)
    return list(frame.to_delayed()), columns, len(chosen)
