"""faults: ingest conflicts, conflicting counts in the ingest log, a precise process start
time, and who holds a process lock (the streaming day)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=512), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kept", sa.Text(), nullable=False),
        sa.Column("kept_from", sa.String(length=600), nullable=False),
        sa.Column("rejected", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint(
            "source_file",
            "line_no",
            "row_hash",
            name="uq_ingest_conflicts_source_file_line_no_row_hash",
        ),
    )
    op.create_index("ix_ingest_conflicts_run_id", "ingest_conflicts", ["run_id"])
    with op.batch_alter_table("ingest_log") as batch:
        batch.add_column(
            sa.Column("rows_conflicting", sa.Integer(), nullable=False, server_default="0")
        )
    # MariaDB's FLOAT is single precision: a process start time came back minutes off.
    with op.batch_alter_table("pipeline_executions") as batch:
        batch.alter_column(
            "owner_started", type_=sa.Double(), existing_type=sa.Float(), existing_nullable=False
        )
    op.create_table(
        "process_locks",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=False),
        sa.Column("owner_host", sa.String(length=255), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("process_locks")
    with op.batch_alter_table("pipeline_executions") as batch:
        batch.alter_column(
            "owner_started", type_=sa.Float(), existing_type=sa.Double(), existing_nullable=False
        )
    with op.batch_alter_table("ingest_log") as batch:
        batch.drop_column("rows_conflicting")
    op.drop_index("ix_ingest_conflicts_run_id", "ingest_conflicts")
    op.drop_table("ingest_conflicts")
