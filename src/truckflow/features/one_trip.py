"""One trip's features without a DataFrame: the online path the serving API takes per request.

The same definitions as :mod:`truckflow.features.compute` (windows, rounding, blanks skipped,
the mode's tie rule, the first driver by id), applied to the few rows one trip needs, read by
primary key or one index range each: the route, the truck, its driver, the route's weather
slots and traffic hours of the trip's window, the weather of its two cities at departure and
arrival. Window means are summed exactly as compute sums them (``np.add.reduceat`` over the
window's values in time order), so a trip computed here equals, value for value and type for
type, the row compute gives it (``tests/features/test_one_trip.py`` checks it on random trips).

A missing input group (a forecast not yet published, an unknown driver) does not raise: its
features are missing values (NaN / None) and ``complete`` is False, with the groups named.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from truckflow.features.definition import (
    BINARY_FEATURES,
    CATEGORICAL_FEATURES,
    CITY_WEATHER_COLUMNS,
    FEATURE_COLUMNS,
    WEATHER_MEANS,
)
from truckflow.features.prepared import Prepared
from truckflow.store import tables as s

__all__ = ["OneTrip", "TripEntities", "one_trip", "read_entities"]

_TRUCK = ("truck_age", "load_capacity_pounds", "mileage_mpg", "fuel_type")
_DRIVER = ("age", "experience", "gender", "driving_style", "ratings", "average_speed_mph")
_TEXT = frozenset(CATEGORICAL_FEATURES)
_FLAGS = frozenset(BINARY_FEATURES)
_HOUR_NS = 3_600_000_000_000


@dataclass(frozen=True)
class TripEntities:
    """The route and truck a trip names (None when unknown), read once per request."""

    route: Any  # a row of routes (attributes by column name), None when unknown
    truck: Any


@dataclass(frozen=True)
class OneTrip:
    """One trip's feature values by name, whether every input was there, and what was not."""

    values: dict[str, object]
    complete: bool
    missing: tuple[str, ...]
    estimated_arrival: dt.datetime

    def row(self, names: Sequence[str]) -> list[object]:
        """The values in ``names`` order, blanks as None (as ``features.rows.frame_rows``)."""
        out: list[object] = []
        for name in names:
            value = self.values[name]
            out.append(None if isinstance(value, float) and value != value else value)
        return out


# Statements built once: a request only binds its values (no statement construction per call).
# On SQLite they run on the driver's cursor with SQLAlchemy's own value processing (see
# ``truckflow.features.prepared``): the same rows, without its per-call overhead.
_ROUTE = Prepared(sa.select(s.routes).where(s.routes.c.route_id == sa.bindparam("route")))
_TRUCK_ROW = Prepared(sa.select(s.trucks).where(s.trucks.c.truck_id == sa.bindparam("truck")))
_DRIVER_ROW = Prepared(
    sa.select(s.drivers)
    .where(s.drivers.c.vehicle_no == sa.bindparam("truck"))
    .order_by(s.drivers.c.driver_id)
    .limit(1)
)
_RW = s.route_weather
_ROUTE_WEATHER = Prepared(
    sa.select(_RW)
    .where(
        _RW.c.route_id == sa.bindparam("route"),
        _RW.c.ts.between(sa.bindparam("t0"), sa.bindparam("t1")),
    )
    .order_by(_RW.c.ts)
)
_TR = s.traffic
# The window's hours exactly, in time order (the order compute sums them in).
_D0: sa.BindParameter[object] = sa.bindparam("d0")
_D1: sa.BindParameter[object] = sa.bindparam("d1")
_TRAFFIC = Prepared(
    sa.select(_TR.c.hour, _TR.c.no_of_vehicles, _TR.c.accident)
    .where(
        _TR.c.route_id == sa.bindparam("route"),
        _TR.c.date.between(_D0, _D1),
        sa.or_(_TR.c.date > _D0, _TR.c.hour >= sa.bindparam("h0")),
        sa.or_(_TR.c.date < _D1, _TR.c.hour <= sa.bindparam("h1")),
    )
    .order_by(_TR.c.date, _TR.c.hour)
)
_CW = s.city_weather
_CITY = Prepared(
    sa.select(_CW).where(
        _CW.c.city_id == sa.bindparam("city"),
        _CW.c.date == sa.bindparam("day"),
        _CW.c.hour == sa.bindparam("hhmm"),
    )
)


def read_entities(conn: Connection, truck_id: int, route_id: str) -> TripEntities:
    route = _ROUTE.first(conn, {"route": route_id})
    truck = _TRUCK_ROW.first(conn, {"truck": truck_id})
    return TripEntities(route, truck)


def _hours(stamp: pd.Timestamp) -> int:
    return int(stamp.value // _HOUR_NS)


def _mean(values: list[object]) -> float:
    """compute's ``_window_mean`` on one window: blanks skipped, the same summation."""
    raw = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    present = ~np.isnan(raw)
    n = int(present.sum())
    if n == 0:
        return float("nan")
    padded = np.append(np.where(present, raw, 0.0), 0.0)
    total = np.add.reduceat(padded, np.array([0, len(raw)]))[0]
    return float(total / n)


def _mode(values: list[object]) -> object:
    """The most frequent value; a tie goes to the first in sort order (as compute's mode)."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    top = max(counts.values())
    return min((v for v, c in counts.items() if c == top), key=str)


def _number(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def _route_weather(
    conn: Connection, route_id: str, dep: pd.Timestamp, arr: pd.Timestamp
) -> tuple[dict[str, object], int]:
    first, last = dep.floor("6h"), arr.ceil("6h")
    rows = _ROUTE_WEATHER.all(
        conn, {"route": route_id, "t0": first.to_pydatetime(), "t1": last.to_pydatetime()}
    )
    # Only rows on a 6-hour slot count (as compute's series of slots).
    on_slot = [
        r
        for r in rows
        if r.ts.hour % 6 == 0 and r.ts.minute == r.ts.second == r.ts.microsecond == 0
    ]
    absent = (_hours(last) // 6 - _hours(first) // 6 + 1) - len(on_slot)
    out: dict[str, object] = {
        f"route_avg_{c}": _mean([getattr(r, c) for r in on_slot]) for c in WEATHER_MEANS
    }
    out["route_description"] = _mode([r.description for r in on_slot])
    return out, absent


def _traffic(
    conn: Connection, route_id: str, dep: pd.Timestamp, arr: pd.Timestamp
) -> tuple[dict[str, object], int]:
    h0, h1 = _hours(dep.round("h")), _hours(arr.round("h"))
    first, last = pd.Timestamp(h0 * _HOUR_NS), pd.Timestamp(h1 * _HOUR_NS)
    params = {
        "route": route_id,
        "d0": first.date(),
        "d1": last.date(),
        "h0": first.hour * 100,
        "h1": last.hour * 100,
    }
    window = [r for r in _TRAFFIC.all(conn, params) if r.hour % 100 == 0]
    accidents = _mean([r.accident for r in window])
    out: dict[str, object] = {
        "avg_no_of_vehicles": _mean([r.no_of_vehicles for r in window]),
        "accident": int(np.nan_to_num(accidents) > 0),
    }
    return out, (h1 - h0 + 1) - len(window)


def _city(conn: Connection, side: str, city_id: object, when: pd.Timestamp) -> dict[str, object]:
    moment = when.round("h")
    row = _CITY.first(conn, {"city": city_id, "day": moment.date(), "hhmm": moment.hour * 100})
    out: dict[str, object] = {}
    for name in CITY_WEATHER_COLUMNS:
        value = None if row is None else getattr(row, name)
        out[f"{side}_{name}"] = value if name == "description" else _number(value)
    return out


def _entity(row: Any, names: Sequence[str]) -> dict[str, object]:
    return {
        n: (None if row is None else getattr(row, n))
        if n in _TEXT
        else _number(None if row is None else getattr(row, n))
        for n in names
    }


def one_trip(
    conn: Connection,
    truck_id: int,
    departure: dt.datetime,
    entities: TripEntities,
    arrival: dt.datetime | None = None,
) -> OneTrip:
    """The features of one trip of a known route (``entities.route`` not None). Without
    ``arrival``, the route's average hours after the departure (as the serving API takes it)."""
    route = entities.route
    if route is None:
        raise ValueError("one_trip needs a known route")
    dep = pd.Timestamp(departure)
    arr = (
        pd.Timestamp(arrival)
        if arrival is not None
        else dep + pd.Timedelta(hours=float(route.average_hours))
    )
    values: dict[str, object] = {}
    missing: list[str] = []
    weather, slots = _route_weather(conn, str(route.route_id), dep, arr)
    traffic, hours = _traffic(conn, str(route.route_id), dep, arr)
    values.update(weather)
    values.update(traffic)
    for side, city, when in (
        ("origin", route.origin_id, dep),
        ("destination", route.destination_id, arr),
    ):
        found = _city(conn, side, city, when)
        values.update(found)
        if all(v is None or v != v for v in found.values()):
            missing.append(f"{side} weather")
    values["distance"] = _number(route.distance)
    values["average_hours"] = _number(route.average_hours)
    values.update(_entity(entities.truck, _TRUCK))
    driver = _DRIVER_ROW.first(conn, {"truck": truck_id})
    values.update(_entity(driver, _DRIVER))
    values["is_midnight"] = int(dep.normalize() != arr.normalize())
    if slots:
        missing.append(f"route weather: {slots} 6-hour slot(s)")
    if hours:
        missing.append(f"traffic: {hours} hour(s)")
    if entities.truck is None:
        missing.append("truck")
    if driver is None:
        missing.append("driver")
    ordered = {name: values[name] for name in FEATURE_COLUMNS}
    for name in _FLAGS:
        ordered[name] = int(ordered[name])  # type: ignore[call-overload]
    return OneTrip(ordered, not missing, tuple(missing), arr)  # a Timestamp: nanoseconds kept
