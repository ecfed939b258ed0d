"""monitoring: performance estimated per prediction day, beside the realized one

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "estimated_metrics",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expected_positives", sa.Double(), nullable=False),
        sa.Column("estimated_precision", sa.Double(), nullable=False),
        sa.Column("estimated_recall", sa.Double(), nullable=False),
        sa.Column("estimated_f1", sa.Double(), nullable=False),
        sa.Column("estimated_accuracy", sa.Double(), nullable=False),
        sa.Column("estimated_f1_low", sa.Double(), nullable=False),
        sa.Column("estimated_f1_high", sa.Double(), nullable=False),
        sa.Column("labelled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("realized_precision", sa.Double(), nullable=True),
        sa.Column("realized_recall", sa.Double(), nullable=True),
        sa.Column("realized_f1", sa.Double(), nullable=True),
        sa.Column("realized_accuracy", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_estimated_metrics")),
    )


def downgrade() -> None:
    op.drop_table("estimated_metrics")
