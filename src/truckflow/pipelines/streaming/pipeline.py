"""The ``daily`` pipeline: one simulated day of the streaming process.

  ingest (the day's schedules, forecasts on week starts, yesterday's ground truth)
    -> features (new trips; those still waiting for forecasts are listed)
    -> predict (production model, stored with its version)
    -> labels (ground truth into the feature table and onto the stored predictions)
    -> metrics (yesterday's arrivals: accuracy, precision, recall, F1, count)
    -> estimate (the day's predictions: quality estimated from calibrated probabilities;
       realized figures of the days before refreshed beside their estimates)
    -> close (the day's record + metrics + clock advance, one transaction)

No step is cached: each reads the database. Each is idempotent, so a day run again, or after a
crash in its middle, ends with the tables one clean run gives.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from truckflow.faults import fault_point
from truckflow.pipeline import (
    CachePolicy,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    step,
)
from truckflow.pipelines.runtime import runtime_of
from truckflow.pipelines.shared import estimate as estimates
from truckflow.pipelines.streaming import steps
from truckflow.store import Database
from truckflow.streaming import StreamingClock, StreamingError

__all__ = ["daily_pipeline"]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _on_day(db: Database, day: str) -> None:
    current = StreamingClock(db).status().current_day
    if current is None or current.isoformat() != day:
        raise StreamingError(f"daily pipeline for {day}: the streaming clock is at {current}")


@step(cache=False)
def ingest(day: str, first_day: str, data: str, context: StepContext) -> dict[str, Any]:
    rt = runtime_of(context)
    _on_day(rt.db, day)
    state = StreamingClock(rt.db).status()
    return steps.ingest_day(rt, Path(data), state, _day(first_day))


@step(cache=False)
def features(
    day: str, first_day: str, ingested: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    out = steps.fill_day_features(runtime_of(context), _day(first_day), _day(day))
    fault_point("day.after_features")
    return out


@step(cache=False)
def predict(
    day: str, first_day: str, features: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    out = steps.predict_day(runtime_of(context), _day(first_day), _day(day))
    fault_point("day.after_predictions")
    return out


@step(cache=False)
def labels(predicted: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return steps.join_labels(runtime_of(context).db)


@step(cache=False)
def metrics(day: str, labels: dict[str, Any], context: StepContext) -> dict[str, Any]:
    yesterday = _day(day) - dt.timedelta(days=1)
    return {"metrics": steps.daily_quality(runtime_of(context), yesterday)}


@step(cache=False)
def estimate(day: str, labels: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return estimates.estimate_day(runtime_of(context), _day(day))


@step(cache=False)
def close(
    day: str,
    first_day: str,
    ingest: dict[str, Any],
    features: dict[str, Any],
    predict: dict[str, Any],
    labels: dict[str, Any],
    metrics: dict[str, Any],
    estimate: dict[str, Any],
    context: StepContext,
) -> dict[str, Any]:
    # ``estimate`` is stored by its own step; closing after it means a day is never closed
    # with its estimate missing.
    summary = {
        "day": day,
        "first_day": first_day,
        "ingest": ingest,
        "features": {k: v for k, v in features.items() if k != "waiting_trips"},
        "predictions": predict,
        "labels": labels,
        "metrics": metrics["metrics"],
    }
    closed = steps.close_day(runtime_of(context), _day(day), summary)
    return {"summary": summary, **closed}


def daily_pipeline() -> Pipeline:
    day = Parameter(
        "day", "string", description="The simulated day (ISO); the clock's current day."
    )
    first_day = Parameter(
        "first_day", "string", description="First day of the streaming period (ISO)."
    )
    data = Parameter("data", "string", description="Folder of the streaming files.")
    return Pipeline(
        "daily",
        description="One simulated day: ingest, features, batch predictions, ground truth, metrics.",
        parameters=[day, first_day, data],
        cache=CachePolicy(enabled=False),
        steps=[
            ingest.as_step(day=day, first_day=first_day, data=data),
            features.as_step(day=day, first_day=first_day, ingested=ref("ingest")),
            predict.as_step(day=day, first_day=first_day, features=ref("features")),
            labels.as_step(predicted=ref("predict")),
            metrics.as_step(day=day, labels=ref("labels")),
            estimate.as_step(day=day, labels=ref("labels")),
            close.as_step(
                day=day,
                first_day=first_day,
                ingest=ref("ingest"),
                features=ref("features"),
                predict=ref("predict"),
                labels=ref("labels"),
                metrics=ref("metrics"),
                estimate=ref("estimate"),
            ),
        ],
    )
