"""Drift results and daily metrics in the operational database.

``drift_runs`` has one row per week (its first day), ``drift_columns`` one per week, scope
(``data`` or ``prediction``) and column, ``daily_metrics`` one per day of arrivals (``truckflow.monitoring.tables``). Saving a week
or a day again replaces it, in one transaction, so a rerun of the pipeline leaves one clean row.
Every function takes a ``Database`` (its own transaction) or an open ``Connection`` (the caller's).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from truckflow.monitoring._rows import days_between, transaction
from truckflow.monitoring.tables import daily_metrics, drift_columns, drift_runs
from truckflow.store.database import Database

if TYPE_CHECKING:  # annotations only
    from truckflow.monitoring.quality import ModelQuality
    from truckflow.monitoring.report import DriftReport

__all__ = [
    "DailyMetrics",
    "DriftColumnRecord",
    "DriftRunRecord",
    "list_drift_runs",
    "load_daily_metrics",
    "load_drift_columns",
    "load_drift_run",
    "save_daily_metrics",
    "save_drift_run",
]


@dataclass(frozen=True)
class DriftRunRecord:
    week_start: dt.date
    reference_start: dt.date | None
    reference_end: dt.date | None
    current_start: dt.date | None
    current_end: dt.date | None
    model_version: str | None
    dataset_drift: bool
    share_drifted: float
    drift_share: float
    prediction_drift: bool | None
    model_drift: bool | None
    f1: float | None
    drift_detected: bool
    html_path: str | None
    json_path: str | None


@dataclass(frozen=True)
class DriftColumnRecord:
    week_start: dt.date
    scope: str
    column_name: str
    column_type: str
    test: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DailyMetrics:
    day: dt.date
    count: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    model_version: str | None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def save_drift_run(
    target: Database | sa.Connection,
    week_start: dt.date,
    report: DriftReport,
    *,
    model_version: str | None = None,
    html_path: Path | None = None,
    json_path: Path | None = None,
) -> None:
    """Store one week's verdicts and per-column results, replacing any earlier run of that week."""
    ref, cur = report.reference_window, report.current_window
    run = {
        "week_start": week_start,
        "reference_start": ref.start if ref else None,
        "reference_end": ref.end if ref else None,
        "current_start": cur.start if cur else None,
        "current_end": cur.end if cur else None,
        "model_version": model_version,
        "dataset_drift": report.data.dataset_drift,
        "share_drifted": report.data.share_drifted,
        "drift_share": report.data.drift_share,
        "prediction_drift": None if report.prediction is None else report.prediction_drift,
        "model_drift": None if report.quality is None else report.model_drift,
        "f1": None if report.quality is None else report.quality.f1,
        "drift_detected": report.drift_detected,
        "html_path": None if html_path is None else str(html_path),
        "json_path": None if json_path is None else str(json_path),
    }
    scopes = [("data", report.data)] + (
        [("prediction", report.prediction)] if report.prediction else []
    )
    columns = [
        {
            "week_start": week_start,
            "scope": scope,
            "column_name": col.column,
            "column_type": col.kind.value,
            "test": col.test.value,
            "statistic": _finite(col.statistic),
            "p_value": col.p_value,
            "threshold": col.threshold,
            "drifted": col.drifted,
        }
        for scope, drift in scopes
        for col in drift.columns
    ]
    with transaction(target) as conn:
        conn.execute(drift_columns.delete().where(drift_columns.c.week_start == week_start))
        conn.execute(drift_runs.delete().where(drift_runs.c.week_start == week_start))
        conn.execute(drift_runs.insert(), [run])
        if columns:
            conn.execute(drift_columns.insert(), columns)


def _run_record(row: sa.Row[tuple[object, ...]]) -> DriftRunRecord:
    fields = {k: v for k, v in row._mapping.items() if k != "created_at"}
    for key in ("dataset_drift", "drift_detected", "prediction_drift", "model_drift"):
        if fields[key] is not None:
            fields[key] = bool(fields[key])
    return DriftRunRecord(**fields)  # type: ignore[arg-type]


def load_drift_run(target: Database | sa.Connection, week_start: dt.date) -> DriftRunRecord | None:
    with transaction(target) as conn:
        row = conn.execute(drift_runs.select().where(drift_runs.c.week_start == week_start)).first()
    return None if row is None else _run_record(row)


def list_drift_runs(target: Database | sa.Connection) -> list[DriftRunRecord]:
    with transaction(target) as conn:
        rows = conn.execute(drift_runs.select().order_by(drift_runs.c.week_start)).all()
    return [_run_record(r) for r in rows]


def load_drift_columns(
    target: Database | sa.Connection, week_start: dt.date, scope: str = "data"
) -> list[DriftColumnRecord]:
    query = (
        drift_columns.select()
        .where(drift_columns.c.week_start == week_start, drift_columns.c.scope == scope)
        .order_by(drift_columns.c.column_name)
    )
    with transaction(target) as conn:
        rows = conn.execute(query).all()
    return [
        DriftColumnRecord(
            week_start=r.week_start,
            scope=r.scope,
            column_name=r.column_name,
            column_type=r.column_type,
            test=r.test,
            statistic=math.inf if r.statistic is None else float(r.statistic),
            p_value=None if r.p_value is None else float(r.p_value),
            threshold=float(r.threshold),
            drifted=bool(r.drifted),
        )
        for r in rows
    ]


def save_daily_metrics(
    target: Database | sa.Connection,
    day: dt.date,
    quality: ModelQuality,
    *,
    model_version: str | None = None,
) -> None:
    """Store the quality of the predictions for the trips that arrived on ``day`` (replacing)."""
    row = {
        "day": day,
        "count": quality.count,
        "accuracy": quality.accuracy,
        "precision": quality.precision,
        "recall": quality.recall,
        "f1": quality.f1,
        "model_version": model_version,
    }
    with transaction(target) as conn:
        conn.execute(daily_metrics.delete().where(daily_metrics.c.day == day))
        conn.execute(daily_metrics.insert(), [row])


def load_daily_metrics(
    target: Database | sa.Connection,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[DailyMetrics]:
    """Daily metrics in day order, optionally from ``start`` to ``end`` (both included)."""
    query = days_between(daily_metrics, start, end)
    with transaction(target) as conn:
        rows = conn.execute(query).all()
    return [
        DailyMetrics(
            day=r.day,
            count=int(r._mapping["count"]),
            accuracy=float(r.accuracy),
            precision=float(r.precision),
            recall=float(r.recall),
            f1=float(r.f1),
            model_version=r.model_version,
        )
        for r in rows
    ]
