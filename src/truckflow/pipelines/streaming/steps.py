"""The daily pipeline's work, as plain functions over the database (each one idempotent).

Each function can run again, or after a crash half-way, and leaves the tables as one clean run
would: ingest and labels are keyed on natural keys, features are only added for trips not yet
stored, predictions are made once per trip (key truck_id, departure_date) and labels joined in
place, metrics replace the day's row. ``close_day`` writes the day's record and advances the
clock in one transaction, last: a day either counts as done or is redone completely.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.data.ingest import apply_ground_truth, ingest_frames
from truckflow.faults import fault_point
from truckflow.features.definition import FEATURE_SET_VERSION
from truckflow.features.fill import fill_features, update_labels
from truckflow.monitoring.intervals import f1_interval
from truckflow.monitoring.quality import model_quality
from truckflow.notify import catalogue
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.predict import predict_day
from truckflow.pipelines.streaming.record import close_day, day_line
from truckflow.store import Database
from truckflow.store.tables import truck_schedule
from truckflow.streaming import ClockState, StreamingError, day_batch, forecast_window
from truckflow.streaming.sources import ForecastPieces, StreamingSources
from truckflow.streaming.tables import batch_predictions

__all__ = [
    "close_day",
    "daily_quality",
    "day_line",
    "fill_day_features",
    "ingest_day",
    "join_labels",
    "predict_day",
    "read_sources",
]


def read_sources(
    folder: Path,
    *,
    with_forecasts: bool = True,
    window: tuple[dt.date, dt.date] | None = None,
    history_before: dt.date | None = None,
) -> StreamingSources:
    """The streaming files; without forecasts only their headers are read (most days need
    none); with ``window`` and/or ``history_before``, only the forecast rows of those days."""
    if with_forecasts:
        return StreamingSources.from_folder(folder, window=window, history_before=history_before)
    from truckflow.streaming.sources import STREAMING_FILES

    frames: dict[str, pd.DataFrame] = {}
    for source, name in STREAMING_FILES.items():
        path = Path(folder) / name
        if not path.is_file():
            raise StreamingError(f"streaming source {source}: file {path} not found")
        frames[source] = pd.read_csv(path, nrows=None if source == "schedule" else 0)
    return StreamingSources.from_frames(**frames)


# Rows of a day's frame validated and loaded at a time: a week's forecasts (millions of
# traffic rows at scale 10) go in pieces, in memory bounded by the piece, not the fleet. The
# forecast files are read a piece of this many rows at a time too, straight into the load.
INGEST_PIECE_ROWS = 100_000
FORECASTS = ("city_weather", "route_weather", "traffic")  # their tables are named alike


def _forecasts(
    folder: Path,
    *,
    window: tuple[dt.date, dt.date] | None = None,
    before: dt.date | None = None,
) -> dict[str, ForecastPieces]:
    return {
        name: ForecastPieces(folder, name, window, before, piece_rows=INGEST_PIECE_ROWS)
        for name in FORECASTS
    }


def _ingest_history(db: Database, folder: Path, schedule: pd.DataFrame, day: dt.date) -> int:
    """What the streaming files hold from before the first day (trips departing earlier, with
    their labels, and their weather and traffic), as history; its trip count."""
    early = schedule[schedule["departure_date"] < pd.Timestamp(day)]
    part: dict[str, pd.DataFrame | Iterable[pd.DataFrame]] = {}
    if not early.empty:
        part["truck_schedule"] = early
    for table, pieces in _forecasts(folder, before=day).items():
        rows = iter(pieces)
        first = next(rows, None)  # a forecast with no rows before the day is left out
        if first is not None:
            part[table] = itertools.chain([first], rows)
    if not part:
        return 0
    ingest_frames(
        db, part, source=f"stream {day.isoformat()} history", piece_rows=INGEST_PIECE_ROWS
    )
    if early.empty:
        return 0
    # Their labels too when the rows were already there (a replay after a reset).
    apply_ground_truth(
        db,
        early[["truck_id", "departure_date", "delay"]],
        source=f"stream {day.isoformat()} history ground truth",
    )
    return len(early)


def ingest_day(rt: Runtime, folder: Path, state: ClockState, first_day: dt.date) -> dict[str, Any]:
    """The day's schedules (labels withheld), forecasts on week starts, then yesterday's labels.

    On the first day, what the streaming files hold from before the boundary (trips departing
    earlier, with their labels, and their weather and traffic) comes in first, as history.
    Forecasts go from their files into the load a piece at a time (``ForecastPieces``): a
    week of them is never one frame."""
    day, db = state.current_day, rt.db
    if day is None:
        raise StreamingError("the streaming clock has not been started")
    # The schedule, whole (labels come from it); of the forecast files only their headers.
    sources = read_sources(folder, with_forecasts=False)
    history = _ingest_history(db, folder, sources.schedule, day) if day == first_day else 0
    batch = day_batch(sources, day, state)
    del sources
    frames: dict[str, pd.DataFrame | Iterable[pd.DataFrame]] = {
        "truck_schedule": batch.schedules.assign(delay=np.nan)
    }
    forecasts = _forecasts(folder, window=forecast_window(day)) if batch.is_week_start else {}
    frames |= forecasts
    # Rows the day's batch had wrong are told (data_quality.failed) with their quarantine.
    report = ingest_frames(
        db,
        frames,
        source=f"stream {day.isoformat()}",
        sink=rt.notifications.sink,
        piece_rows=INGEST_PIECE_ROWS,
    )
    fault_point("day.after_ingest")
    labels = apply_ground_truth(
        db,
        batch.labels[["truck_id", "departure_date", "delay"]],
        source=f"stream {day.isoformat()} ground truth",
    )
    counts = batch.counts() | {table: pieces.rows for table, pieces in forecasts.items()}
    return {
        "day": day.isoformat(),
        "is_week_start": batch.is_week_start,
        "received": counts,
        "history_trips": history,
        "quarantined": sum(s.quarantined for s in report.sources)
        + sum(s.quarantined for s in labels.sources),
        "labels_received": counts["labels"],
        "labels_applied": sum(s.inserted for s in labels.sources),
    }


# Trips the streaming files publish from before the boundary depart at most this long before
# it (the course's: three days); their features are filled with the first day's.
LOOKBACK = dt.timedelta(days=7)


def fill_day_features(rt: Runtime, first_day: dt.date, day: dt.date) -> dict[str, Any]:
    """Features of every trip departed by ``day`` not stored yet, and of those stored
    incomplete (completed when their data has come); labels brought up to date. The weeks
    (times blocks of routes when they are fewer than the step's partitions run at once) are
    tasks of their own.

    A trip whose deadline (its departure day, plus ``streaming.prediction_deadline_days``) has
    come is stored with what is known: what is missing is left blank and named."""
    start = dt.datetime.combine(first_day, dt.time()) - LOOKBACK
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    deadline = end - dt.timedelta(days=rt.settings.streaming.prediction_deadline_days)
    db = rt.db
    result = fill_features(
        db,
        start,
        end,
        version=FEATURE_SET_VERSION,
        deadline=deadline,
        partitions=rt.partitions,
    )
    waiting = len(result.waiting)
    if waiting:
        with db.begin() as conn:
            rt.notifications.sink.emit(
                catalogue.features_waiting(day.isoformat(), trips=waiting), connection=conn
            )
    return {
        "computed": result.computed,
        "partial": result.partial,
        "completed": result.completed,
        "waiting": waiting,
        "waiting_trips": [
            {"truck_id": int(t), "departure_date": pd.Timestamp(d).isoformat()}
            for t, d in zip(
                result.waiting["truck_id"], result.waiting["departure_date"], strict=True
            )
        ][:100],
    }


def join_labels(db: Database) -> dict[str, Any]:
    """Ground truth into the feature table and onto the stored predictions that lack it."""
    features_updated = update_labels(db, version=FEATURE_SET_VERSION)
    bp, ts = batch_predictions, truck_schedule
    query = (
        sa.select(bp.c.truck_id, bp.c.departure_date, ts.c.delay)
        .join(
            ts,
            sa.and_(ts.c.truck_id == bp.c.truck_id, ts.c.departure_date == bp.c.departure_date),
        )
        .where(bp.c.delay.is_(None), ts.c.delay.is_not(None))
    )
    with db.begin() as conn:
        pairs = conn.execute(query).all()
        if pairs:
            conn.execute(
                bp.update()
                .where(
                    bp.c.truck_id == sa.bindparam("k_truck"),
                    bp.c.departure_date == sa.bindparam("k_departure"),
                )
                .values(delay=sa.bindparam("v_delay")),
                [{"k_truck": t, "k_departure": d, "v_delay": int(y)} for t, d, y in pairs],
            )
    return {"features_labelled": features_updated, "predictions_labelled": len(pairs)}


def daily_quality(rt: Runtime, arrival_day: dt.date) -> dict[str, Any] | None:
    """Accuracy, precision, recall, F1 and count of the predictions of trips that arrived on
    ``arrival_day`` and have their label, F1 with its bootstrap interval (a day's F1 swings
    with the mix of trips that arrive: the count and the interval say how much it can tell);
    None when there are none."""
    start = dt.datetime.combine(arrival_day, dt.time())
    bp = batch_predictions
    query = sa.select(bp.c.delay, bp.c.decision, bp.c.model_version).where(
        bp.c.estimated_arrival >= start,
        bp.c.estimated_arrival < start + dt.timedelta(days=1),
        bp.c.delay.is_not(None),
    )
    with rt.db.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return None
    truth, decided = [r[0] for r in rows], [r[1] for r in rows]
    quality = model_quality(truth, decided)
    versions = pd.Series([r[2] for r in rows]).value_counts()
    settings = rt.settings
    low, high = f1_interval(
        truth,
        decided,
        resamples=settings.bootstrap.resamples,
        confidence=settings.bootstrap.confidence,
        seed=settings.bootstrap.seed,
    )
    return {
        "day": arrival_day.isoformat(),
        **quality.model_dump(exclude={"drifted"}),
        "f1_interval": [low, high],
        "confidence": settings.bootstrap.confidence,
        # Most of a day's trips were predicted by one version; a promotion may split a day.
        "model_version": str(versions.index[0]),
    }
