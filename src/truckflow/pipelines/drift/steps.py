"""The weekly drift pipeline's check and record, as plain functions (``retraining``: the rest).

The check compares last week's features (departures of the seven days before the week start)
with the production model's training data (its ``data_window`` tag: arrivals), the model's
outputs on both, and its quality on last week's labelled arrivals. Results are stored per week
and column (``monitoring.store``, replacing an earlier run of the same week) with an HTML report
and its JSON twin under ``home/reports/drift/<week>/``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from truckflow.features.definition import CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.features.fill import load_features
from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import DataDrift
from truckflow.monitoring.report import (
    DriftReport,
    ReportPaths,
    Window,
    build_report,
    write_report,
)
from truckflow.monitoring.store import save_drift_run
from truckflow.notify import catalogue
from truckflow.pipelines.drift.columns import data_drift
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.estimate import warn_estimated_drop, weekly_estimate
from truckflow.pipelines.shared.models import load_production
from truckflow.registry import LoadedVersion
from truckflow.store import Database
from truckflow.streaming import StreamingError
from truckflow.streaming.tables import batch_predictions, streaming_weeks
from truckflow.training.evaluate import delay_scores

__all__ = ["check_drift", "record_week"]

_WEEK = dt.timedelta(days=7)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _parse_window(tag: str) -> tuple[dt.date, dt.date]:
    try:
        first, last = (dt.date.fromisoformat(part) for part in tag.split(".."))
    except ValueError as exc:
        raise StreamingError(
            f"the production model's data_window tag {tag!r} is not 'YYYY-MM-DD..YYYY-MM-DD'"
        ) from exc
    return first, last


def _predictions(db: Database, start: dt.datetime, end: dt.datetime, by: str) -> pd.DataFrame:
    bp = batch_predictions
    column = bp.c[by]
    query = sa.select(bp.c.probability, bp.c.decision, bp.c.delay, bp.c.model_version).where(
        column >= start, column < end
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["probability", "decision", "delay", "model_version"])


def _no_trips(week_start: dt.date, version: str) -> dict[str, Any]:
    """The tail of the streaming period: arrivals still come in, no trips depart any more."""
    return {
        "week_start": week_start.isoformat(),
        "model_version": version,
        "drift_detected": False,
        "dataset_drift": False,
        "share_drifted": 0.0,
        "drifted_columns": [],
        "prediction_drift": False,
        "model_drift": False,
        "f1": None,
        "labelled": 0,
        "report_html": None,
        "report_json": None,
        "note": "no trips departed in the week: nothing to check",
    }


def check_drift(rt: Runtime, week_start: dt.date) -> dict[str, Any]:
    """Data drift, prediction drift and model quality of the week before ``week_start``."""
    db = rt.db
    production = load_production(rt.settings)
    if production is None:
        raise StreamingError(f"drift check of week {week_start}: no production model")
    ref_first, ref_last = _parse_window(production.data_window)
    reference = load_features(
        db, _midnight(ref_first), _midnight(ref_last) + dt.timedelta(days=1), by="estimated_arrival"
    )
    # In time order: the adaptive drift profile draws its null windows as runs of days.
    reference = reference.sort_values("departure_date", kind="stable", ignore_index=True)
    cur_first = week_start - _WEEK
    current = load_features(db, _midnight(cur_first), _midnight(week_start))
    if current.empty:
        return _no_trips(week_start, production.version)
    if reference.empty:
        raise StreamingError(
            f"drift check of week {week_start}: {len(reference)} reference and "
            f"{len(current)} current trips; both are needed"
        )
    week = _Week(week_start, cur_first, Window(start=ref_first, end=ref_last), production)
    # By column groups as tasks when the step runs on a runner (the same verdicts).
    data = data_drift(
        rt,
        (_midnight(ref_first), _midnight(ref_last) + dt.timedelta(days=1)),
        (_midnight(cur_first), _midnight(week_start)),
    )
    return _judge(rt, week, reference, current, data)


@dataclass(frozen=True)
class _Week:
    start: dt.date
    first: dt.date
    reference_window: Window
    production: LoadedVersion


def _judge(
    rt: Runtime,
    week: _Week,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    data: DataDrift | None = None,
) -> dict[str, Any]:
    """Build the report of the week, write it, store and tell what it found."""
    db, settings, production = rt.db, rt.settings, week.production
    columns = list(FEATURE_COLUMNS)
    ref_scores = delay_scores(production.model, reference)  # in pieces: bounded memory
    start, end = _midnight(week.first), _midnight(week.start)
    cur_pred = _predictions(db, start, end, "departure_date")
    arrived = _predictions(db, start, end, "estimated_arrival")
    labelled = arrived[arrived["delay"].notna()]
    # A week with few labelled arrivals says little about F1: not judged rather than noise.
    judged = len(labelled) >= settings.drift.min_quality_trips
    config = DriftConfig.from_settings(settings)
    predictions = (
        (pd.DataFrame({"probability": ref_scores}), cur_pred[["probability"]])
        if not cur_pred.empty
        else None
    )
    report = build_report(
        reference[columns],
        current[columns],
        categorical=list(CATEGORICAL_FEATURES),
        predictions=predictions,
        labels=(labelled["delay"].astype(int), labelled["decision"].astype(int))
        if judged
        else None,
        config=config,
        reference_window=week.reference_window,
        current_window=Window(start=week.first, end=week.start - dt.timedelta(days=1)),
        estimate=weekly_estimate(settings, cur_pred, config),
        data=data,
    )
    folder = settings.home / "reports" / "drift" / week.start.isoformat()
    paths = write_report(
        report, reference[columns], current[columns], folder, predictions=predictions
    )
    _store_and_tell(rt, week, report, paths, config.drift_share)
    return _summary(rt, week, report, paths, len(labelled), judged)


def _store_and_tell(
    rt: Runtime, week: _Week, report: DriftReport, paths: ReportPaths, threshold: float
) -> None:
    """The drift run stored, and its events told, in one transaction."""
    version = week.production.version
    with rt.db.begin() as conn:
        save_drift_run(
            conn,
            week.start,
            report,
            model_version=version,
            html_path=paths.html,
            json_path=paths.json,
        )
        if report.drift_detected:
            scores = {c: report.data.column(c).score for c in report.data.drifted_columns}
            if report.model_drift and report.quality is not None:
                scores["f1"] = report.quality.f1
            rt.notifications.sink.emit(
                catalogue.drift_detected(
                    scores,
                    threshold=threshold,
                    report=str(paths.html),
                    model=f"{rt.settings.mlflow.model_name} v{version}",
                    key=f"drift.detected:{week.start.isoformat()}",
                ),
                connection=conn,
            )
        if report.estimate is not None and report.estimate.dropped:
            warn_estimated_drop(rt, conn, report, week.start, version, paths.html)


def _summary(
    rt: Runtime, week: _Week, report: DriftReport, paths: ReportPaths, labelled: int, judged: bool
) -> dict[str, Any]:
    least = rt.settings.drift.min_quality_trips
    return {
        "week_start": week.start.isoformat(),
        "model_version": week.production.version,
        "drift_detected": report.drift_detected,
        "dataset_drift": report.data.dataset_drift,
        "share_drifted": report.data.share_drifted,
        "drifted_columns": report.data.drifted_columns,
        "prediction_drift": report.prediction_drift,
        "model_drift": report.model_drift,
        "f1": None if report.quality is None else report.quality.f1,
        "drift_profile": report.data.profile,
        "estimated_f1": None if report.estimate is None else report.estimate.estimated.f1,
        "estimated_drop": report.estimated_drop,
        "labelled": labelled,
        "quality_judged": judged,
        "quality_note": None
        if judged
        else f"{labelled} labelled trips in the week, fewer than the "
        f"{least} the model-quality check needs: not judged",
        "report_html": str(paths.html),
        "report_json": str(paths.json),
    }


def _retraining_metrics(
    training: dict[str, Any] | None, release: dict[str, Any] | None
) -> dict[str, float] | None:
    """Test F1 and the promotion check's counts and interval, for the notification."""
    out: dict[str, float] = {}
    if training is not None and training.get("test_f1") is not None:
        out["test_f1"] = float(training["test_f1"])
    promotion = None if release is None else release.get("promotion")
    if promotion:
        out["trips"] = float(promotion["trips"])
        difference = promotion.get("difference")
        if difference:
            out |= {
                "f1_difference": float(difference["difference"]),
                "f1_difference_low": float(difference["low"]),
                "f1_difference_high": float(difference["high"]),
            }
    return out or None


def record_week(
    rt: Runtime,
    week_start: dt.date,
    check: dict[str, Any],
    training: dict[str, Any] | None,
    release: dict[str, Any] | None,
) -> dict[str, Any]:
    """The week's outcome, written once the whole drift pipeline is done (its completion mark)."""
    summary = {"check": check, "training": training, "release": release}
    version = None if training is None else training.get("version")
    status = None if release is None else release.get("status")
    settings = rt.settings
    with rt.db.begin() as conn:
        conn.execute(streaming_weeks.delete().where(streaming_weeks.c.week_start == week_start))
        conn.execute(
            streaming_weeks.insert().values(
                week_start=week_start,
                drift_detected=bool(check["drift_detected"]),
                retrained_version=version,
                release_status=status,
                summary=summary,
            )
        )
        if version is not None:
            rt.notifications.sink.emit(
                catalogue.retraining_done(
                    settings.mlflow.model_name,
                    version,
                    reason="drift detected in week before " + week_start.isoformat(),
                    promoted=status == "promoted",
                    metrics=_retraining_metrics(training, release),
                    key=f"retraining.done:{week_start.isoformat()}",
                ),
                connection=conn,
            )
    return summary
