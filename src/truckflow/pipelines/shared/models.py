"""What the streaming and the drift flows both read: the production model, and whether a
week's drift pipeline has finished."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from truckflow.registry import ModelRegistry, load_stage
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.streaming.tables import streaming_weeks

__all__ = ["ProductionModel", "load_production", "week_done"]


@dataclass(frozen=True)
class ProductionModel:
    version: str
    threshold: float
    model: Any
    data_window: str


def load_production(settings: Settings) -> ProductionModel | None:
    """The model under the ``production`` alias, checksum-verified; None when there is none."""
    current = load_stage(ModelRegistry.from_settings(settings), "production")
    if current is None:
        return None
    return ProductionModel(
        version=current.version,
        threshold=current.threshold,
        model=current.model,
        data_window=current.data_window,
    )


def week_done(db: Database, week_start: dt.date) -> dict[str, Any] | None:
    """The recorded outcome of the week's drift pipeline, or None when it has not finished."""
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(streaming_weeks.c.summary).where(streaming_weeks.c.week_start == week_start)
        ).first()
    return None if row is None else dict(row[0])
