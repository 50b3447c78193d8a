"""The model store: fitted models as JSON rows in a SQL database (SQLAlchemy Core).

Default: SQLite at ``<LOSSCORE_DATA_DIR>/models.db`` in WAL mode; any SQLAlchemy URL
(e.g. a shared PostgreSQL for several replicas) via ``LOSSCORE_DATABASE_URL``. Models are
stored as the JSON of :meth:`losscore.train.FitResult.to_dict` (never pickle); JSON floats
round-trip exactly, so a reloaded model predicts bit-for-bit the same values.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from losscore.train import FitResult

__all__ = ["ModelStore", "get_store", "json_safe"]

_meta = sa.MetaData()
models = sa.Table(
    "models",
    _meta,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("loss", sa.String(64), nullable=False),
    sa.Column("n_features", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)


def json_safe(value: Any) -> Any:
    """Non-finite floats → "Infinity" / "-Infinity" / None (NaN), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


class ModelStore:
    """Insert, list, fetch and delete fitted models."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url, future=True)
        if url.startswith("sqlite"):

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

        _meta.create_all(self.engine)

    def add(self, result: FitResult) -> str:
        model_id = uuid.uuid4().hex
        payload = json.dumps(json_safe(result.to_dict()), separators=(",", ":"))
        with self.engine.begin() as conn:
            conn.execute(
                models.insert().values(
                    id=model_id,
                    created_at=time.time(),
                    task=result.task,
                    loss=result.loss,
                    n_features=result.n_features,
                    payload=payload,
                )
            )
        return model_id

    def get(self, model_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(models).where(models.c.id == model_id)).first()
        if row is None:
            return None
        out: dict[str, Any] = json.loads(row.payload)
        out["model_id"] = row.id
        out["created_at"] = row.created_at
        return out

    def load(self, model_id: str) -> FitResult | None:
        data = self.get(model_id)
        if data is None:
            return None
        for key in ("objective", "optimality"):
            if isinstance(data.get(key), str):
                data[key] = float(data[key].replace("Infinity", "inf"))
            elif data.get(key) is None:
                data[key] = float("nan")
        return FitResult.from_dict(data)

    def list(self, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        with self.engine.connect() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(models)).scalar_one())
            rows = conn.execute(
                sa.select(
                    models.c.id,
                    models.c.created_at,
                    models.c.task,
                    models.c.loss,
                    models.c.n_features,
                )
                .order_by(models.c.created_at.desc(), models.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return total, [
            {
                "model_id": r.id,
                "created_at": r.created_at,
                "task": r.task,
                "loss": r.loss,
                "n_features": r.n_features,
            }
            for r in rows
        ]

    def delete(self, model_id: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(models.delete().where(models.c.id == model_id)).rowcount)


_stores: dict[str, ModelStore] = {}
_lock = threading.Lock()


def get_store(data_dir: Path, url: str | None = None) -> ModelStore:
    """The store for *url* (default: SQLite under *data_dir*), created once per process.

    The routes pass ``Settings.data_dir`` and ``Settings.database_url``
    (``LOSSCORE_DATA_DIR``, ``LOSSCORE_DATABASE_URL``).
    """
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(data_dir / 'models.db').resolve()}"
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = ModelStore(url)
        return store
