"""features: the feature-set registry and the per-trip feature table

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "feature_sets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("primary_key", sa.String(length=128), nullable=False),
        sa.Column("event_time_column", sa.String(length=64), nullable=False),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_feature_sets")),
    )
    op.create_table(
        "trip_features",
        sa.Column("truck_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("departure_date", sa.DateTime(), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("route_id", sa.String(length=32), nullable=False),
        sa.Column("estimated_arrival", sa.DateTime(), nullable=False),
        sa.Column("route_avg_temp", sa.Double(), nullable=True),
        sa.Column("route_avg_wind_speed", sa.Double(), nullable=True),
        sa.Column("route_avg_precip", sa.Double(), nullable=True),
        sa.Column("route_avg_humidity", sa.Double(), nullable=True),
        sa.Column("route_avg_visibility", sa.Double(), nullable=True),
        sa.Column("route_avg_pressure", sa.Double(), nullable=True),
        sa.Column("origin_temp", sa.Double(), nullable=True),
        sa.Column("origin_wind_speed", sa.Double(), nullable=True),
        sa.Column("origin_precip", sa.Double(), nullable=True),
        sa.Column("origin_humidity", sa.Double(), nullable=True),
        sa.Column("origin_visibility", sa.Double(), nullable=True),
        sa.Column("origin_pressure", sa.Double(), nullable=True),
        sa.Column("destination_temp", sa.Double(), nullable=True),
        sa.Column("destination_wind_speed", sa.Double(), nullable=True),
        sa.Column("destination_precip", sa.Double(), nullable=True),
        sa.Column("destination_humidity", sa.Double(), nullable=True),
        sa.Column("destination_visibility", sa.Double(), nullable=True),
        sa.Column("destination_pressure", sa.Double(), nullable=True),
        sa.Column("avg_no_of_vehicles", sa.Double(), nullable=True),
        sa.Column("distance", sa.Double(), nullable=True),
        sa.Column("average_hours", sa.Double(), nullable=True),
        sa.Column("truck_age", sa.Double(), nullable=True),
        sa.Column("load_capacity_pounds", sa.Double(), nullable=True),
        sa.Column("mileage_mpg", sa.Double(), nullable=True),
        sa.Column("age", sa.Double(), nullable=True),
        sa.Column("experience", sa.Double(), nullable=True),
        sa.Column("ratings", sa.Double(), nullable=True),
        sa.Column("average_speed_mph", sa.Double(), nullable=True),
        sa.Column("route_description", sa.String(length=64), nullable=True),
        sa.Column("origin_description", sa.String(length=64), nullable=True),
        sa.Column("destination_description", sa.String(length=64), nullable=True),
        sa.Column("fuel_type", sa.String(length=64), nullable=True),
        sa.Column("gender", sa.String(length=64), nullable=True),
        sa.Column("driving_style", sa.String(length=64), nullable=True),
        sa.Column("accident", sa.Double(), nullable=True),
        sa.Column("is_midnight", sa.Double(), nullable=True),
        sa.Column("delay", sa.SmallInteger(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("label_updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint(
            "truck_id", "departure_date", "version", name=op.f("pk_trip_features")
        ),
    )
    with op.batch_alter_table("trip_features", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trip_features_version_arrival", ["version", "estimated_arrival"], unique=False
        )
        batch_op.create_index(
            "ix_trip_features_version_departure", ["version", "departure_date"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("trip_features", schema=None) as batch_op:
        batch_op.drop_index("ix_trip_features_version_departure")
        batch_op.drop_index("ix_trip_features_version_arrival")

    op.drop_table("trip_features")
    op.drop_table("feature_sets")
