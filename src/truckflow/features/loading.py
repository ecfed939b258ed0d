"""Reading the feature inputs from the operational database: a window of trips, or one trip.

Only the rows the trips need are read: their routes, trucks and drivers, and the forecasts
between the earliest departure (floored to 6 h) and the latest arrival (ceiled to 6 h). The
online path (:func:`features_for_trip`) reads one trip's rows and calls the same compute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from truckflow.features.compute import FeatureResult, compute_features
from truckflow.features.inputs import FeatureError, FeatureInputs
from truckflow.store import Database
from truckflow.store import schema as s

__all__ = ["features_for_schedule", "features_for_trip", "load_inputs"]

# Above this many ids a whole (small) table is read instead of an IN list.
_MAX_IN = 500


def _read(conn: Connection, query: sa.Select[tuple[object, ...]]) -> pd.DataFrame:
    result = conn.execute(query)
    columns = list(result.keys())
    # Plain tuples: pandas probes each Row object's attributes, which costs more than the query.
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)


def _among(column: sa.ColumnElement[object], values: Sequence[object]) -> sa.ColumnElement[bool]:
    if len(values) > _MAX_IN:
        return sa.true()
    return column.in_(list(values))


def load_inputs(
    db: Database,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    trips: Sequence[tuple[int, dt.datetime]] | None = None,
) -> FeatureInputs:
    """Inputs for trips departing in ``[start, end)`` and/or the given (truck_id, departure)."""
    query = sa.select(s.truck_schedule)
    if start is not None:
        query = query.where(s.truck_schedule.c.departure_date >= start)
    if end is not None:
        query = query.where(s.truck_schedule.c.departure_date < end)
    if trips is not None:
        key = sa.tuple_(s.truck_schedule.c.truck_id, s.truck_schedule.c.departure_date)
        query = query.where(key.in_([(int(t), d) for t, d in trips]))
    try:
        with db.engine.connect() as conn:
            return _load(conn, _read(conn, query))
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"reading feature inputs from {db.safe_url} failed: {exc}") from exc


def _load(conn: Connection, schedule: pd.DataFrame) -> FeatureInputs:
    route_ids = sorted(set(schedule["route_id"]))
    truck_ids = sorted({int(t) for t in schedule["truck_id"]})
    routes = _read(conn, sa.select(s.routes).where(_among(s.routes.c.route_id, route_ids)))
    city_ids = sorted(set(routes["origin_id"]) | set(routes["destination_id"]))
    if schedule.empty:
        t0 = t1 = pd.Timestamp("1970-01-01")
    else:
        t0 = pd.Timestamp(schedule["departure_date"].min()).floor("6h")
        t1 = pd.Timestamp(schedule["estimated_arrival"].max()).ceil("6h")
    d0, d1 = t0.date(), t1.date()
    rw, tr, cw = s.route_weather, s.traffic, s.city_weather
    return FeatureInputs(
        schedule=schedule,
        trucks=_read(conn, sa.select(s.trucks).where(_among(s.trucks.c.truck_id, truck_ids))),
        drivers=_read(conn, sa.select(s.drivers).where(_among(s.drivers.c.vehicle_no, truck_ids))),
        routes=routes,
        route_weather=_read(
            conn,
            sa.select(rw).where(
                _among(rw.c.route_id, route_ids),
                rw.c.ts.between(t0.to_pydatetime(), t1.to_pydatetime()),
            ),
        ),
        traffic=_read(
            conn,
            sa.select(tr).where(_among(tr.c.route_id, route_ids), tr.c.date.between(d0, d1)),
        ),
        city_weather=_read(
            conn,
            sa.select(cw).where(_among(cw.c.city_id, city_ids), cw.c.date.between(d0, d1)),
        ),
    ).normalised()


def features_for_trip(
    db: Database,
    truck_id: int,
    departure_date: dt.datetime,
    *,
    route_id: str | None = None,
    estimated_arrival: dt.datetime | None = None,
) -> FeatureResult:
    """The online path: one trip's rows from the database, then the one compute.

    The trip is read from the schedule, unless its route and estimated arrival are given (a
    trip asked about before it is scheduled); either way the same compute runs on it.
    """
    if (route_id is None) != (estimated_arrival is None):
        raise FeatureError("give both route_id and estimated_arrival, or neither")
    if route_id is None:
        inputs = load_inputs(db, trips=[(truck_id, departure_date)])
        if inputs.schedule.empty:
            raise FeatureError(
                f"trip of truck {truck_id} departing {departure_date} is not in truck_schedule"
            )
        return compute_features(inputs)
    schedule = pd.DataFrame(
        {
            "truck_id": [int(truck_id)],
            "route_id": [route_id],
            "departure_date": [pd.Timestamp(departure_date)],
            "estimated_arrival": [estimated_arrival],
            "delay": [None],
        }
    )
    try:
        with db.engine.connect() as conn:
            inputs = _load(conn, schedule)
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"reading feature inputs from {db.safe_url} failed: {exc}") from exc
    return compute_features(inputs)


def features_for_schedule(db: Database, schedule: pd.DataFrame) -> FeatureResult:
    """The online path for many trips at once: ``schedule`` has ``truck_id``, ``route_id``,
    ``departure_date`` and ``estimated_arrival``; their rows are read in one go, then the one
    compute runs on them."""
    frame = schedule.assign(delay=None) if "delay" not in schedule.columns else schedule
    try:
        with db.engine.connect() as conn:
            inputs = _load(conn, frame)
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"reading feature inputs from {db.safe_url} failed: {exc}") from exc
    return compute_features(inputs)
