"""monitoring: drift runs, drift columns, daily metrics

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_metrics",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Double(), nullable=False),
        sa.Column("precision", sa.Double(), nullable=False),
        sa.Column("recall", sa.Double(), nullable=False),
        sa.Column("f1", sa.Double(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_metrics")),
    )
    op.create_table(
        "drift_columns",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=False),
        sa.Column("column_type", sa.String(length=16), nullable=False),
        sa.Column("test", sa.String(length=16), nullable=False),
        sa.Column("statistic", sa.Double(), nullable=True),
        sa.Column("p_value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "week_start", "scope", "column_name", name=op.f("pk_drift_columns")
        ),
    )
    op.create_table(
        "drift_runs",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("reference_start", sa.Date(), nullable=True),
        sa.Column("reference_end", sa.Date(), nullable=True),
        sa.Column("current_start", sa.Date(), nullable=True),
        sa.Column("current_end", sa.Date(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("dataset_drift", sa.Boolean(), nullable=False),
        sa.Column("share_drifted", sa.Double(), nullable=False),
        sa.Column("drift_share", sa.Double(), nullable=False),
        sa.Column("prediction_drift", sa.Boolean(), nullable=True),
        sa.Column("model_drift", sa.Boolean(), nullable=True),
        sa.Column("f1", sa.Double(), nullable=True),
        sa.Column("drift_detected", sa.Boolean(), nullable=False),
        sa.Column("html_path", sa.String(length=1024), nullable=True),
        sa.Column("json_path", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_drift_runs")),
    )


def downgrade() -> None:
    op.drop_table("drift_runs")
    op.drop_table("drift_columns")
    op.drop_table("daily_metrics")
