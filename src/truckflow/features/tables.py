"""The feature store: a registry of feature sets and the versioned per-trip feature table.

``feature_sets`` names each definition (name, version, primary key, event time, definition hash);
``trip_features`` holds one row per (trip, version) with the features, the label when known, and
when the row was computed. Rows are only ever added for trips not yet computed, and the label is
updated in place when ground truth arrives.
"""

from __future__ import annotations

import sqlalchemy as sa

from truckflow.features.definition import CATEGORICAL_FEATURES, FEATURE_COLUMNS, TRIP_COLUMNS
from truckflow.store.tables import metadata, utcnow_column

__all__ = ["feature_sets", "trip_features"]

feature_sets = sa.Table(
    "feature_sets",
    metadata,
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("primary_key", sa.String(128), nullable=False),
    sa.Column("event_time_column", sa.String(64), nullable=False),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    utcnow_column(),
    sa.PrimaryKeyConstraint("name", "version"),
)


def _feature_column(name: str) -> sa.Column[object]:
    if name in CATEGORICAL_FEATURES:
        return sa.Column(name, sa.String(64), nullable=True)
    # Double, not Float: MySQL's FLOAT is single precision and would change the values.
    return sa.Column(name, sa.Double, nullable=True)


trip_features = sa.Table(
    "trip_features",
    metadata,
    sa.Column("truck_id", sa.BigInteger, nullable=False, autoincrement=False),
    sa.Column("departure_date", sa.DateTime, nullable=False),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column(TRIP_COLUMNS[0], sa.String(32), nullable=False),
    sa.Column(TRIP_COLUMNS[1], sa.DateTime, nullable=False),
    *(_feature_column(name) for name in FEATURE_COLUMNS),
    sa.Column("delay", sa.SmallInteger, nullable=True),
    sa.Column("computed_at", sa.DateTime, nullable=False),
    sa.Column("label_updated_at", sa.DateTime, nullable=True),
    # The input groups a row was stored without (its deadline passed before they arrived),
    # comma-separated; NULL when complete. A later fill completes the row.
    sa.Column("missing_inputs", sa.String(200), nullable=True),
    sa.PrimaryKeyConstraint("truck_id", "departure_date", "version"),
    sa.Index("ix_trip_features_version_departure", "version", "departure_date"),
    sa.Index("ix_trip_features_version_arrival", "version", "estimated_arrival"),
)
