"""The daily pipeline's last step: the day's record, its one summary line, the clock advance.

``close_day`` stores yesterday's metrics and the day's record (what the tables hold about the
day, whichever run did the work) and advances the clock, in one transaction: a day either
counts as done or is redone completely.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from truckflow.features.tables import trip_features
from truckflow.monitoring.quality import ModelQuality
from truckflow.monitoring.store import save_daily_metrics
from truckflow.notify import catalogue
from truckflow.pipelines.runtime import Runtime
from truckflow.store.tables import truck_schedule
from truckflow.streaming import StreamingClock
from truckflow.streaming.tables import batch_predictions, streaming_days

__all__ = ["close_day", "day_facts", "day_line"]

log = logging.getLogger("truckflow.pipelines.streaming.steps")


def day_facts(conn: sa.Connection, first_day: dt.date, day: dt.date) -> dict[str, Any]:
    """What the tables hold about ``day`` once it is done, whichever run did the work (a rerun
    after a crash does less itself, but leaves the same facts)."""
    d0 = dt.datetime.combine(day, dt.time())
    d1, y0 = d0 + dt.timedelta(days=1), d0 - dt.timedelta(days=1)
    ts, tf, bp = truck_schedule, trip_features, batch_predictions

    def count(query: Any) -> int:
        return int(conn.execute(query).scalar_one())

    departed = ts.c.departure_date >= dt.datetime.combine(first_day, dt.time())
    stored = sa.select(sa.func.count()).select_from(
        ts.join(
            tf,
            sa.and_(tf.c.truck_id == ts.c.truck_id, tf.c.departure_date == ts.c.departure_date),
        )
    )
    versions = conn.execute(
        sa.select(bp.c.model_version, sa.func.count())
        .where(bp.c.prediction_day == day)
        .group_by(bp.c.model_version)
    ).all()
    made_today = bp.c.prediction_day == day
    predicted_by_now = count(
        sa.select(sa.func.count()).where(
            bp.c.departure_date >= dt.datetime.combine(first_day, dt.time()),
            bp.c.departure_date < d1,
        )
    )
    return {
        "predictions_on_time": count(
            sa.select(sa.func.count()).where(made_today, bp.c.departure_date >= d0)
        ),
        "predictions_late": count(
            sa.select(sa.func.count()).where(made_today, bp.c.departure_date < d0)
        ),
        "predictions_partial": count(
            sa.select(sa.func.count()).where(made_today, bp.c.features_complete.is_(False))
        ),
        "not_predicted": count(sa.select(sa.func.count()).where(departed, ts.c.departure_date < d1))
        - predicted_by_now,
        "features_stored": count(stored.where(departed, ts.c.departure_date < d1)),
        "features_waiting": count(
            sa.select(sa.func.count()).where(departed, ts.c.departure_date < d1)
        )
        - count(stored.where(departed, ts.c.departure_date < d1)),
        "predictions": sum(int(n) for _, n in versions),
        "model_version": max((str(v) for v, _ in versions), default=None),
        "labels_known": count(
            sa.select(sa.func.count()).where(
                departed,
                ts.c.estimated_arrival >= y0,
                ts.c.estimated_arrival < d0,
                ts.c.delay.is_not(None),
            )
        ),
    }


def _interval(metrics: dict[str, Any]) -> dict[str, float]:
    interval = metrics.get("f1_interval")
    return {} if not interval else {"f1_low": float(interval[0]), "f1_high": float(interval[1])}


def day_line(record: dict[str, Any], summary: dict[str, Any]) -> str:
    """The day in one line: predictions on time, late and partial, features, labels, F1."""
    features = summary.get("features", {})
    metrics = record.get("metrics")
    f1 = "no arrivals scored"
    if metrics:
        low, high = metrics.get("f1_interval") or (None, None)
        span = "" if low is None else f" [{low:.2f}, {high:.2f}]"
        f1 = f"F1 of {metrics['day']} {metrics['f1']:.2f}{span} on {metrics['count']} trips"
    return (
        f"day {record['day']}: {record['predictions']} predicted "
        f"({record['predictions_on_time']} on time, {record['predictions_late']} late, "
        f"{record['predictions_partial']} partial), {record['not_predicted']} not predicted; "
        f"features {features.get('computed', 0)} new, {features.get('partial', 0)} partial, "
        f"{features.get('completed', 0)} completed, {features.get('waiting', 0)} waiting; "
        f"{record['labels_known']} labels; {f1}"
    )


def close_day(rt: Runtime, day: dt.date, summary: dict[str, Any]) -> dict[str, Any]:
    """Store yesterday's metrics and the day's record, and advance the clock: one transaction."""
    db = rt.db
    clock = StreamingClock(db)
    metrics = summary.get("metrics")
    with db.begin() as conn:
        state = clock.status(connection=conn)
        if state.current_day != day:
            # Another process finished this day first; nothing of ours to write.
            return {"advanced": False, "clock": state.to_dict(), "record": None}
        if metrics:
            quality = ModelQuality.model_validate(metrics)
            save_daily_metrics(
                conn,
                dt.date.fromisoformat(metrics["day"]),
                quality,
                model_version=metrics["model_version"],
            )
        record = {
            "day": day.isoformat(),
            "received": summary["ingest"]["received"],
            "quarantined": summary["ingest"]["quarantined"],
            "metrics": metrics,
            **day_facts(conn, dt.date.fromisoformat(summary["first_day"]), day),
        }
        conn.execute(streaming_days.delete().where(streaming_days.c.day == day))
        conn.execute(streaming_days.insert().values(day=day, summary=record))
        # One line per day; a warning only when a trip was predicted late, not at all, or
        # still waits (partial predictions are the rule, flagged, not a fault).
        behind = record["predictions_late"] or record["not_predicted"]
        waiting = summary.get("features", {}).get("waiting", 0)
        log.log(
            logging.WARNING if behind or waiting else logging.INFO, "%s", day_line(record, summary)
        )
        received = summary.get("ingest", {}).get("received", {})
        for source, count in received.items():
            clock.record_processed(source, int(count), connection=conn)
        after = clock.advance(connection=conn)
        if metrics:
            rt.notifications.sink.emit(
                catalogue.metrics_daily(
                    metrics["day"],
                    {
                        **{k: float(metrics[k]) for k in ("accuracy", "precision", "recall", "f1")},
                        "count": float(metrics["count"]),
                        **_interval(metrics),
                    },
                    model=metrics["model_version"],
                ),
                connection=conn,
            )
    return {"advanced": True, "clock": after.to_dict(), "record": record}
