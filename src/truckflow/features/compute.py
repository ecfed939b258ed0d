"""The course's per-trip features, computed once for training, batch and online prediction.

Every time series (route weather, traffic, city weather) becomes one sorted int64 key array,
``code * 2**32 + time index``, where ``code`` numbers the route or city and the time index counts
hours (6-hour slots for route weather) since the epoch. A trip's window is then two
``np.searchsorted`` calls, window sums are differences of cumulative sums, and completeness is a
count: no trip is ever exploded to its hours. A trip whose window lacks a row, or whose route,
truck, driver or city weather is not known, is returned as *waiting* with what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from truckflow.features.definition import (
    BINARY_FEATURES,
    CATEGORICAL_FEATURES,
    CITY_WEATHER_COLUMNS,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    LABEL,
    NUMERIC_FEATURES,
    TRIP_COLUMNS,
    WEATHER_MEANS,
)
from truckflow.features.inputs import FeatureInputs

__all__ = ["WAITING_COLUMNS", "FeatureResult", "canonical_dtypes", "compute_features"]

_SHIFT = np.int64(1 << 32)
_TRUCK_COLUMNS = ("truck_age", "load_capacity_pounds", "mileage_mpg", "fuel_type")
_DRIVER_COLUMNS = ("age", "experience", "gender", "driving_style", "ratings", "average_speed_mph")
WAITING_COLUMNS = (
    *KEY_COLUMNS,
    *TRIP_COLUMNS,
    "missing_route_weather_slots",
    "missing_traffic_hours",
    "missing_origin_weather",
    "missing_destination_weather",
    "missing_entities",
    "missing",
    "missing_groups",
)


@dataclass(frozen=True)
class FeatureResult:
    """Feature rows of the complete trips, and the trips still waiting for data."""

    features: pd.DataFrame
    waiting: pd.DataFrame


def _hours(values: pd.Series) -> np.ndarray:
    """Whole hours since the epoch (values are already on the hour)."""
    hours: np.ndarray = (
        values.to_numpy(dtype="datetime64[ns]").astype("datetime64[h]").astype(np.int64)
    )
    return hours


def _hour_of_day(frame: pd.DataFrame, what: str) -> np.ndarray:
    """Hours since the epoch from a ``date`` column and an HHMM ``hour`` column."""
    hhmm = pd.to_numeric(frame["hour"]).to_numpy(dtype=np.int64)
    bad = (hhmm % 100 != 0) | (hhmm < 0) | (hhmm > 2300)
    if bad.any():
        from truckflow.features.inputs import FeatureError

        raise FeatureError(f"{what}.hour: {int(bad.sum())} value(s) not HHMM on the hour")
    hours: np.ndarray = _hours(frame["date"]) + hhmm // 100
    return hours


@dataclass(frozen=True)
class _Series:
    """One time-indexed table as sorted unique keys plus its columns in the same order."""

    keys: np.ndarray
    frame: pd.DataFrame

    @classmethod
    def build(cls, codes: np.ndarray, times: np.ndarray, frame: pd.DataFrame) -> _Series:
        known = codes >= 0
        keys = codes[known].astype(np.int64) * _SHIFT + times[known]
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        # Duplicates on the natural key: the first one read wins, as the course's drop_duplicates.
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        rows = frame.loc[known].iloc[order[first]].reset_index(drop=True)
        return cls(keys[first], rows)

    def window(self, codes: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, ...]:
        """Row ranges [lo, hi) of each [t0, t1] window, and how many of its times are absent."""
        base = codes.astype(np.int64) * _SHIFT
        lo = np.searchsorted(self.keys, base + t0, side="left")
        hi = np.searchsorted(self.keys, base + t1, side="right")
        absent = (t1 - t0 + 1) - (hi - lo)
        return lo, hi, np.where(codes >= 0, absent, t1 - t0 + 1)

    def at(self, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row position of each exact (code, time), and whether it exists."""
        query = codes.astype(np.int64) * _SHIFT + times
        pos = np.searchsorted(self.keys, query, side="left")
        clipped = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (pos < len(self.keys)) & (codes >= 0)
        if len(self.keys):
            found &= self.keys[clipped] == query
        return clipped, found


def _window_mean(values: pd.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of each window, blanks skipped (pandas' mean); NaN when a window has no value."""
    raw = pd.to_numeric(values).to_numpy(dtype=np.float64)
    present = ~np.isnan(raw)
    counts = np.concatenate(([0], np.cumsum(present)))
    n = counts[hi] - counts[lo]
    # Each window summed on its own values (not as a difference of running sums, whose rounding
    # depends on the rows before it): a trip's features are then the same bits whichever other
    # trips were computed with it, so a stored row equals the same trip computed on demand.
    # reduceat over the interleaved bounds sums [lo, hi) at even positions; a trailing zero
    # keeps a bound equal to the length in range.
    padded = np.append(np.where(present, raw, 0.0), 0.0)
    bounds = np.column_stack([lo, hi]).ravel()
    sums = np.add.reduceat(padded, bounds)[::2] if len(bounds) else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, sums / np.maximum(n, 1), np.nan)


def _window_mode(values: pd.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Most frequent value of each window; ties go to the first in sort order (pandas' mode)."""
    codes, uniques = pd.factorize(values, sort=True)
    lengths = hi - lo
    trip = np.repeat(np.arange(len(lo)), lengths)
    starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    picked = codes[starts + np.arange(int(lengths.sum()))]
    keep = picked >= 0
    k = max(len(uniques), 1)
    counts = np.bincount(trip[keep] * k + picked[keep], minlength=len(lo) * k).reshape(len(lo), k)
    out = np.full(len(lo), None, dtype=object)
    has = counts.max(axis=1, initial=0) > 0
    out[has] = np.asarray(uniques, dtype=object)[counts.argmax(axis=1)[has]]
    return out


def _column(
    frame: pd.DataFrame, name: str, pos: np.ndarray, found: np.ndarray, *, text: bool = False
) -> np.ndarray:
    """``frame[name]`` at ``pos``: floats (NaN) or, for ``text``, objects (None) where not found."""
    series = frame[name]
    values: np.ndarray
    if text:
        values = series.to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        out = np.full(len(pos), None, dtype=object)
    else:
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(pos), np.nan)
    if len(values):
        out[found] = values[pos[found]]
    return out


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in ``index``, -1 if absent; hashes only the distinct values."""
    factor, uniques = pd.factorize(values)
    mapping = np.append(index.get_indexer(pd.Index(uniques)), -1)
    codes: np.ndarray = mapping[factor]  # factor -1 (a blank) picks the appended -1
    return codes


def _lookup(index: pd.Index, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    pos = _codes(index, keys)
    return np.maximum(pos, 0), pos >= 0


def compute_features(
    inputs: FeatureInputs,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    *,
    partial: bool = False,
) -> FeatureResult:
    """Features of the trips departing in ``[start, end)`` (all trips when both are None).

    Trips are independent, so the union of the results over a partition of the departure dates
    equals the result on the whole. With ``partial`` the incomplete trips are in ``features``
    too, what is missing left blank (NaN: the model's imputers fill it), and still listed in
    ``waiting`` with what they lack.
    """
    inputs = inputs.normalised()
    trips = inputs.schedule
    if start is not None:
        trips = trips[trips["departure_date"] >= pd.Timestamp(start)]
    if end is not None:
        trips = trips[trips["departure_date"] < pd.Timestamp(end)]
    trips = trips.drop_duplicates(list(KEY_COLUMNS), keep="first")
    trips = trips.sort_values(["departure_date", "truck_id"]).reset_index(drop=True)
    dep, arr = trips["departure_date"], trips["estimated_arrival"]

    routes = inputs.routes.drop_duplicates("route_id").set_index("route_id")
    route_pos, route_known = _lookup(routes.index, trips["route_id"])
    route_codes = np.where(route_known, route_pos, -1)
    out: dict[str, object] = {
        "truck_id": trips["truck_id"].to_numpy(dtype=np.int64),
        "departure_date": dep.to_numpy(),
        "route_id": trips["route_id"].to_numpy(dtype=object),
        "estimated_arrival": arr.to_numpy(),
    }

    # Route weather: 6-hourly slots from the departure floored to the arrival ceiled.
    rw = inputs.route_weather
    rw_hours = _hours(rw["ts"].dt.floor("h"))
    on_slot = (rw["ts"] == rw["ts"].dt.floor("6h")).to_numpy()
    rw_codes = np.where(on_slot, _codes(routes.index, rw["route_id"]), -1)
    weather = _Series.build(rw_codes, rw_hours // 6, rw)
    s0 = _hours(dep.dt.floor("6h")) // 6
    s1 = _hours(arr.dt.ceil("6h")) // 6
    lo, hi, rw_absent = weather.window(route_codes, s0, s1)
    for column in WEATHER_MEANS:
        out[f"route_avg_{column}"] = _window_mean(weather.frame[column], lo, hi)
    out["route_description"] = _window_mode(weather.frame["description"], lo, hi)

    # City weather at the departure (origin) and arrival (destination) hour, rounded.
    cw = inputs.city_weather
    cities = pd.Index(pd.unique(np.concatenate([routes["origin_id"], routes["destination_id"]])))
    city = _Series.build(_codes(cities, cw["city_id"]), _hour_of_day(cw, "city_weather"), cw)
    city_found: dict[str, np.ndarray] = {}
    for side, column, when in (
        ("origin", "origin_id", dep),
        ("destination", "destination_id", arr),
    ):
        ids = routes[column].to_numpy()[route_pos]
        codes = np.where(route_known, cities.get_indexer(ids), -1)
        pos, found = city.at(codes, _hours(when.dt.round("h")))
        city_found[side] = found
        for name in CITY_WEATHER_COLUMNS:
            out[f"{side}_{name}"] = _column(
                city.frame, name, pos, found, text=name == "description"
            )

    # Traffic: hourly from the rounded departure to the rounded arrival.
    tr = inputs.traffic
    traffic = _Series.build(_codes(routes.index, tr["route_id"]), _hour_of_day(tr, "traffic"), tr)
    h0, h1 = _hours(dep.dt.round("h")), _hours(arr.dt.round("h"))
    tlo, thi, tr_absent = traffic.window(route_codes, h0, h1)
    out["avg_no_of_vehicles"] = _window_mean(traffic.frame["no_of_vehicles"], tlo, thi)
    accidents = _window_mean(traffic.frame["accident"], tlo, thi)
    out["accident"] = (np.nan_to_num(accidents) > 0).astype(np.int64)

    # Entities: route, truck, and the driver of the truck (vehicle_no = truck_id).
    for name in ("distance", "average_hours"):
        out[name] = _column(routes, name, route_pos, route_known)
    trucks = inputs.trucks.drop_duplicates("truck_id").set_index("truck_id")
    truck_pos, truck_known = _lookup(trucks.index, trips["truck_id"])
    for name in _TRUCK_COLUMNS:
        out[name] = _column(trucks, name, truck_pos, truck_known, text=name == "fuel_type")
    drivers = inputs.drivers.sort_values("driver_id").drop_duplicates("vehicle_no")
    drivers = drivers.set_index("vehicle_no")
    driver_pos, driver_known = _lookup(drivers.index, trips["truck_id"])
    for name in _DRIVER_COLUMNS:
        text = name in ("gender", "driving_style")
        out[name] = _column(drivers, name, driver_pos, driver_known, text=text)

    out["is_midnight"] = (dep.dt.normalize() != arr.dt.normalize()).to_numpy().astype(np.int64)
    out[LABEL] = trips[LABEL].astype("Int64").to_numpy()
    frame = canonical_dtypes(pd.DataFrame(out))

    entities = np.array(
        [
            ", ".join(n for n, ok in (("route", r), ("truck", t), ("driver", d)) if not ok)
            for r, t, d in zip(route_known, truck_known, driver_known, strict=True)
        ],
        dtype=object,
    )
    waiting_mask = (
        (rw_absent > 0)
        | (tr_absent > 0)
        | ~city_found["origin"]
        | ~city_found["destination"]
        | (entities != "")
    )
    waiting = _waiting_frame(
        frame.loc[waiting_mask, [*KEY_COLUMNS, *TRIP_COLUMNS]],
        rw_absent[waiting_mask],
        tr_absent[waiting_mask],
        ~city_found["origin"][waiting_mask],
        ~city_found["destination"][waiting_mask],
        entities[waiting_mask],
    )
    if partial:
        return FeatureResult(frame, waiting)
    return FeatureResult(frame.loc[~waiting_mask].reset_index(drop=True), waiting)


def canonical_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns in order with one dtype each, wherever the frame came from.

    Text is ``object`` with None for blanks (pandas would otherwise pick ``str`` or ``object``
    depending on the values), numbers float64, flags int64 and the label nullable Int64.
    Columns already of their dtype are taken as they are, and the frame is built once (on one
    trip, converting and inserting column by column cost more than the features).
    """
    columns: dict[str, object] = {"truck_id": frame["truck_id"].to_numpy(dtype=np.int64)}
    for column in ("departure_date", "estimated_arrival"):
        stamps = frame[column]
        if stamps.dtype != "datetime64[ns]":
            stamps = pd.to_datetime(stamps).astype("datetime64[ns]")
        columns[column] = stamps.to_numpy()
    for column in ("route_id", *CATEGORICAL_FEATURES):
        values = frame[column].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        columns[column] = pd.Series(values, dtype="object")
    for column in NUMERIC_FEATURES:
        numbers = frame[column]
        if numbers.dtype != np.float64:
            numbers = pd.to_numeric(numbers).astype(np.float64)
        columns[column] = numbers.to_numpy(dtype=np.float64)
    for column in BINARY_FEATURES:
        flags = frame[column]
        if flags.dtype != np.int64:
            flags = pd.to_numeric(flags).astype(np.int64)
        columns[column] = flags.to_numpy(dtype=np.int64)
    columns[LABEL] = frame[LABEL].astype("Int64").array
    names = [*KEY_COLUMNS, *TRIP_COLUMNS, *FEATURE_COLUMNS, LABEL]
    return pd.DataFrame({name: columns[name] for name in names}, copy=True)


def _waiting_frame(
    keys: pd.DataFrame,
    rw_absent: np.ndarray,
    tr_absent: np.ndarray,
    no_origin: np.ndarray,
    no_destination: np.ndarray,
    entities: np.ndarray,
) -> pd.DataFrame:
    waiting = keys.reset_index(drop=True).assign(
        missing_route_weather_slots=rw_absent.astype(np.int64),
        missing_traffic_hours=tr_absent.astype(np.int64),
        missing_origin_weather=no_origin,
        missing_destination_weather=no_destination,
        missing_entities=entities,
    )
    parts, groups = [], []
    for entity, slots, hours, origin, destination in zip(
        entities, rw_absent, tr_absent, no_origin, no_destination, strict=True
    ):
        what = []
        if entity:
            what.append(f"unknown {entity}")
        if slots:
            what.append(f"route weather: {int(slots)} 6-hour slot(s)")
        if hours:
            what.append(f"traffic: {int(hours)} hour(s)")
        if origin:
            what.append("origin weather at departure")
        if destination:
            what.append("destination weather at arrival")
        parts.append("; ".join(what))
        named = (
            ("entities", bool(entity)),
            ("route_weather", bool(slots)),
            ("traffic", bool(hours)),
            ("origin_weather", bool(origin)),
            ("destination_weather", bool(destination)),
        )
        groups.append(",".join(name for name, absent in named if absent))
    return waiting.assign(
        missing=pd.Series(parts, dtype=object), missing_groups=pd.Series(groups, dtype=object)
    )[list(WAITING_COLUMNS)]
