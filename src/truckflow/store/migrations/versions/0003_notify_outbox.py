"""notify: the notification outbox

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _time() -> sa.types.TypeEngine[Any]:
    # Fractions of a second matter for retry times; MySQL/MariaDB drop them unless asked.
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("channel_url", sa.String(length=512), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("event_time", _time(), nullable=False),
        sa.Column("digest_day", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", _time(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("delivered_at", _time(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'delivered', 'failed')",
            name=op.f("ck_notify_outbox_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_outbox")),
    )
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notify_outbox_channel_status_id", ["channel", "status", "id"], unique=False
        )
        batch_op.create_index("ix_notify_outbox_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_outbox_status")
        batch_op.drop_index("ix_notify_outbox_channel_status_id")
    op.drop_table("notify_outbox")
