"""engine: pipeline and step executions

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "pipeline_executions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pipeline", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("runner", sa.String(length=32), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "finished_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "heartbeat_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.Column("owner_host", sa.String(length=255), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=False),
        sa.Column("owner_started", sa.Float(), nullable=False),
        sa.Column("source_execution_id", sa.String(length=36), nullable=True),
        sa.Column("selected_steps", sa.JSON(), nullable=True),
        sa.Column(
            "error",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column("stop_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_executions")),
    )
    with op.batch_alter_table("pipeline_executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_executions_pipeline"), ["pipeline"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pipeline_executions_status"), ["status"], unique=False)

    op.create_table(
        "step_executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "finished_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempt_log", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("cache_hit", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("cache_reason", sa.Text(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("input_hashes", sa.JSON(), nullable=True),
        sa.Column("reused_from", sa.String(length=36), nullable=True),
        sa.Column(
            "error",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "traceback",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_step_executions_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_executions")),
        sa.UniqueConstraint(
            "execution_id", "step", name=op.f("uq_step_executions_execution_id_step")
        ),
    )
    with op.batch_alter_table("step_executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_step_executions_cache_key"), ["cache_key"], unique=False
        )
        batch_op.create_index(
            "ix_step_executions_pipeline_lookup", ["step", "status"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("step_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_step_executions_pipeline_lookup")
        batch_op.drop_index(batch_op.f("ix_step_executions_cache_key"))

    op.drop_table("step_executions")
    with op.batch_alter_table("pipeline_executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_executions_status"))
        batch_op.drop_index(batch_op.f("ix_pipeline_executions_pipeline"))

    op.drop_table("pipeline_executions")
