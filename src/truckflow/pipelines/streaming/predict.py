"""The daily batch predictions, by partitions: each block of trucks read, predicted with the
production model (loaded once per task) and written by a task of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.features.fill import MISSING, load_features
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.models import load_production
from truckflow.store import Database
from truckflow.streaming.tables import batch_predictions
from truckflow.training.explain import explain_frame

__all__ = ["PredictPart", "Predicted", "predict_day", "predict_part"]


@dataclass(frozen=True)
class PredictPart:
    """The trips departing in ``[start, end)`` of the trucks of block ``trucks`` = (k, n),
    ``truck_id % n == k`` (all trucks when None), predicted on ``day``."""

    rt: Runtime
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    trucks: tuple[int, int] | None = None

    def __repr__(self) -> str:
        block = "" if self.trucks is None else f", trucks %{self.trucks[1]} = {self.trucks[0]}"
        return f"predict {self.day.isoformat()}{block}"


@dataclass(frozen=True)
class Predicted:
    """What one partition predicted; ``no_model``: it had trips and no production model."""

    predicted: int = 0
    late: int = 0
    partial: int = 0
    model_version: str | None = None
    no_model: bool = False


def predict_day(rt: Runtime, first_day: dt.date, day: dt.date) -> dict[str, Any]:
    """Predict, with the production model, every trip departed by ``day`` that has stored
    features and no prediction yet; each prediction keeps the model version that made it and
    whether its features were complete (which groups were missing when not).

    The trucks are cut into as many blocks as the step's partitions run at once (one without
    a runner); each block is a task of its own."""
    start = dt.datetime.combine(first_day, dt.time())
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    n = rt.partitions.width
    blocks: list[tuple[int, int] | None] = [None] if n <= 1 else [(k, n) for k in range(n)]
    done = rt.partitions.map(predict_part, [PredictPart(rt, day, start, end, b) for b in blocks])
    empty = {"predicted": 0, "model_version": None, "on_time": 0, "late": 0, "partial": 0}
    version = next((p.model_version for p in done if p.model_version is not None), None)
    if version is None:
        return {**empty, "note": "no production model"} if any(p.no_model for p in done) else empty
    predicted, late = sum(p.predicted for p in done), sum(p.late for p in done)
    return {
        "predicted": predicted,
        "model_version": version,
        "on_time": predicted - late,
        "late": late,
        "partial": sum(p.partial for p in done),
    }


def _predicted(
    db: Database, start: dt.datetime, end: dt.datetime, trucks: tuple[int, int] | None
) -> set[tuple[int, pd.Timestamp]]:
    """The trips departing in [start, end) (of the block's trucks) that have a prediction."""
    bp = batch_predictions
    query = sa.select(bp.c.truck_id, bp.c.departure_date).where(
        bp.c.departure_date >= start, bp.c.departure_date < end
    )
    if trucks is not None:
        query = query.where(bp.c.truck_id % trucks[1] == trucks[0])
    with db.engine.connect() as conn:
        return {(int(t), pd.Timestamp(d)) for t, d in conn.execute(query)}


def predict_part(part: PredictPart) -> Predicted:
    """Predict and store the partition's trips with features and no prediction yet."""
    rt, day, db = part.rt, part.day, part.rt.db
    features = load_features(db, part.start, part.end, with_missing=True, trucks=part.trucks)
    done = _predicted(db, part.start, part.end, part.trucks)
    keys = zip(features["truck_id"], features["departure_date"], strict=True)
    fresh = features[[(int(t), pd.Timestamp(d)) not in done for t, d in keys]]
    if fresh.empty:
        return Predicted()
    production = load_production(rt.settings)
    if production is None:
        return Predicted(no_model=True)
    scores = np.asarray(production.model.predict_proba(fresh)[:, 1], dtype=np.float64)
    explained = explain_frame(production.model, fresh)
    reasons: list[Any] = explained if explained is not None else [None] * len(fresh)
    rows = [
        {
            "truck_id": int(t),
            "departure_date": pd.Timestamp(d).to_pydatetime(),
            "estimated_arrival": pd.Timestamp(a).to_pydatetime(),
            "prediction_day": day,
            "model_version": production.version,
            "probability": float(p),
            "decision": int(p >= production.threshold),
            "delay": None if pd.isna(y) else int(y),
            "reasons": r,
            "features_complete": not isinstance(m, str),
            "missing_groups": m if isinstance(m, str) else None,
        }
        for t, d, a, p, y, r, m in zip(
            fresh["truck_id"],
            fresh["departure_date"],
            fresh["estimated_arrival"],
            scores,
            fresh["delay"],
            reasons,
            fresh[MISSING],
            strict=True,
        )
    ]
    with db.begin() as conn:
        conn.execute(batch_predictions.insert(), rows)
    late = int((fresh["departure_date"] < pd.Timestamp(day)).sum())
    partial = sum(1 for r in rows if not r["features_complete"])
    return Predicted(len(rows), late, partial, production.version)
