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
from truckflow.store import schema as s

__all__ = ["OneTrip", "TripEntities", "one_trip", "read_entities"]

_TRUCK = ("truck_age", "load_capacity_pounds", "mileage_mpg", "fuel_type")
_DRIVER = ("age", "experience", "gender", "driving_style", "ratings", "average_speed_mph")
_TEXT = frozenset(CATEGORICAL_FEATURES)
_FLAGS = frozenset(BINARY_FEATURES)
_HOUR_NS = 3_600_000_000_000


@dataclass(frozen=True)
class TripEntities:
    """The route and truck a trip names (None when unknown), read once per request."""

    route: sa.Row[tuple[object, ...]] | None
    truck: sa.Row[tuple[object, ...]] | None


@dataclass(frozen=True)
class OneTrip:
    """One trip's feature values by name, whether every input was there, and what was not."""

    values: dict[str, object]
    complete: bool
    missing: tuple[str, ...]
    estimated_arrival: dt.datetime

    def row(self, names: Sequence[str]) -> list[object]:
        """The values in ``names`` order, blanks as None (as ``serving.rows.frame_rows``)."""
        out: list[object] = []
        for name in names:
            value = self.values[name]
            out.append(None if isinstance(value, float) and value != value else value)
        return out


def read_entities(conn: Connection, truck_id: int, route_id: str) -> TripEntities:
    route = conn.execute(sa.select(s.routes).where(s.routes.c.route_id == route_id)).first()
    truck = conn.execute(sa.select(s.trucks).where(s.trucks.c.truck_id == truck_id)).first()
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
    rw = s.route_weather
    rows = conn.execute(
        sa.select(rw)
        .where(rw.c.route_id == route_id, rw.c.ts.between(first, last))
        .order_by(rw.c.ts)
    ).all()
    on_slot = [r for r in rows if pd.Timestamp(r.ts) == pd.Timestamp(r.ts).floor("6h")]
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
    tr = s.traffic
    rows = conn.execute(
        sa.select(tr.c.date, tr.c.hour, tr.c.no_of_vehicles, tr.c.accident).where(
            tr.c.route_id == route_id, tr.c.date.between(first.date(), last.date())
        )
    ).all()
    timed = sorted(
        (_hours(pd.Timestamp(r.date)) + int(r.hour) // 100, r)
        for r in rows
        if int(r.hour) % 100 == 0
    )
    window = [r for h, r in timed if h0 <= h <= h1]
    accidents = _mean([r.accident for r in window])
    out: dict[str, object] = {
        "avg_no_of_vehicles": _mean([r.no_of_vehicles for r in window]),
        "accident": int(np.nan_to_num(accidents) > 0),
    }
    return out, (h1 - h0 + 1) - len(window)


def _city(conn: Connection, side: str, city_id: object, when: pd.Timestamp) -> dict[str, object]:
    moment = when.round("h")
    cw = s.city_weather
    row = conn.execute(
        sa.select(cw).where(
            cw.c.city_id == city_id, cw.c.date == moment.date(), cw.c.hour == moment.hour * 100
        )
    ).first()
    return {
        f"{side}_{name}": (
            (None if row is None else getattr(row, name))
            if name == "description"
            else _number(None if row is None else getattr(row, name))
        )
        for name in CITY_WEATHER_COLUMNS
    }


def _entity(row: sa.Row[tuple[object, ...]] | None, names: Sequence[str]) -> dict[str, object]:
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
    d = s.drivers
    driver = conn.execute(
        sa.select(d).where(d.c.vehicle_no == truck_id).order_by(d.c.driver_id).limit(1)
    ).first()
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
    return OneTrip(ordered, not missing, tuple(missing), arr.to_pydatetime())
