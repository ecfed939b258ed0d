"""Captured predictions beside the ground truth that arrived later, day by day.

A captured trip prediction keeps its inputs (truck, route, departure); the label lands in the
feature table when ground truth arrives. Joining the two on (truck, departure) tells, per
departure day, how many predictions there were, how many have a label yet, and how many were right.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from truckflow.features.tables import trip_features
from truckflow.serving.tables import predictions
from truckflow.store import Database

__all__ = ["OUTCOME_COLUMNS", "prediction_outcomes"]

OUTCOME_COLUMNS = [
    "day",
    "model_version",
    "predictions",
    "predicted_delayed",
    "labelled",
    "actual_delayed",
    "correct",
    "accuracy",
]


def _trip_key(inputs: object) -> tuple[int | None, datetime | None]:
    if not isinstance(inputs, dict):
        return None, None
    try:
        return int(inputs["truck_id"]), pd.Timestamp(inputs["departure"]).to_pydatetime()
    except (KeyError, TypeError, ValueError):
        return None, None


def prediction_outcomes(db: Database, *, limit: int = 100_000) -> pd.DataFrame:
    """Per departure day and model version: predictions, labels known, correct ones, accuracy.

    Predictions without trip inputs (explicit feature vectors) have no trip to join and count by
    the day they were made; ``labelled`` stays 0 for them.
    """
    query = (
        sa.select(
            predictions.c.inputs,
            predictions.c.decision,
            predictions.c.model_version,
            predictions.c.created_at,
        )
        .order_by(predictions.c.created_at.desc())
        .limit(limit)
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    keys = [_trip_key(r.inputs) for r in rows]
    frame = pd.DataFrame(
        {
            "truck_id": pd.array([k[0] for k in keys], dtype="Int64"),
            "departure_date": pd.to_datetime(pd.Series([k[1] for k in keys], dtype=object)),
            "decision": [int(r.decision) for r in rows],
            "model_version": [str(r.model_version) for r in rows],
            "created_at": [r.created_at for r in rows],
        }
    )
    labels = _labels(db, frame)
    frame = frame.merge(labels, on=["truck_id", "departure_date"], how="left")
    when = frame["departure_date"].where(frame["departure_date"].notna(), frame["created_at"])
    frame["day"] = pd.to_datetime(when).dt.date
    frame["labelled"] = frame["delay"].notna().astype(int)
    frame["actual_delayed"] = (frame["delay"] == 1).fillna(False).astype(int)
    frame["correct"] = (frame["delay"] == frame["decision"]).fillna(False).astype(int)
    out = (
        frame.groupby(["day", "model_version"], as_index=False)
        .agg(
            predictions=("decision", "size"),
            predicted_delayed=("decision", "sum"),
            labelled=("labelled", "sum"),
            actual_delayed=("actual_delayed", "sum"),
            correct=("correct", "sum"),
        )
        .sort_values(["day", "model_version"], ignore_index=True)
    )
    out["accuracy"] = (out["correct"] / out["labelled"]).where(out["labelled"] > 0)
    return out[OUTCOME_COLUMNS]


def _labels(db: Database, frame: pd.DataFrame) -> pd.DataFrame:
    """Known labels of the predicted trips (any feature version: the label is the trip's)."""
    trucks = sorted({int(t) for t in frame["truck_id"].dropna()})
    if not trucks:
        return pd.DataFrame(
            {
                "truck_id": pd.array([], dtype="Int64"),
                "departure_date": pd.to_datetime([]),
                "delay": pd.array([], dtype="Int64"),
            }
        )
    query = (
        sa.select(trip_features.c.truck_id, trip_features.c.departure_date, trip_features.c.delay)
        .where(trip_features.c.truck_id.in_(trucks), trip_features.c.delay.is_not(None))
        .distinct()
    )
    with db.engine.connect() as conn:
        found = conn.execute(query).all()
    labels = pd.DataFrame(
        {
            "truck_id": pd.array([int(r.truck_id) for r in found], dtype="Int64"),
            "departure_date": pd.to_datetime([r.departure_date for r in found]),
            "delay": pd.array([int(r.delay) for r in found], dtype="Int64"),
        }
    )
    return labels.drop_duplicates(["truck_id", "departure_date"])
