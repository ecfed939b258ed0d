"""What the streaming and the drift flows both read: the production model, and whether a
week's drift pipeline has finished."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from truckflow.registry import LoadedVersion, ModelRegistry, Stage, load_stage
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.streaming.tables import streaming_weeks

__all__ = ["load_production", "week_done"]


def load_production(settings: Settings) -> LoadedVersion | None:
    """The model under the ``production`` alias, checksum-verified; None when there is none."""
    return load_stage(ModelRegistry.from_settings(settings), Stage.PRODUCTION)


def week_done(db: Database, week_start: dt.date) -> dict[str, Any] | None:
    """The recorded outcome of the week's drift pipeline, or None when it has not finished."""
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(streaming_weeks.c.summary).where(streaming_weeks.c.week_start == week_start)
        ).first()
    return None if row is None else dict(row[0])
