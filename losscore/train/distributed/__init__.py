"""Training over Dask collections: the in-memory fit's objective, solvers and certificate,
with the data on the workers (``losscore.train.fit`` dispatches here for a Dask array or
DataFrame). Importing this package does not import Dask; a fit does.

The driver (:mod:`._fit`) runs the optimiser; every evaluation is a pass that maps a
per-block function (:mod:`._blocks`) over the blocks and tree-reduces the small sums
(:mod:`._source`). See docs/DISTRIBUTED.md.
"""

from losscore.train.distributed._fit import fit_distributed
from losscore.train.distributed._source import is_dask

__all__ = ["fit_distributed", "is_dask"]
