"""What the demo reads back after its stages: daily metrics, drift weeks, models, notifications."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from truckflow.demo.model import DailyPoint, DriftWeek, ModelServing
from truckflow.monitoring.store import list_drift_runs, load_daily_metrics, load_drift_columns
from truckflow.registry import ModelRegistry
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.streaming.tables import streaming_weeks

__all__ = ["daily_points", "drift_weeks", "model_history", "notification_counts"]


def daily_points(db: Database) -> list[DailyPoint]:
    return [
        DailyPoint(m.day, m.count, m.accuracy, m.precision, m.recall, m.f1, m.model_version)
        for m in load_daily_metrics(db)
    ]


def _retraining_outcome(summary: dict[str, Any]) -> str | None:
    """One line on the week's retraining: the version and its release, or why none came."""
    training = summary.get("training")
    if training is None:
        return None
    version = training.get("version")
    if version is None:
        error = str(training.get("error") or training.get("status") or "no version")
        return f"no new version: {error.removeprefix('the model is not registered: ')}"
    release = summary.get("release") or {}
    return f"version {version} {release.get('status', 'registered')}"


def _week_summaries(db: Database) -> dict[dt.date, dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(streaming_weeks.c.week_start, streaming_weeks.c.summary))
        return {week: dict(summary) for week, summary in rows}


def drift_weeks(db: Database) -> list[DriftWeek]:
    weeks = []
    summaries = _week_summaries(db)
    for run in list_drift_runs(db):
        columns = load_drift_columns(db, run.week_start, "data")
        weeks.append(
            DriftWeek(
                week_start=run.week_start,
                dataset_drift=run.dataset_drift,
                share_drifted=run.share_drifted,
                model_drift=run.model_drift,
                f1=run.f1,
                drift_detected=run.drift_detected,
                drifted_columns=[c.column_name for c in columns if c.drifted],
                scores={c.column_name: c.statistic for c in columns},
                retraining=_retraining_outcome(summaries.get(run.week_start, {})),
            )
        )
    return weeks


def model_history(settings: Settings, daily: list[DailyPoint]) -> list[ModelServing]:
    """Registered versions, newest last, with the streaming days each one's predictions covered."""
    registry = ModelRegistry.from_settings(settings)
    out = []
    for listed in sorted(registry.list_versions(), key=lambda v: int(v.version)):
        v = registry.get(listed.version)  # the listing leaves aliases out
        days = [d.day for d in daily if d.model_version == v.version]
        out.append(
            ModelServing(
                version=v.version,
                aliases=sorted(v.aliases),
                approval=v.approval_status,
                created_at=v.created_at,
                test_f1=v.metrics.get("test_f1", v.metrics.get("f1")),
                first_day=min(days, default=None),
                last_day=max(days, default=None),
                days=len(days),
            )
        )
    return out


def notification_counts(path: Path) -> dict[str, int]:
    """Events delivered to the file channel, by event type."""
    counts: Counter[str] = Counter()
    if not path.is_file():
        return {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for event in record.get("events", []):
            counts[str(event.get("type", "unknown"))] += 1
    return dict(sorted(counts.items()))
