"""The engine's tables on the shared metadata: one row per execution, one per step execution.

Times are naive UTC with microseconds (MySQL needs ``DATETIME(6)`` for that). A step row is
written when the step starts (``executing``) and completed, outputs and status together, in
one transaction when it ends, so a killed process never leaves half a result. The statuses
these rows take are in ``truckflow.pipeline.records``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from truckflow.store.tables import metadata

__all__ = ["pipeline_executions", "step_executions"]


def _time() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

pipeline_executions = sa.Table(
    "pipeline_executions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("pipeline", sa.String(128), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("runner", sa.String(32), nullable=False),
    sa.Column("started_at", _time(), nullable=False),
    sa.Column("finished_at", _time(), nullable=True),
    sa.Column("heartbeat_at", _time(), nullable=False),
    sa.Column("owner_host", sa.String(255), nullable=False),
    sa.Column("owner_pid", sa.Integer, nullable=False),
    # Double precision: a single-precision float (MariaDB's FLOAT) rounds a process start time
    # by minutes, and the liveness check then takes a live run for a dead one.
    sa.Column("owner_started", sa.Double, nullable=False),
    sa.Column("source_execution_id", sa.String(36), nullable=True),
    sa.Column("selected_steps", sa.JSON, nullable=True),
    sa.Column("error", _TEXT, nullable=True),
    # Set by `request_stop` (another process); the owner sees it with its next heartbeat.
    sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    # What a finished execution means, for pipelines that say it (a release: pending_approval,
    # failed acceptance, promoted...): see ``truckflow.pipeline.outcome``.
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("outcome_summary", _TEXT, nullable=True),
)


step_executions = sa.Table(
    "step_executions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "execution_id",
        sa.String(36),
        sa.ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("step", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", _time(), nullable=False),
    sa.Column("finished_at", _time(), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt_log", sa.JSON, nullable=True),
    sa.Column("outputs", sa.JSON, nullable=True),
    sa.Column("cache_hit", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cache_key", sa.String(64), nullable=True, index=True),
    sa.Column("cache_reason", sa.Text, nullable=True),
    sa.Column("code_hash", sa.String(64), nullable=True),
    sa.Column("input_hashes", sa.JSON, nullable=True),
    sa.Column("reused_from", sa.String(36), nullable=True),
    sa.Column("error", _TEXT, nullable=True),
    sa.Column("traceback", _TEXT, nullable=True),
    sa.UniqueConstraint("execution_id", "step"),
    sa.Index("ix_step_executions_pipeline_lookup", "step", "status"),
)
