"""pipeline executions: the outcome a pipeline gives its finished run (a release's decision)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_executions") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column(
                "outcome_summary",
                sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("pipeline_executions") as batch:
        batch.drop_column("outcome_summary")
        batch.drop_column("outcome")
