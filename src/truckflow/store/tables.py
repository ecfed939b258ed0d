"""The operational database's shared metadata, the source tables and the platform's own tables.

Every package that owns tables declares them on the one ``metadata`` below, in its own
``tables.py`` (``truckflow.<package>.tables``); ``truckflow.store.migrate`` finds those modules
itself, so that Alembic sees the whole schema without the store naming any domain package.

The source tables keep the course's column names; natural keys are unique constraints, which is
what makes every ingest idempotent.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "cities",
    "city_weather",
    "drivers",
    "ingest_conflicts",
    "ingest_log",
    "metadata",
    "process_locks",
    "quarantine",
    "route_weather",
    "routes",
    "traffic",
    "truck_schedule",
    "trucks",
    "utcnow_column",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = sa.String(32)
# The big tables have composite natural keys: on SQLite they are WITHOUT ROWID tables, stored in
# their key's b-tree alone, which makes bulk ingest about 1.5x faster than a rowid table plus
# a separate unique index (benchmarks/ingest.py).


def utcnow_column(name: str = "created_at") -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=False), nullable=False, server_default=sa.func.now()
    )


def _weather_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("temp", sa.Float, nullable=False),
        sa.Column("wind_speed", sa.Float, nullable=False),
        sa.Column("description", sa.String(64), nullable=True),
        sa.Column("precip", sa.Float, nullable=False),
        sa.Column("humidity", sa.Float, nullable=False),
        sa.Column("visibility", sa.Float, nullable=False),
        sa.Column("pressure", sa.Float, nullable=False),
    ]


trucks = sa.Table(
    "trucks",
    metadata,
    sa.Column("truck_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("truck_age", sa.Integer, nullable=False),
    sa.Column("load_capacity_pounds", sa.Float, nullable=True),
    sa.Column("mileage_mpg", sa.Integer, nullable=False),
    sa.Column("fuel_type", sa.String(16), nullable=True),
)

drivers = sa.Table(
    "drivers",
    metadata,
    sa.Column("driver_id", _ID, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("gender", sa.String(16), nullable=True),
    sa.Column("age", sa.Integer, nullable=False),
    sa.Column("experience", sa.Integer, nullable=False),
    sa.Column("driving_style", sa.String(32), nullable=True),
    sa.Column("ratings", sa.Integer, nullable=False),
    sa.Column("vehicle_no", sa.BigInteger, nullable=False, index=True),
    sa.Column("average_speed_mph", sa.Float, nullable=False),
)

cities = sa.Table(
    "cities",
    metadata,
    sa.Column("city_id", _ID, primary_key=True),
)

routes = sa.Table(
    "routes",
    metadata,
    sa.Column("route_id", _ID, primary_key=True),
    sa.Column("origin_id", _ID, nullable=False),
    sa.Column("destination_id", _ID, nullable=False),
    sa.Column("distance", sa.Float, nullable=False),
    sa.Column("average_hours", sa.Float, nullable=False),
)

city_weather = sa.Table(
    "city_weather",
    metadata,
    sa.Column("city_id", _ID, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("hour", sa.SmallInteger, nullable=False),
    *_weather_columns(),
    sa.PrimaryKeyConstraint("city_id", "date", "hour"),
    sqlite_with_rowid=False,
)

route_weather = sa.Table(
    "route_weather",
    metadata,
    sa.Column("route_id", _ID, nullable=False),
    sa.Column("ts", sa.DateTime, nullable=False),
    *_weather_columns(),
    sa.PrimaryKeyConstraint("route_id", "ts"),
    sqlite_with_rowid=False,
)

traffic = sa.Table(
    "traffic",
    metadata,
    sa.Column("route_id", _ID, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("hour", sa.SmallInteger, nullable=False),
    sa.Column("no_of_vehicles", sa.Float, nullable=True),
    sa.Column("accident", sa.SmallInteger, nullable=False),
    sa.PrimaryKeyConstraint("route_id", "date", "hour"),
    sqlite_with_rowid=False,
)

truck_schedule = sa.Table(
    "truck_schedule",
    metadata,
    sa.Column("truck_id", sa.BigInteger, nullable=False),
    sa.Column("route_id", _ID, nullable=False),
    sa.Column("departure_date", sa.DateTime, nullable=False),
    sa.Column("estimated_arrival", sa.DateTime, nullable=False),
    sa.Column("delay", sa.SmallInteger, nullable=True),
    sa.PrimaryKeyConstraint("truck_id", "departure_date"),
    sa.Index("ix_truck_schedule_departure", "departure_date"),
    sa.Index("ix_truck_schedule_arrival", "estimated_arrival"),
    sqlite_with_rowid=False,
)


ingest_log = sa.Table(
    "ingest_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("source_file", sa.String(512), nullable=False),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("until", sa.Date, nullable=True),
    sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_present", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_conflicting", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("source_file", sa.String(512), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    utcnow_column(),
    # The same bad line of the same file is kept once, however often it is ingested.
    sa.UniqueConstraint("source_file", "line_no", "row_hash"),
)

# Rows whose key was already taken by a row with other values: the first row is kept (as the
# course does); the rejected one is recorded here with the kept one, never dropped in silence.
ingest_conflicts = sa.Table(
    "ingest_conflicts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("source_file", sa.String(512), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("kept", sa.Text, nullable=False),
    sa.Column("kept_from", sa.String(600), nullable=False),
    sa.Column("rejected", sa.Text, nullable=False),
    utcnow_column(),
    sa.UniqueConstraint("source_file", "line_no", "row_hash"),
)

# Who holds a process lock (``store.locks``): the lock itself lives in the database engine
# (advisory lock, GET_LOCK, a file lock beside SQLite's file); this row says who took it.
process_locks = sa.Table(
    "process_locks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("owner_pid", sa.Integer, nullable=False),
    sa.Column("owner_host", sa.String(255), nullable=False),
    sa.Column("since", sa.DateTime, nullable=False),
)
