"""The model store: fitted models as JSON rows in a SQL database (SQLAlchemy Core).

Default: SQLite at ``<LOSSCORE_DATA_DIR>/models.db`` in WAL mode; any SQLAlchemy URL
(e.g. a shared PostgreSQL for several replicas) via ``LOSSCORE_DATABASE_URL``. Models are
stored as the JSON of :meth:`losscore.train.FitResult.to_dict` (never pickle); JSON floats
round-trip exactly, so a reloaded model predicts bit-for-bit the same values. Each row also
keeps the JSON of its summary (the list view's fields), so listing never parses payloads.
The schema is versioned by Alembic (:mod:`service.migrate`): opening a store applies pending
migrations under a lock, once across replicas.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from losscore.train import FitResult
from service.migrate import upgrade

__all__ = ["InvalidCursorError", "ModelStore", "StoredModel", "get_store", "json_safe"]

log = logging.getLogger("service")

_meta = sa.MetaData()
models = sa.Table(
    "models",
    _meta,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("loss", sa.String(64), nullable=False),
    sa.Column("n_features", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=True),  # added in 0.2.0; back-filled at start
    sa.Index("ix_models_created_at_id", "created_at", "id"),  # the listing's keyset order
)
# one row, rewritten by the readiness probe: a real write, so a read-only store is noticed
probe = sa.Table(
    "store_probe",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checked_at", sa.Float, nullable=False),
)

Summarise = Callable[[FitResult], dict[str, Any]]


def json_safe(value: Any) -> Any:
    """Non-finite floats → "Infinity" / "-Infinity" / None (NaN), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


class InvalidCursorError(ValueError):
    """A pagination cursor that this store did not hand out."""


@dataclass(frozen=True)
class StoredModel:
    model_id: str
    created_at: float  # Unix time, seconds
    result: FitResult


def _encode_cursor(created_at: float, model_id: str) -> str:
    raw = json.dumps([created_at, model_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, model_id = json.loads(raw)
        if not isinstance(model_id, str) or not isinstance(created_at, int | float):
            raise TypeError
        value = float(created_at)
        if not math.isfinite(value):
            raise ValueError
        return value, model_id
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise InvalidCursorError(cursor) from None


def _payload_to_result(payload: str) -> FitResult:
    """A stored payload (non-finite numbers written as null or "Infinity") as a FitResult."""
    return FitResult.from_dict(json.loads(payload))


class ModelStore:
    """Insert, list (newest first, keyset pagination), fetch and delete fitted models."""

    def __init__(self, url: str, summarise: Summarise, pool: tuple[int, int] = (5, 10)) -> None:
        """``pool``: (connections kept, more allowed under load) per process, for a server
        database (SQLite ignores it)."""
        self.url = url
        self.summarise = summarise
        sizes = {} if url.startswith("sqlite") else {"pool_size": pool[0], "max_overflow": pool[1]}
        # pre-ping: a pooled connection that died with a database restart is replaced before
        # use, so the first request after the database is back succeeds
        self.engine: Engine = sa.create_engine(url, future=True, pool_pre_ping=True, **sizes)
        if url.startswith("sqlite"):

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                # the timeout first: switching to WAL waits for the lock like any statement
                # (several processes opening a new store at once)
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.close()

        self._writable_until = 0.0
        upgrade(self.engine)  # pending schema migrations, once across replicas (a lock)
        with self.engine.begin() as conn:
            self._add_summaries(conn)

    def _add_summaries(self, conn: Connection) -> None:
        """Fill in the summaries of models stored before 0.2.0. A payload that cannot be read
        keeps no summary (listing skips it, with a warning); its row is left as it was."""
        rows = conn.execute(
            sa.select(models.c.id, models.c.payload).where(models.c.summary.is_(None))
        ).all()
        for row in rows:
            try:
                summary = self._summary_json(_payload_to_result(row.payload))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("model %s: stored payload unreadable, not listed (%s)", row.id, exc)
                continue
            conn.execute(models.update().where(models.c.id == row.id).values(summary=summary))

    def check_writable(self, max_age_s: float = 0.0) -> None:
        """Write the probe row; raises the database's error when the store cannot be written.
        A success is trusted for *max_age_s* seconds by callers that pass one (a fit checks
        before it starts); with the default 0 (the readiness probe) the write always happens."""
        now = time.monotonic()
        if max_age_s > 0 and now < self._writable_until:
            return
        with self.engine.begin() as conn:
            conn.execute(probe.update().where(probe.c.id == 1).values(checked_at=time.time()))
        self._writable_until = now + max_age_s

    def check_readable(self) -> None:
        """Read one model id; raises the database's error when the store cannot be read."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(models.c.id).limit(1)).first()

    def _summary_json(self, result: FitResult) -> str:
        return json.dumps(json_safe(self.summarise(result)), separators=(",", ":"))

    def add(self, result: FitResult) -> StoredModel:
        model_id = uuid.uuid4().hex
        created_at = time.time()
        payload = json.dumps(json_safe(result.to_dict()), separators=(",", ":"))
        with self.engine.begin() as conn:
            conn.execute(
                models.insert().values(
                    id=model_id,
                    created_at=created_at,
                    task=result.task,
                    loss=result.loss,
                    n_features=result.n_features,
                    payload=payload,
                    summary=self._summary_json(result),
                )
            )
        return StoredModel(model_id, created_at, result)

    def get(self, model_id: str) -> StoredModel | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(models.c.id, models.c.created_at, models.c.payload).where(
                    models.c.id == model_id
                )
            ).first()
        if row is None:
            return None
        return StoredModel(row.id, row.created_at, _payload_to_result(row.payload))

    def list(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to *limit* summaries, newest first, after *cursor*; and the cursor of the next
        page (None on the last). Keyset pagination on (created_at desc, id): inserts during a
        walk land before its position, so no model is skipped or repeated."""
        query = sa.select(models.c.id, models.c.created_at, models.c.summary)
        if cursor is not None:
            created_at, model_id = _decode_cursor(cursor)
            query = query.where(
                sa.or_(
                    models.c.created_at < created_at,
                    sa.and_(models.c.created_at == created_at, models.c.id > model_id),
                )
            )
        query = query.where(models.c.summary.is_not(None))  # unreadable legacy payloads
        query = query.order_by(models.c.created_at.desc(), models.c.id).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        page = rows[:limit]
        items = [
            {"model_id": r.id, "created_at": r.created_at, **json.loads(r.summary)} for r in page
        ]
        more = len(rows) > limit
        return items, _encode_cursor(page[-1].created_at, page[-1].id) if more else None

    def close(self) -> None:
        """Close the pooled connections (a store is otherwise kept for the process)."""
        self.engine.dispose()

    def delete(self, model_id: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(models.delete().where(models.c.id == model_id)).rowcount)


_stores: dict[str, ModelStore] = {}
_lock = threading.Lock()


def get_store(
    data_dir: Path, url: str | None, summarise: Summarise, pool: tuple[int, int] = (5, 10)
) -> ModelStore:
    """The store for *url* (default: SQLite under *data_dir*), created once per process.

    The routes pass ``Settings.data_dir``, ``Settings.database_url`` and the pool sizes
    (``LOSSCORE_DATA_DIR``, ``LOSSCORE_DATABASE_URL``, ``LOSSCORE_DATABASE_POOL_SIZE``,
    ``LOSSCORE_DATABASE_MAX_OVERFLOW``) and the summary function of the API.
    """
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(data_dir / 'models.db').resolve()}"
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = ModelStore(url, summarise, pool)
        return store
