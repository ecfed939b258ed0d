"""Estimated performance per prediction day, beside the realized one once labels arrive.

``estimated_metrics`` has one row per day on which trips were predicted: the estimate made from
the calibrated probabilities that day (``truckflow.monitoring.estimate``), and the realized
precision, recall, F1 and accuracy of the same trips among those whose label has arrived
(``labelled``; refreshed as labels come in, NULL while there are none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from truckflow.monitoring._rows import days_between, transaction
from truckflow.monitoring.tables import estimated_metrics
from truckflow.store.database import Database

if TYPE_CHECKING:  # annotations only
    from truckflow.monitoring.estimate import EstimatedPerformance
    from truckflow.monitoring.quality import ModelQuality

__all__ = [
    "EstimatedDay",
    "load_estimated_metrics",
    "save_estimate",
    "save_realized",
]


@dataclass(frozen=True)
class EstimatedDay:
    day: dt.date
    model_version: str | None
    count: int
    estimated_f1: float
    estimated_f1_low: float
    estimated_f1_high: float
    estimated_precision: float
    estimated_recall: float
    estimated_accuracy: float
    labelled: int
    realized_f1: float | None
    realized_precision: float | None
    realized_recall: float | None
    realized_accuracy: float | None


def save_estimate(
    target: Database | sa.Connection,
    day: dt.date,
    estimate: EstimatedPerformance,
    *,
    model_version: str | None = None,
) -> None:
    """Store the day's estimate, replacing an earlier one (the realized figures are kept)."""
    values: dict[str, Any] = {
        "model_version": model_version,
        "count": estimate.count,
        "expected_positives": estimate.expected_positives,
        "estimated_precision": estimate.precision,
        "estimated_recall": estimate.recall,
        "estimated_f1": estimate.f1,
        "estimated_accuracy": estimate.accuracy,
        "estimated_f1_low": estimate.f1_low,
        "estimated_f1_high": estimate.f1_high,
    }
    table = estimated_metrics
    with transaction(target) as conn:
        found = conn.execute(table.update().where(table.c.day == day).values(**values))
        if found.rowcount == 0:
            conn.execute(table.insert().values(day=day, **values))


def save_realized(
    target: Database | sa.Connection, day: dt.date, quality: ModelQuality | None
) -> bool:
    """The realized quality of the day's predicted trips whose labels are in (None: none yet);
    False when the day has no estimate to stand beside."""
    values: dict[str, Any] = {
        "labelled": 0 if quality is None else quality.count,
        "realized_precision": None if quality is None else quality.precision,
        "realized_recall": None if quality is None else quality.recall,
        "realized_f1": None if quality is None else quality.f1,
        "realized_accuracy": None if quality is None else quality.accuracy,
    }
    table = estimated_metrics
    with transaction(target) as conn:
        done = conn.execute(table.update().where(table.c.day == day).values(**values))
    return bool(done.rowcount)


def _optional(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def load_estimated_metrics(
    target: Database | sa.Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[EstimatedDay]:
    """Days in order, optionally from ``start`` to ``end`` (both included)."""
    query = days_between(estimated_metrics, start, end)
    with transaction(target) as conn:
        rows = conn.execute(query).all()
    return [
        EstimatedDay(
            day=r.day,
            model_version=r.model_version,
            count=int(r._mapping["count"]),
            estimated_f1=float(r.estimated_f1),
            estimated_f1_low=float(r.estimated_f1_low),
            estimated_f1_high=float(r.estimated_f1_high),
            estimated_precision=float(r.estimated_precision),
            estimated_recall=float(r.estimated_recall),
            estimated_accuracy=float(r.estimated_accuracy),
            labelled=int(r.labelled),
            realized_f1=_optional(r.realized_f1),
            realized_precision=_optional(r.realized_precision),
            realized_recall=_optional(r.realized_recall),
            realized_accuracy=_optional(r.realized_accuracy),
        )
        for r in rows
    ]
