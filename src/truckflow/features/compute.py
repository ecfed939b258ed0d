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
from truckflow.features.windows import (
    KeyedSeries,
    epoch_hours,
    epoch_hours_of_day,
    lookup,
    positions,
    values_at,
    window_mean,
    window_mode,
)

__all__ = ["WAITING_COLUMNS", "FeatureResult", "canonical_dtypes", "compute_features"]

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
    trips = _select_trips(inputs.schedule, start, end)
    dep, arr = trips["departure_date"], trips["estimated_arrival"]

    routes = inputs.routes.drop_duplicates("route_id").set_index("route_id")
    route_pos, route_known = lookup(routes.index, trips["route_id"])
    route_codes = np.where(route_known, route_pos, -1)
    out: dict[str, object] = {
        "truck_id": trips["truck_id"].to_numpy(dtype=np.int64),
        "departure_date": dep.to_numpy(),
        "route_id": trips["route_id"].to_numpy(dtype=object),
        "estimated_arrival": arr.to_numpy(),
    }
    rw_absent = _add_route_weather(out, inputs.route_weather, routes.index, route_codes, dep, arr)
    city_found = _add_city_weather(
        out, inputs.city_weather, routes, route_pos, route_known, dep, arr
    )
    tr_absent = _add_traffic(out, inputs.traffic, routes.index, route_codes, dep, arr)
    entities = _add_entities(out, inputs, trips, routes, route_pos, route_known)

    out["is_midnight"] = (dep.dt.normalize() != arr.dt.normalize()).to_numpy().astype(np.int64)
    out[LABEL] = trips[LABEL].astype("Int64").to_numpy()
    frame = canonical_dtypes(pd.DataFrame(out))

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


def _select_trips(
    schedule: pd.DataFrame, start: pd.Timestamp | str | None, end: pd.Timestamp | str | None
) -> pd.DataFrame:
    trips = schedule
    if start is not None:
        trips = trips[trips["departure_date"] >= pd.Timestamp(start)]
    if end is not None:
        trips = trips[trips["departure_date"] < pd.Timestamp(end)]
    trips = trips.drop_duplicates(list(KEY_COLUMNS), keep="first")
    return trips.sort_values(["departure_date", "truck_id"]).reset_index(drop=True)


def _add_route_weather(
    out: dict[str, object],
    rw: pd.DataFrame,
    route_index: pd.Index,
    route_codes: np.ndarray,
    dep: pd.Series,
    arr: pd.Series,
) -> np.ndarray:
    """Route weather: 6-hourly slots from the departure floored to the arrival ceiled.

    Returns how many slots each trip lacks."""
    rw_hours = epoch_hours(rw["ts"].dt.floor("h"))
    on_slot = (rw["ts"] == rw["ts"].dt.floor("6h")).to_numpy()
    rw_codes = np.where(on_slot, positions(route_index, rw["route_id"]), -1)
    weather = KeyedSeries.build(rw_codes, rw_hours // 6, rw)
    s0 = epoch_hours(dep.dt.floor("6h")) // 6
    s1 = epoch_hours(arr.dt.ceil("6h")) // 6
    lo, hi, rw_absent = weather.window(route_codes, s0, s1)
    for column in WEATHER_MEANS:
        out[f"route_avg_{column}"] = window_mean(weather.frame[column], lo, hi)
    out["route_description"] = window_mode(weather.frame["description"], lo, hi)
    return rw_absent


def _add_city_weather(
    out: dict[str, object],
    cw: pd.DataFrame,
    routes: pd.DataFrame,
    route_pos: np.ndarray,
    route_known: np.ndarray,
    dep: pd.Series,
    arr: pd.Series,
) -> dict[str, np.ndarray]:
    """City weather at the departure (origin) and arrival (destination) hour, rounded.

    Returns, per side, whether each trip's hour was found."""
    cities = pd.Index(pd.unique(np.concatenate([routes["origin_id"], routes["destination_id"]])))
    city = KeyedSeries.build(
        positions(cities, cw["city_id"]), epoch_hours_of_day(cw, "city_weather"), cw
    )
    city_found: dict[str, np.ndarray] = {}
    for side, column, when in (
        ("origin", "origin_id", dep),
        ("destination", "destination_id", arr),
    ):
        ids = routes[column].to_numpy()[route_pos]
        codes = np.where(route_known, cities.get_indexer(ids), -1)
        pos, found = city.at(codes, epoch_hours(when.dt.round("h")))
        city_found[side] = found
        for name in CITY_WEATHER_COLUMNS:
            out[f"{side}_{name}"] = values_at(
                city.frame, name, pos, found, text=name == "description"
            )
    return city_found


def _add_traffic(
    out: dict[str, object],
    tr: pd.DataFrame,
    route_index: pd.Index,
    route_codes: np.ndarray,
    dep: pd.Series,
    arr: pd.Series,
) -> np.ndarray:
    """Traffic: hourly from the rounded departure to the rounded arrival.

    Returns how many hours each trip lacks."""
    traffic = KeyedSeries.build(
        positions(route_index, tr["route_id"]), epoch_hours_of_day(tr, "traffic"), tr
    )
    h0, h1 = epoch_hours(dep.dt.round("h")), epoch_hours(arr.dt.round("h"))
    tlo, thi, tr_absent = traffic.window(route_codes, h0, h1)
    out["avg_no_of_vehicles"] = window_mean(traffic.frame["no_of_vehicles"], tlo, thi)
    accidents = window_mean(traffic.frame["accident"], tlo, thi)
    out["accident"] = (np.nan_to_num(accidents) > 0).astype(np.int64)
    return tr_absent


def _add_entities(
    out: dict[str, object],
    inputs: FeatureInputs,
    trips: pd.DataFrame,
    routes: pd.DataFrame,
    route_pos: np.ndarray,
    route_known: np.ndarray,
) -> np.ndarray:
    """Entities: route, truck, and the driver of the truck (vehicle_no = truck_id).

    Returns, per trip, the unknown entities named ("" when all are known)."""
    for name in ("distance", "average_hours"):
        out[name] = values_at(routes, name, route_pos, route_known)
    trucks = inputs.trucks.drop_duplicates("truck_id").set_index("truck_id")
    truck_pos, truck_known = lookup(trucks.index, trips["truck_id"])
    for name in _TRUCK_COLUMNS:
        out[name] = values_at(trucks, name, truck_pos, truck_known, text=name == "fuel_type")
    drivers = inputs.drivers.sort_values("driver_id").drop_duplicates("vehicle_no")
    drivers = drivers.set_index("vehicle_no")
    driver_pos, driver_known = lookup(drivers.index, trips["truck_id"])
    for name in _DRIVER_COLUMNS:
        text = name in ("gender", "driving_style")
        out[name] = values_at(drivers, name, driver_pos, driver_known, text=text)
    return np.array(
        [
            ", ".join(n for n, ok in (("route", r), ("truck", t), ("driver", d)) if not ok)
            for r, t, d in zip(route_known, truck_known, driver_known, strict=True)
        ],
        dtype=object,
    )


def canonical_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns in order with one dtype each, wherever the frame came from.

    Text is ``object`` with None for blanks (pandas would otherwise pick ``str`` or ``object``
    depending on the values), numbers float64, flags int64 and the label nullable Int64.
    Columns already of their dtype are taken as they are, and the frame is built once (on one
    trip, converting and inserting column by column cost more than the features). A frame of
    some feature columns only (and the keys) gives those.
    """
    columns: dict[str, object] = {"truck_id": frame["truck_id"].to_numpy(dtype=np.int64)}
    for column in ("departure_date", "estimated_arrival"):
        stamps = frame[column]
        if stamps.dtype != "datetime64[ns]":
            stamps = pd.to_datetime(stamps).astype("datetime64[ns]")
        columns[column] = stamps.to_numpy()
    present = set(frame.columns)
    for column in ("route_id", *(c for c in CATEGORICAL_FEATURES if c in present)):
        values = frame[column].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        columns[column] = pd.Series(values, dtype="object")
    for column in (c for c in NUMERIC_FEATURES if c in present):
        numbers = frame[column]
        if numbers.dtype != np.float64:
            numbers = pd.to_numeric(numbers).astype(np.float64)
        columns[column] = numbers.to_numpy(dtype=np.float64)
    for column in (c for c in BINARY_FEATURES if c in present):
        flags = frame[column]
        if flags.dtype != np.int64:
            flags = pd.to_numeric(flags).astype(np.int64)
        columns[column] = flags.to_numpy(dtype=np.int64)
    if LABEL in present:
        columns[LABEL] = frame[LABEL].astype("Int64").array
    names = [n for n in (*KEY_COLUMNS, *TRIP_COLUMNS, *FEATURE_COLUMNS, LABEL) if n in columns]
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
