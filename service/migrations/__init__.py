"""The model store's schema, versioned with Alembic (see :mod:`service.migrate`)."""
