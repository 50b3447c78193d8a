"""Listing pages by the key (created_at, id): one index on both columns (the keyset
pagination's order and tie-break), in place of the index on created_at alone.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("models")}
    with op.batch_alter_table("models") as batch:
        batch.create_index("ix_models_created_at_id", ["created_at", "id"])
        if "ix_models_created_at" in existing:  # a 0.1.0 store never had it
            batch.drop_index("ix_models_created_at")


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.create_index("ix_models_created_at", ["created_at"])
        batch.drop_index("ix_models_created_at_id")
