"""Performance estimated before the labels: the daily step and the weekly figure.

Each day the trips just predicted get the estimate of their precision, recall, F1 and accuracy
from the calibrated probabilities of the version that predicted them (its ``calibration`` tag,
``truckflow.training.calibration``); the realized figures of earlier days are refreshed beside
their estimates as labels arrive. The weekly drift check estimates the week's F1 the same way
and warns (``performance.estimated_drop``) when it falls below the floor on enough trips.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.estimate import EstimatedPerformance, WeeklyEstimate, estimate_performance
from truckflow.monitoring.estimate_store import save_estimate, save_realized
from truckflow.monitoring.quality import model_quality
from truckflow.monitoring.report import DriftReport
from truckflow.notify import catalogue
from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry, RegistryError
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.streaming.tables import batch_predictions
from truckflow.training.calibration import Calibrator, from_tags

__all__ = [
    "calibrated",
    "estimate_day",
    "estimate_frame",
    "refresh_realized",
    "warn_estimated_drop",
    "weekly_estimate",
]

log = logging.getLogger(__name__)
# Days back whose realized figures are refreshed: a trip's label comes when it arrives.
REFRESH_DAYS = 14


def calibrated(settings: Settings, predictions: pd.DataFrame) -> np.ndarray:
    """The calibrated probability of each prediction, by the version that made it."""
    registry = ModelRegistry.from_settings(settings)
    out = np.empty(len(predictions))
    versions = predictions["model_version"].astype(str)
    for version in versions.unique():
        mine = (versions == version).to_numpy()
        calibrator = _calibrator(registry, version)
        out[mine] = calibrator.apply(predictions.loc[mine, "probability"].to_numpy(float))
    return out


def _calibrator(registry: ModelRegistry, version: str) -> Calibrator:
    try:
        return from_tags(registry.get(version).tags)
    except RegistryError as exc:
        # A version gone from the registry still has its predictions: estimated from the raw
        # scores (said in the log) rather than no estimate at all.
        log.warning("version %s: no calibration (%s); its raw scores are used", version, exc)
        return Calibrator("identity")


def estimate_frame(settings: Settings, predictions: pd.DataFrame) -> EstimatedPerformance:
    """The estimate for ``predictions`` (probability, decision, model_version columns)."""
    return estimate_performance(
        calibrated(settings, predictions),
        predictions["decision"].to_numpy(int),
        draws=settings.bootstrap.resamples,
        confidence=settings.bootstrap.confidence,
        seed=settings.bootstrap.seed,
    )


def _predicted_on(db: Database, day: dt.date) -> pd.DataFrame:
    bp = batch_predictions
    query = sa.select(bp.c.probability, bp.c.decision, bp.c.model_version, bp.c.delay).where(
        bp.c.prediction_day == day
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["probability", "decision", "model_version", "delay"])


def refresh_realized(db: Database, day: dt.date) -> int:
    """Realized quality beside the estimates of the last ``REFRESH_DAYS`` days up to ``day``;
    returns how many days have labels."""
    with_labels = 0
    for back in range(REFRESH_DAYS + 1):
        which = day - dt.timedelta(days=back)
        frame = _predicted_on(db, which)
        labelled = frame[frame["delay"].notna()]
        quality = (
            None
            if labelled.empty
            else model_quality(labelled["delay"].astype(int), labelled["decision"].astype(int))
        )
        if save_realized(db, which, quality) and quality is not None:
            with_labels += 1
    return with_labels


def estimate_day(rt: Runtime, day: dt.date) -> dict[str, Any]:
    """Estimate the quality of the trips predicted on ``day``; refresh realized figures."""
    db, settings = rt.db, rt.settings
    frame = _predicted_on(db, day)
    estimate = None
    if not frame.empty:
        estimate = estimate_frame(settings, frame)
        versions = frame["model_version"].astype(str).value_counts()
        save_estimate(db, day, estimate, model_version=str(versions.index[0]))
    return {
        "day": day.isoformat(),
        "estimate": None if estimate is None else estimate.model_dump(),
        "days_with_labels": refresh_realized(db, day),
    }


def weekly_estimate(
    settings: Settings, predictions: pd.DataFrame, config: DriftConfig
) -> WeeklyEstimate | None:
    """The week's estimated quality (calibrated probabilities) beside the realized quality of
    its trips labelled so far; None for a week without predictions."""
    if predictions.empty:
        return None
    labelled = predictions[predictions["delay"].notna()]
    realized = (
        None
        if labelled.empty
        else model_quality(labelled["delay"].astype(int), labelled["decision"].astype(int), config)
    )
    return WeeklyEstimate(
        estimated=estimate_frame(settings, predictions),
        realized=realized,
        floor=config.min_f1,
        min_trips=settings.drift.min_quality_trips,
    )


def warn_estimated_drop(
    rt: Runtime,
    conn: sa.Connection,
    report: DriftReport,
    week_start: dt.date,
    version: str,
    html: Any,
) -> None:
    """The ``performance.estimated_drop`` warning, told once per week."""
    if report.estimate is None:
        return
    estimated, settings = report.estimate.estimated, rt.settings
    rt.notifications.sink.emit(
        catalogue.performance_estimated_drop(
            estimated.f1,
            floor=report.estimate.floor,
            trips=estimated.count,
            interval=(estimated.f1_low, estimated.f1_high),
            week=week_start.isoformat(),
            model=f"{settings.mlflow.model_name} v{version}",
            report=str(html),
            key=f"performance.estimated_drop:{week_start.isoformat()}",
        ),
        connection=conn,
    )
