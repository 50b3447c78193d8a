"""The store as 0.3.0 left it: models (with the summary column added in 0.2.0) and the
readiness probe. Adopts stores made before migrations existed: creates only what is
missing, and adds the summary column to a 0.1.0 store.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "models" not in tables:
        op.create_table(
            "models",
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("task", sa.String(32), nullable=False),
            sa.Column("loss", sa.String(64), nullable=False),
            sa.Column("n_features", sa.Integer, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("summary", sa.Text, nullable=True),
        )
        op.create_index("ix_models_created_at", "models", ["created_at"])
    elif "summary" not in {c["name"] for c in inspector.get_columns("models")}:
        op.add_column("models", sa.Column("summary", sa.Text, nullable=True))
    if "store_probe" not in tables:
        probe = op.create_table(
            "store_probe",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("checked_at", sa.Float, nullable=False),
        )
        op.bulk_insert(probe, [{"id": 1, "checked_at": time.time()}])


def downgrade() -> None:
    op.drop_table("store_probe")
    op.drop_table("models")
