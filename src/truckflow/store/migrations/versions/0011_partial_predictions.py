"""predictions with what they lacked: trip_features.missing_inputs, batch_predictions flags

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trip_features") as batch:
        batch.add_column(sa.Column("missing_inputs", sa.String(length=200), nullable=True))
    with op.batch_alter_table("batch_predictions") as batch:
        batch.add_column(
            sa.Column("features_complete", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("missing_groups", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_predictions") as batch:
        batch.drop_column("missing_groups")
        batch.drop_column("features_complete")
    with op.batch_alter_table("trip_features") as batch:
        batch.drop_column("missing_inputs")
