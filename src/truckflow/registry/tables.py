"""The registry's table: deployment history, one row per period of a version on a stage.

Written and read by ``truckflow.registry.deployments``. Generic: model names, stages and
versions, nothing about trucks.
"""

from __future__ import annotations

import sqlalchemy as sa

from truckflow.store.tables import metadata

__all__ = ["deployments"]

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("previous_version", sa.String(32), nullable=True),
    # deploy (to staging), promote (to production), rollback (back to an earlier version).
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("ended_at", sa.DateTime, nullable=True),
    # active while it serves; then replaced, rolled_back or rejected (see EndOutcome).
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("approved_by", sa.String(128), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("execution_id", sa.String(64), nullable=True),
    sa.Index("ix_deployments_model_stage", "model_name", "stage", "started_at"),
)
