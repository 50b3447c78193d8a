"""Alembic revisions of the model store's schema, oldest first."""
