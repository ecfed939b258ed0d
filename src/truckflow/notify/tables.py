"""The notification outbox: one row per (event, channel), written with the state change it reports.

A row holds the channel's name and its redacted URL, never the URL itself: the dispatcher looks
the real URL up in the settings when it delivers. ``status`` moves pending -> sending (claimed by
one dispatcher, ``claim_token``) -> delivered; a failed attempt puts it back to pending with
``attempts``, ``last_error`` and ``next_attempt_at`` set. ``failed`` is for rows that can never
be delivered (a one-off test channel that is gone); nothing else is ever given up.

``event_key`` names an event that must be told once (the metrics of a day, the drift of a
week): a rerun of the day that emits it again finds the key and writes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from truckflow.store.tables import metadata, utcnow_column

__all__ = ["STATUSES", "notify_outbox"]

STATUSES = ("pending", "sending", "delivered", "failed")

# MySQL's DATETIME drops fractions of a second unless asked; the order of retries needs them.
_TIME = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

notify_outbox = sa.Table(
    "notify_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("channel_url", sa.String(512), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("event_key", sa.String(200), nullable=True),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(512), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("event_time", _TIME, nullable=False),
    # The UTC day a digest channel's row belongs to; NULL for one-message-per-event channels.
    sa.Column("digest_day", sa.Date, nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", _TIME, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("claim_token", sa.String(36), nullable=True),
    sa.Column("claimed_at", _TIME, nullable=True),
    utcnow_column("created_at"),
    sa.Column("delivered_at", _TIME, nullable=True),
    sa.CheckConstraint(
        "status IN ('pending', 'sending', 'delivered', 'failed')", name="status_known"
    ),
    sa.Index("ix_notify_outbox_channel_status_id", "channel", "status", "id"),
    sa.Index("ix_notify_outbox_status", "status"),
    sa.Index("ux_notify_outbox_channel_event_key", "channel", "event_key", unique=True),
)
