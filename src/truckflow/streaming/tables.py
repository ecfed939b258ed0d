"""The streaming simulation's own tables: batch predictions, one record per day and per week.

``batch_predictions`` holds one row per trip (natural key truck_id, departure_date): the
production model's prediction made on the trip's departure day, and the ground truth once it
arrives. ``streaming_days`` is the day's final record, written in the same transaction that
advances the clock; ``streaming_weeks`` is the weekly drift pipeline's outcome (its decision,
the retrained version and what the release flow did with it). ``streaming_clock`` is the
simulation's one-row clock (``truckflow.streaming.clock``).
"""

from __future__ import annotations

import sqlalchemy as sa

from truckflow.store.tables import metadata

__all__ = ["batch_predictions", "streaming_clock", "streaming_days", "streaming_weeks"]

batch_predictions = sa.Table(
    "batch_predictions",
    metadata,
    sa.Column("truck_id", sa.BigInteger, nullable=False, autoincrement=False),
    sa.Column("departure_date", sa.DateTime, nullable=False),
    sa.Column("estimated_arrival", sa.DateTime, nullable=False),
    sa.Column("prediction_day", sa.Date, nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("probability", sa.Double, nullable=False),
    sa.Column("decision", sa.SmallInteger, nullable=False),
    sa.Column("delay", sa.SmallInteger, nullable=True),
    # The top contributions behind the probability, in the user's terms (truckflow.training.explain).
    sa.Column("reasons", sa.JSON, nullable=True),
    # Whether the served prediction had every input, and which groups it lacked (as served;
    # the stored features are completed later, this record is not).
    sa.Column("features_complete", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("missing_groups", sa.String(200), nullable=True),
    sa.PrimaryKeyConstraint("truck_id", "departure_date"),
    sa.Index("ix_batch_predictions_arrival", "estimated_arrival"),
)

streaming_days = sa.Table(
    "streaming_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("summary", sa.JSON, nullable=False),
)

streaming_weeks = sa.Table(
    "streaming_weeks",
    metadata,
    sa.Column("week_start", sa.Date, primary_key=True),
    sa.Column("drift_detected", sa.Boolean, nullable=False),
    sa.Column("retrained_version", sa.String(32), nullable=True),
    sa.Column("release_status", sa.String(32), nullable=True),
    sa.Column("summary", sa.JSON, nullable=False),
)

streaming_clock = sa.Table(
    "streaming_clock",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("current_day", sa.Date, nullable=True),
    sa.Column("week_start", sa.Date, nullable=True),
    sa.Column("day_in_week", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("new_week", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("processed", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("id = 1", name="single_row"),
)
