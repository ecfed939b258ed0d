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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from truckflow.faults import fault_point
from truckflow.pipeline import (
    CachePolicy,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    register_pipeline,
    step,
)
from truckflow.pipelines import daily_steps, estimate_steps
from truckflow.store import Database, connect
from truckflow.streaming import StreamingClock, StreamingError

__all__ = ["daily_pipeline"]

T = TypeVar("T")


@contextmanager
def _db(context: StepContext) -> Iterator[Database]:
    db = connect(context.settings)
    try:
        yield db
    finally:
        db.dispose()


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _on_day(db: Database, day: str) -> None:
    current = StreamingClock(db).status().current_day
    if current is None or current.isoformat() != day:
        raise StreamingError(f"daily pipeline for {day}: the streaming clock is at {current}")


def _with_db(context: StepContext, work: Callable[[Database], T]) -> T:
    with _db(context) as db:
        return work(db)


@step(cache=False)
def ingest(day: str, first_day: str, data: str, context: StepContext) -> dict[str, Any]:
    with _db(context) as db:
        _on_day(db, day)
        state = StreamingClock(db).status()
        return daily_steps.ingest_day(db, context.settings, Path(data), state, _day(first_day))


@step(cache=False)
def features(
    day: str, first_day: str, ingested: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    out = _with_db(
        context,
        lambda db: daily_steps.fill_day_features(db, context.settings, _day(first_day), _day(day)),
    )
    fault_point("day.after_features")
    return out


@step(cache=False)
def predict(
    day: str, first_day: str, features: dict[str, Any], context: StepContext
) -> dict[str, Any]:
    out = _with_db(
        context,
        lambda db: daily_steps.predict_day(db, context.settings, _day(first_day), _day(day)),
    )
    fault_point("day.after_predictions")
    return out


@step(cache=False)
def labels(predicted: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return _with_db(context, daily_steps.join_labels)


@step(cache=False)
def metrics(day: str, labels: dict[str, Any], context: StepContext) -> dict[str, Any]:
    yesterday = _day(day) - dt.timedelta(days=1)
    found = _with_db(context, lambda db: daily_steps.daily_quality(db, yesterday, context.settings))
    return {"metrics": found}


@step(cache=False)
def estimate(day: str, labels: dict[str, Any], context: StepContext) -> dict[str, Any]:
    return _with_db(
        context, lambda db: estimate_steps.estimate_day(db, context.settings, _day(day))
    )


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
    closed = _with_db(
        context, lambda db: daily_steps.close_day(db, context.settings, _day(day), summary)
    )
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


register_pipeline("daily", daily_pipeline)
