"""The streaming simulation's library API: what the CLI, the demo and the dashboard call.

``step_days`` runs whole simulated days: on the first day of a week (the clock's ``new_week``)
the ``drift`` pipeline first (unless that week is already recorded), then the ``daily`` pipeline,
whose last step advances the clock. ``replay`` steps until a day or the end of the streaming
period; ``stream_status`` and ``reset`` read and rewind the state.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from truckflow.features.tables import trip_features
from truckflow.monitoring.tables import daily_metrics, drift_columns, drift_runs
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.memory import release_memory
from truckflow.pipelines.shared.models import week_done
from truckflow.pipelines.streaming.steps import read_sources
from truckflow.store.tables import truck_schedule
from truckflow.streaming import ClockState, StreamingClock, StreamingError
from truckflow.streaming.daylock import day_lock
from truckflow.streaming.tables import batch_predictions, streaming_days, streaming_weeks

__all__ = [
    "DayResult",
    "ReplayResult",
    "StreamStatus",
    "replay",
    "reset",
    "resolve_data",
    "step_days",
    "stream_status",
]

StreamProgress = Callable[[str, int, int], None]
"""Called as ``progress(description, days_done, days_total)``."""

_SOURCE_FILE = "streaming_source.json"


@dataclass(frozen=True)
class DayResult:
    """One simulated day: what came in, what was computed, and the week's decision if any."""

    day: dt.date
    ingested: dict[str, int]
    quarantined: int
    features_computed: int
    features_waiting: int
    predictions: int
    predictions_on_time: int
    predictions_late: int
    predictions_partial: int
    features_completed: int
    not_predicted: int
    model_version: str | None
    labels_applied: int
    metrics: dict[str, Any] | None
    drift: dict[str, Any] | None = None
    executions: dict[str, str] = field(default_factory=dict)

    @property
    def drift_detected(self) -> bool | None:
        return None if self.drift is None else bool(self.drift["check"]["drift_detected"])

    @property
    def release_status(self) -> str | None:
        release = None if self.drift is None else self.drift.get("release")
        return None if release is None else str(release["status"])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["day"] = self.day.isoformat()
        out["drift_detected"] = self.drift_detected
        out["release_status"] = self.release_status
        return out


@dataclass(frozen=True)
class ReplayResult:
    days: list[DayResult]
    clock: ClockState
    finished: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [d.to_dict() for d in self.days],
            "clock": self.clock.to_dict(),
            "finished": self.finished,
        }


@dataclass(frozen=True)
class StreamStatus:
    clock: ClockState
    boundary: dt.date
    boundary_origin: str
    data: str | None
    first_day: dt.date | None
    last_day: dt.date | None
    days_done: int
    weeks: list[dict[str, Any]]
    finished: bool

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("first_day", "last_day", "boundary"):
            out[key] = None if out[key] is None else out[key].isoformat()
        out["clock"] = self.clock.to_dict()
        return out


def resolve_data(runtime: Runtime, data: Path | None = None) -> Path:
    """The streaming files' folder: ``data``, else the setting, else the one used last."""
    record = runtime.settings.home / _SOURCE_FILE
    folder = data or runtime.settings.streaming.data
    if folder is None and record.is_file():
        folder = Path(json.loads(record.read_text(encoding="utf-8"))["data"])
    if folder is None:
        raise StreamingError(
            "no streaming files given",
            hint="pass --data DIR (a folder with streaming_*.csv) or set TRUCKFLOW_STREAMING__DATA",
        )
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise StreamingError(f"streaming data folder {folder} does not exist")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"data": str(folder)}), encoding="utf-8")
    return folder


def _period(runtime: Runtime, folder: Path) -> tuple[dt.date, dt.date]:
    """The streaming period: from the boundary setting (not the earliest departure found: a
    trip departing before it is history) to the day after the last estimated arrival."""
    sources = read_sources(folder, with_forecasts=False)
    first = runtime.settings.streaming.boundary
    if sources.last_day <= first:
        raise StreamingError(
            f"the streaming files in {folder} hold no trip arriving after the streaming "
            f"boundary {first} (last arrival {sources.last_day - dt.timedelta(days=1)})",
            hint="set TRUCKFLOW_STREAMING__BOUNDARY to the first streaming day of these files",
        )
    return first, sources.last_day


def _day_result(
    outputs: dict[str, Any], drift: dict[str, Any] | None, ids: dict[str, str]
) -> DayResult:
    """The day as its record says (the same after a rerun), with this run's label count."""
    close = outputs["close"]
    record = close["record"] or {}
    summary = close["summary"]
    return DayResult(
        day=dt.date.fromisoformat(summary["day"]),
        ingested=dict(summary["ingest"]["received"]),
        quarantined=int(summary["ingest"]["quarantined"]),
        features_computed=int(summary["features"]["computed"]),
        features_waiting=int(record.get("features_waiting", summary["features"]["waiting"])),
        predictions=int(record.get("predictions", summary["predictions"]["predicted"])),
        predictions_on_time=int(
            record.get("predictions_on_time", summary["predictions"].get("on_time", 0))
        ),
        predictions_late=int(record.get("predictions_late", summary["predictions"].get("late", 0))),
        predictions_partial=int(
            record.get("predictions_partial", summary["predictions"].get("partial", 0))
        ),
        features_completed=int(summary["features"].get("completed", 0)),
        not_predicted=int(record.get("not_predicted", 0)),
        model_version=record.get("model_version", summary["predictions"].get("model_version")),
        labels_applied=int(record.get("labels_known", summary["ingest"]["labels_applied"])),
        metrics=summary["metrics"],
        drift=drift,
        executions=ids,
    )


def _drift(
    runtime: Runtime, week_start: dt.date, auto_approve: bool, ids: dict[str, str]
) -> dict[str, Any]:
    """The week's drift pipeline, unless it has already finished (then its recorded outcome)."""
    done = week_done(runtime.db, week_start)
    if done is not None:
        return done
    result = runtime.run(
        "drift", {"week_start": week_start.isoformat(), "auto_approve": auto_approve}
    ).raise_for_status()
    ids["drift"] = result.execution_id
    recorded = week_done(runtime.db, week_start)
    assert recorded is not None
    return recorded


def _one_day(runtime: Runtime, folder: Path, first: dt.date, *, auto_approve: bool) -> DayResult:
    """Day D: the daily pipeline; then, on the first day of a week, the drift pipeline.

    The drift check runs after the day's own work so that the forecasts of the new week have
    arrived: the trips of last week that waited for them have their features by then (without
    them last week would look like short trips only). A crash between the two is caught up on
    the next call, before the next day."""
    clock = StreamingClock(runtime.db)
    state = clock.status()
    if state.current_day is None:
        state = clock.start(first)
    ids: dict[str, str] = {}
    if state.day_in_week == 2 and state.week_start is not None and state.week_start != first:
        _drift(runtime, state.week_start, auto_approve, ids)
    day = state.current_day
    assert day is not None
    result = runtime.run(
        "daily", {"day": day.isoformat(), "first_day": first.isoformat(), "data": str(folder)}
    ).raise_for_status()
    ids["daily"] = result.execution_id
    drift = None
    if state.new_week and state.week_start is not None:
        drift = _drift(runtime, state.week_start, auto_approve, ids)
    return _day_result(result.outputs, drift, ids)


def step_days(
    runtime: Runtime,
    n: int = 1,
    *,
    data: Path | None = None,
    auto_approve: bool = True,
    until: dt.date | None = None,
    progress: StreamProgress | None = None,
) -> ReplayResult:
    """Run up to ``n`` simulated days (fewer at ``until`` or the end of the streaming period)."""
    if n < 0:
        raise StreamingError(f"number of days must be >= 0, got {n}")
    folder = resolve_data(runtime, data)
    first, last = _period(runtime, folder)
    clock = StreamingClock(runtime.db)
    days: list[DayResult] = []
    for done in range(n):
        current = clock.status().current_day or first
        if current > last or (until is not None and current > until):
            break
        if progress:
            progress(f"day {current}", done, n)
        with day_lock(runtime.db, current, wait_s=runtime.settings.streaming.lock_wait_s):
            if (clock.status().current_day or first) != current:
                continue  # another process did the day while this one waited for it
            days.append(_one_day(runtime, folder, first, auto_approve=auto_approve))
        # A week start's load and a retraining free hundreds of MB (SQLite's page cache of a
        # load among them): given back, the next day does not stack its own on top.
        release_memory()
    state = clock.status()
    finished = state.current_day is not None and state.current_day > last
    if progress:
        progress("done", len(days), max(n, len(days)))
    return ReplayResult(days=days, clock=state, finished=finished)


def replay(
    runtime: Runtime,
    until: dt.date | None = None,
    *,
    data: Path | None = None,
    auto_approve: bool = True,
    progress: StreamProgress | None = None,
) -> ReplayResult:
    """Run every remaining day up to ``until`` (included), or to the end of the period."""
    folder = resolve_data(runtime, data)
    first, last = _period(runtime, folder)
    current = StreamingClock(runtime.db).status().current_day or first
    end = last if until is None else min(until, last)
    remaining = max((end - current).days + 1, 0)
    return step_days(
        runtime, remaining, data=folder, auto_approve=auto_approve, until=end, progress=progress
    )


def stream_status(runtime: Runtime, data: Path | None = None) -> StreamStatus:
    """The clock, the streaming period (when the data folder is known) and the weeks' outcomes."""
    state = StreamingClock(runtime.db).status()
    try:
        folder: Path | None = resolve_data(runtime, data)
    except StreamingError:
        folder = None
    first, last = _period(runtime, folder) if folder is not None else (None, None)
    with runtime.db.engine.connect() as conn:
        days = int(
            conn.execute(sa.select(sa.func.count()).select_from(streaming_days)).scalar_one()
        )
        weeks = [
            {
                "week_start": r.week_start.isoformat(),
                "drift_detected": bool(r.drift_detected),
                "retrained_version": r.retrained_version,
                "release_status": r.release_status,
            }
            for r in conn.execute(streaming_weeks.select().order_by(streaming_weeks.c.week_start))
        ]
    finished = bool(last and state.current_day and state.current_day > last)
    return StreamStatus(
        clock=state,
        boundary=runtime.settings.streaming.boundary,
        boundary_origin=runtime.settings.origin("streaming.boundary"),
        data=None if folder is None else str(folder),
        first_day=first,
        last_day=last,
        days_done=days,
        weeks=weeks,
        finished=finished,
    )


def reset(runtime: Runtime, data: Path | None = None) -> StreamStatus:
    """Rewind the simulation: the clock before its first day; the simulation's own records
    (batch predictions, day and week records, daily metrics, drift results) removed; the trips the
    streaming files send lose their label and stored features again. Forecast and schedule rows
    stay (ingest is idempotent: a new replay sends them again without change); the model
    registry is left as it is."""
    try:
        folder: Path | None = resolve_data(runtime, data)
    except StreamingError:
        folder = None
    keys: list[dict[str, Any]] = []
    if folder is not None:
        schedule = read_sources(folder, with_forecasts=False).schedule
        keys = [
            {"k_truck": int(t), "k_departure": d.to_pydatetime()}
            for t, d in zip(schedule["truck_id"], schedule["departure_date"], strict=True)
        ]
    with runtime.db.begin() as conn:
        for table in (
            batch_predictions,
            streaming_days,
            streaming_weeks,
            daily_metrics,
            drift_columns,
            drift_runs,
        ):
            conn.execute(table.delete())
        if keys:
            tf, ts = trip_features, truck_schedule
            conn.execute(
                tf.delete().where(
                    tf.c.truck_id == sa.bindparam("k_truck"),
                    tf.c.departure_date == sa.bindparam("k_departure"),
                ),
                keys,
            )
            conn.execute(
                ts.update()
                .where(
                    ts.c.truck_id == sa.bindparam("k_truck"),
                    ts.c.departure_date == sa.bindparam("k_departure"),
                )
                .values(delay=None),
                keys,
            )
        StreamingClock(runtime.db).reset(connection=conn)
    return stream_status(runtime, folder)
