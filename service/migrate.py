"""The model store's schema migrations (Alembic, revisions in ``service/migrations``).

The service applies pending migrations when it opens the store, under a lock, so replicas
or workers starting together migrate once and the others find the schema at head:

* PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) held on the migrating
  connection;
* SQLite: an exclusive ``flock`` on ``<database>.migrate-lock`` beside the file.

``python -m service.migrate [URL]`` applies them explicitly (default URL: the settings'
``LOSSCORE_DATABASE_URL``, else the SQLite store under ``LOSSCORE_DATA_DIR``); it prints the
revision before and after.
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

__all__ = ["HEAD", "current_revision", "upgrade"]

HEAD = "0002"
LOCK_KEY = 0x6C6F7373  # the advisory lock's key ("loss")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (None: no migration applied yet)."""
    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        return rev


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the pending migrations up to ``revision``, under the database's migration lock
    (taken before the first connection: a new SQLite connection switches the file to WAL,
    which must not race a migration). A store already at head is only read (a read-only
    store opens)."""
    with _locked(engine) as conn:
        at = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()  # end the read's implicit transaction: each migration commits its own
        if revision == "head" and at == HEAD:
            return
        command.upgrade(_config(conn), revision)


@contextlib.contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection that holds the migration lock while the block runs."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            conn.commit()  # the lock is the session's; each migration commits on its own
            try:
                yield conn
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()
        return
    path = _sqlite_path(engine)
    try:
        lock = open(f"{path}.migrate-lock", "a") if path else None  # noqa: SIM115
    except OSError:  # a read-only directory: nothing could be migrated in it anyway
        lock = None
    if lock is None:
        with engine.connect() as conn:
            yield conn
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sqlite_path(engine: Engine) -> str | None:
    """The file of a SQLite store (also in URI form, ``file:PATH?mode=…``); None otherwise."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return database


def main(argv: list[str]) -> int:
    if argv:
        url = argv[0]
    else:
        from service.settings import Settings

        settings = Settings()
        url = settings.database_url or f"sqlite:///{(settings.data_dir / 'models.db').resolve()}"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        print(
            f"{engine.url.render_as_string(hide_password=True)}: {before} -> {current_revision(engine)}"
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
