"""Optional boosting libraries, imported only when an adapter for them is asked for."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRA_HINT", "require"]

EXTRA_HINT = "pip install 'losscore[boost]'"


def require(module: str) -> ModuleType:
    """Import *module* (``xgboost`` or ``lightgbm``), or raise ImportError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is not installed; the boosting objectives need it: {EXTRA_HINT}"
        ) from exc
