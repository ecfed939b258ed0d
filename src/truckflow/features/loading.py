"""Reading the feature inputs from the operational database: a window of trips, or one trip.

Only the rows the trips need are read: their routes, trucks and drivers, the weather of their
origins at the departure hours and of their destinations at the arrival hours, and, per route,
the traffic hours and route-weather slots that some trip's window covers (each trip's window
widened to whole hours or 6-hour slots, overlapping windows of a route merged). A month of trips
thus reads the hours its trips span, not every route's every hour. Rows come off the DBAPI cursor
(:mod:`truckflow.features.sqlread`). The online path (:func:`features_for_trip`) reads one
trip's rows and calls the same compute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from truckflow.features.compute import FeatureResult, compute_features
from truckflow.features.inputs import FeatureError, FeatureInputs
from truckflow.features.sqlread import SqlText, column_kinds, fetch_frame
from truckflow.features.windows import lookup
from truckflow.store import Database
from truckflow.store import tables as s

__all__ = ["features_for_schedule", "features_for_trip", "load_inputs"]

# Ids in one IN list; more are read by several queries.
_MAX_IN = 500
# Up to this many trips are read by key; more, by their departure window.
_MAX_TRIPS_BY_KEY = 200
# Route windows per query: each is one index range scan (an OR of ranges).
_RANGES_PER_QUERY = 200
_HOUR = np.int64(3_600_000_000_000)
_ENDS = ("origin_id", "destination_id")


def _select(sql: SqlText, table: sa.Table) -> str:
    return f"SELECT {sql.names(list(table.columns.keys()))} FROM {sql.name(table.name)}"


def _read_table(
    conn: Connection, table: sa.Table, where: str = "", params: Sequence[object] = ()
) -> pd.DataFrame:
    sql = SqlText(conn)
    text = _select(sql, table) + (f" WHERE {where}" if where else "")
    return fetch_frame(conn, text, [sql.value(p) for p in params], column_kinds(table))


def _padded_size(count: int, limit: int) -> int:
    """``count`` rounded up to a power of two (at most ``limit``): a query is padded to it (its
    last value or range repeated, which selects no other row) so that queries take a handful of
    shapes. Each distinct SQL text is a prepared statement the driver keeps (SQLite's cache
    holds 128 per connection, those of 200 ranges some 100 KB each), so that texts of every
    length grew the fill's memory with each partition."""
    return min(limit, 1 << max(0, count - 1).bit_length())


def _among(
    conn: Connection,
    table: sa.Table,
    column: str,
    values: Sequence[object],
    where: str = "",
    params: Sequence[object] = (),
) -> pd.DataFrame:
    """Rows of ``table`` whose ``column`` is one of ``values`` (and that match ``where``), read
    ``_MAX_IN`` values a query: what is read follows the values asked for, not the table (a
    route block of a large fleet reads its own trucks, not the whole fleet's)."""
    sql = SqlText(conn)
    also = f" AND ({where})" if where else ""
    if not values:
        return _read_table(conn, table, "1 = 0")
    frames = []
    for lo in range(0, len(values), _MAX_IN):
        chunk = list(values[lo : lo + _MAX_IN])
        chunk += chunk[-1:] * (_padded_size(len(chunk), _MAX_IN) - len(chunk))
        where_in = f"{sql.name(column)} IN ({sql.marks(len(chunk))}){also}"
        frames.append(_read_table(conn, table, where_in, [*chunk, *params]))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def load_inputs(
    db: Database,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    trips: Sequence[tuple[int, dt.datetime]] | None = None,
    routes: Sequence[str] | None = None,
) -> FeatureInputs:
    """Inputs for trips departing in ``[start, end)`` and/or the given (truck_id, departure);
    with ``routes``, only the trips on those routes (a fill partition's block of routes)."""
    try:
        with db.engine.connect() as conn:
            return _load(conn, _schedule(conn, start, end, trips, routes))
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"reading feature inputs from {db.safe_url} failed: {exc}") from exc


def _schedule(
    conn: Connection,
    start: dt.datetime | None,
    end: dt.datetime | None,
    trips: Sequence[tuple[int, dt.datetime]] | None,
    routes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The schedule rows asked for; many trips within a window are read by the window (on
    ``routes`` only, when given) and picked out here (one range scan instead of thousands of
    key lookups)."""
    sql = SqlText(conn)
    departure = sql.name("departure_date")
    where: list[str] = []
    params: list[object] = []
    if start is not None:
        where.append(f"{departure} >= {sql.mark}")
        params.append(start)
    if end is not None:
        where.append(f"{departure} < {sql.mark}")
        params.append(end)
    keys = None if trips is None else [(int(t), pd.Timestamp(d)) for t, d in trips]
    by_window = keys is not None and len(keys) > _MAX_TRIPS_BY_KEY and bool(where)
    if keys is not None and not by_window:
        one = f"({sql.name('truck_id')} = {sql.mark} AND {departure} = {sql.mark})"
        where.append("(" + " OR ".join([one] * len(keys)) + ")" if keys else "1 = 0")
        params.extend(v for t, d in keys for v in (t, d.to_pydatetime()))
    if routes is not None:
        # A fill's block is a run of sorted route ids: one range, its routes picked out here
        # (an IN list of thousands would be many queries, each scanning the window again).
        between = f"{sql.name('route_id')} BETWEEN {sql.mark} AND {sql.mark}"
        where.append(between if routes else "1 = 0")
        params.extend([min(routes), max(routes)] if routes else [])
    schedule = _read_table(conn, s.truck_schedule, " AND ".join(where), params)
    if routes is not None:
        schedule = schedule[schedule["route_id"].isin(list(routes))]
    if by_window and keys is not None:
        have = pd.MultiIndex.from_arrays([schedule["truck_id"], schedule["departure_date"]])
        schedule = schedule[have.isin(pd.MultiIndex.from_tuples(keys))]
    return schedule.reset_index(drop=True)


def _merged(
    routes: np.ndarray, t0: np.ndarray, t1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per route, the union of the [t0, t1] windows (int64 ns), as few ranges as it takes."""
    order = np.lexsort((t0, routes))
    routes, t0, t1 = routes[order], t0[order], t1[order]
    keep_r: list[object] = []
    keep_0: list[int] = []
    keep_1: list[int] = []
    for route, a, b in zip(routes.tolist(), t0.tolist(), t1.tolist(), strict=True):
        if keep_r and keep_r[-1] == route and a <= keep_1[-1]:
            keep_1[-1] = max(keep_1[-1], b)
        else:
            keep_r.append(route)
            keep_0.append(a)
            keep_1.append(b)
    return np.asarray(keep_r, dtype=object), np.asarray(keep_0), np.asarray(keep_1)


def _stamp(ns: int) -> dt.datetime:
    return pd.Timestamp(ns).to_pydatetime()


def _in_ranges(
    conn: Connection,
    table: sa.Table,
    ranges: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    hourly: bool,
    key: str = "route_id",
) -> pd.DataFrame:
    """Rows of ``table`` in each (``key``, [t0, t1]) range; ``hourly`` tables key on date + hour."""
    if conn.dialect.name == "postgresql":
        return _in_ranges_joined(conn, table, ranges, hourly=hourly, key=key)
    sql = SqlText(conn)
    route = sql.name(key)
    if hourly:
        date, hour = sql.name("date"), sql.name("hour")
        m = sql.mark
        one = (
            f"({route} = {m} AND {date} BETWEEN {m} AND {m}"
            f" AND ({date} > {m} OR {hour} >= {m}) AND ({date} < {m} OR {hour} <= {m}))"
        )
    else:
        ts = sql.name("ts")
        one = f"({route} = {sql.mark} AND {ts} BETWEEN {sql.mark} AND {sql.mark})"
    frames = []
    routes, t0, t1 = ranges
    for lo in range(0, len(routes), _RANGES_PER_QUERY):
        params: list[object] = []
        for r, a, b in zip(
            routes[lo : lo + _RANGES_PER_QUERY].tolist(),
            t0[lo : lo + _RANGES_PER_QUERY].tolist(),
            t1[lo : lo + _RANGES_PER_QUERY].tolist(),
            strict=True,
        ):
            first, last = _stamp(a), _stamp(b)
            if hourly:
                d0, d1 = first.date(), last.date()
                params += [r, d0, d1, d0, first.hour * 100, d1, last.hour * 100]
            else:
                params += [r, first, last]
        width = 7 if hourly else 3
        count = len(params) // width
        params += params[-width:] * (_padded_size(count, _RANGES_PER_QUERY) - count)
        count = len(params) // width
        frames.append(_read_table(conn, table, " OR ".join([one] * count), params))
    if not frames:
        return _read_table(conn, table, "1 = 0")
    return pd.concat(frames, ignore_index=True)


def _in_ranges_joined(
    conn: Connection,
    table: sa.Table,
    ranges: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    hourly: bool,
    key: str = "route_id",
) -> pd.DataFrame:
    """PostgreSQL: the ranges as arrays joined to the table, one query of index range scans.

    An OR of ranges is planned as one bitmap scan whose filter tests every range on every row
    (4.1 s for a scale-10 partition's 4,200 traffic ranges); the join scans each range alone
    (0.4 s). The ranges of a route are disjoint (see ``_merged``), so no row comes twice."""
    routes, t0, t1 = ranges
    first, last = pd.to_datetime(t0), pd.to_datetime(t1)
    quoted = SqlText(conn).name
    kind = "int" if isinstance(table.c[key].type, sa.Integer) else "text"
    names = ", ".join(f"t.{quoted(c.name)}" for c in table.columns)
    if hourly:
        frame = f"unnest(%s::{kind}[], %s::date[], %s::date[], %s::int[], %s::int[])"
        frame += " AS w(k, d0, d1, h0, h1)"
        on = "t.date BETWEEN w.d0 AND w.d1"
        on += " AND (t.date > w.d0 OR t.hour >= w.h0) AND (t.date < w.d1 OR t.hour <= w.h1)"
        params: list[object] = [
            routes.tolist(),
            list(first.date),
            list(last.date),
            (first.hour * 100).tolist(),
            (last.hour * 100).tolist(),
        ]
    else:
        frame = f"unnest(%s::{kind}[], %s::timestamp[], %s::timestamp[]) AS w(k, ts0, ts1)"
        on = "t.ts BETWEEN w.ts0 AND w.ts1"
        params = [routes.tolist(), list(first.to_pydatetime()), list(last.to_pydatetime())]
    text = f"SELECT {names} FROM {table.name} t JOIN {frame} ON t.{quoted(key)} = w.k AND {on}"
    return fetch_frame(conn, text, params, column_kinds(table))


def _load(conn: Connection, schedule: pd.DataFrame) -> FeatureInputs:
    route_ids = sorted(set(schedule["route_id"]))
    truck_ids = sorted({int(t) for t in schedule["truck_id"]})
    routes = _among(conn, s.routes, "route_id", route_ids)
    dep = pd.to_datetime(schedule["departure_date"]).astype("datetime64[ns]")
    arr = pd.to_datetime(schedule["estimated_arrival"]).astype("datetime64[ns]")
    known = (
        schedule["route_id"].notna().to_numpy() & dep.notna().to_numpy() & arr.notna().to_numpy()
    )
    trip_routes = schedule["route_id"].to_numpy(dtype=object)[known]
    dep, arr = dep[known], arr[known]

    def ns(values: pd.Series) -> np.ndarray:
        out: np.ndarray = values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        return out

    # Windows widened so that they contain what compute takes: traffic from the rounded
    # departure to the rounded arrival (hours), route weather over the 6-hour slots.
    traffic_ranges = _merged(trip_routes, ns(dep.dt.floor("h")), ns(arr.dt.ceil("h")))
    weather_ranges = _merged(trip_routes, ns(dep.dt.floor("6h")), ns(arr.dt.ceil("6h")))
    # City weather at the hours compute looks up, not every hour of the window for every
    # city: a fill's blocks of routes all run through most cities, and read them once each.
    ends = routes.drop_duplicates("route_id").set_index("route_id")
    pos, on_known = lookup(ends.index, pd.Series(trip_routes, dtype=object))
    cities = np.concatenate([ends[c].to_numpy()[pos[on_known]] for c in _ENDS])
    hours = np.concatenate([ns(t[on_known].dt.round("h")) for t in (dep, arr)])
    city_hours = _merged(cities, hours, hours)
    return FeatureInputs(
        schedule=schedule,
        trucks=_among(conn, s.trucks, "truck_id", truck_ids),
        drivers=_among(conn, s.drivers, "vehicle_no", truck_ids),
        routes=routes,
        route_weather=_in_ranges(conn, s.route_weather, weather_ranges, hourly=False),
        traffic=_in_ranges(conn, s.traffic, traffic_ranges, hourly=True),
        city_weather=_in_ranges(conn, s.city_weather, city_hours, hourly=True, key="city_id"),
    ).normalised()


def features_for_trip(
    db: Database,
    truck_id: int,
    departure_date: dt.datetime,
    *,
    route_id: str | None = None,
    estimated_arrival: dt.datetime | None = None,
    partial: bool = False,
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
        return compute_features(inputs, partial=partial)
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
    return compute_features(inputs, partial=partial)


def features_for_schedule(
    db: Database, schedule: pd.DataFrame, *, partial: bool = False
) -> FeatureResult:
    """The online path for many trips at once: ``schedule`` has ``truck_id``, ``route_id``,
    ``departure_date`` and ``estimated_arrival``; their rows are read in one go, then the one
    compute runs on them."""
    frame = schedule.assign(delay=None) if "delay" not in schedule.columns else schedule
    try:
        with db.engine.connect() as conn:
            inputs = _load(conn, frame)
    except sa.exc.SQLAlchemyError as exc:
        raise FeatureError(f"reading feature inputs from {db.safe_url} failed: {exc}") from exc
    return compute_features(inputs, partial=partial)
