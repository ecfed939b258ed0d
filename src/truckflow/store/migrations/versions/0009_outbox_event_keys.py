"""notify outbox: event keys, so that an event emitted again by a rerun is written once

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_outbox") as batch:
        batch.add_column(sa.Column("event_key", sa.String(length=200), nullable=True))
        batch.create_index(
            "ux_notify_outbox_channel_event_key", ["channel", "event_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("notify_outbox") as batch:
        batch.drop_index("ux_notify_outbox_channel_event_key")
        batch.drop_column("event_key")
