"""streaming: batch predictions, day and week records

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_predictions",
        sa.Column("truck_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("departure_date", sa.DateTime(), nullable=False),
        sa.Column("estimated_arrival", sa.DateTime(), nullable=False),
        sa.Column("prediction_day", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("decision", sa.SmallInteger(), nullable=False),
        sa.Column("delay", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("truck_id", "departure_date", name=op.f("pk_batch_predictions")),
    )
    op.create_index(
        "ix_batch_predictions_arrival", "batch_predictions", ["estimated_arrival"], unique=False
    )
    op.create_table(
        "streaming_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_streaming_days")),
    )
    op.create_table(
        "streaming_weeks",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("drift_detected", sa.Boolean(), nullable=False),
        sa.Column("retrained_version", sa.String(length=32), nullable=True),
        sa.Column("release_status", sa.String(length=32), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_streaming_weeks")),
    )


def downgrade() -> None:
    op.drop_table("streaming_weeks")
    op.drop_table("streaming_days")
    op.drop_index("ix_batch_predictions_arrival", table_name="batch_predictions")
    op.drop_table("batch_predictions")
