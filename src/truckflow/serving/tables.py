"""Serving's tables: every prediction captured (``truckflow.serving.capture``) and its feedback."""

from __future__ import annotations

import sqlalchemy as sa

from truckflow.store.tables import metadata, utcnow_column

__all__ = ["prediction_feedback", "predictions"]

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("request_id", sa.String(32), nullable=False, index=True),
    sa.Column("inputs", sa.JSON, nullable=True),
    sa.Column("features", sa.JSON, nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("decision", sa.SmallInteger, nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),
)


prediction_feedback = sa.Table(
    "prediction_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "prediction_id", sa.String(32), sa.ForeignKey("predictions.id"), nullable=False, index=True
    ),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    utcnow_column(),
    sa.CheckConstraint("verdict IN ('right', 'wrong', 'unsure')", name="verdict"),
)
