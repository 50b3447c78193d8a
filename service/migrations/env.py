"""Alembic's environment for the model store: run on the connection :mod:`service.migrate`
passes (the one holding the migration lock), never from a URL in a file."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
