"""Course-like per-trip features, computed with pandas from course-format files.

A stand-alone stand-in for the project's feature engineering (written elsewhere), following the
course's recipe: route weather over the 6-hour slots of the trip, origin weather at the departure
hour and destination weather at the rounded arrival hour, traffic over the trip's hours (mean
volume, any accident), route, truck and driver attributes, and is_midnight. The generator's tests
use it to check that the files carry the signal a course model needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WEATHER = ["temp", "wind_speed", "precip", "humidity", "visibility", "pressure"]


def _read(folder: Path, name: str, streaming: str | None) -> pd.DataFrame:
    frames = [pd.read_csv(folder / name)]
    if streaming is not None and (folder / streaming).exists():
        frames.append(pd.read_csv(folder / streaming))
    return pd.concat(frames, ignore_index=True)


def _expand(trips: pd.DataFrame, first: pd.Series, last: pd.Series, unit: str) -> pd.DataFrame:
    """One row per trip and time step from ``first`` to ``last`` (inclusive)."""
    steps = ((last - first) / pd.Timedelta(1, unit)).astype(int) + 1
    rows = trips.loc[trips.index.repeat(steps), ["trip", "route_id"]].reset_index(drop=True)
    offset = rows.groupby("trip").cumcount()
    rows["ts"] = first.repeat(steps).reset_index(drop=True) + pd.to_timedelta(offset, unit=unit)
    return rows


def trip_features(folder: Path, *, streaming: bool = False) -> pd.DataFrame:
    """One row per trip of the historical schedule (and the streaming one if asked)."""
    schedule = _read(
        folder, "truck_schedule_table.csv", "streaming_schedule.csv" if streaming else None
    )
    schedule["departure_date"] = pd.to_datetime(schedule["departure_date"])
    schedule["estimated_arrival"] = pd.to_datetime(schedule["estimated_arrival"])
    trips = schedule.reset_index(names="trip")
    dep, arr = trips["departure_date"], trips["estimated_arrival"]

    route_w = _read(folder, "routes_weather.csv", "streaming_route_weather.csv")
    route_w["ts"] = pd.to_datetime(route_w["Date"])
    route_w = route_w.drop_duplicates(["route_id", "ts"])
    slots = _expand(trips, dep.dt.floor("6h"), arr.dt.ceil("6h"), "h").iloc[::1]
    slots = slots[slots["ts"].dt.hour % 6 == 0]
    along = slots.merge(route_w, on=["route_id", "ts"], how="left")
    route_mean = along.groupby("trip")[WEATHER].mean().add_prefix("route_")

    city = _read(folder, "city_weather.csv", "streaming_city_weather.csv")
    city["ts"] = pd.to_datetime(city["date"]) + pd.to_timedelta(city["hour"] // 100, unit="h")
    city = city.drop_duplicates(["city_id", "ts"])[["city_id", "ts", *WEATHER]]
    routes = pd.read_csv(folder / "routes_table.csv")
    trips = trips.merge(routes, on="route_id", how="left")
    ends = {}
    for side, key, ts in (
        ("origin", "origin_id", dep.dt.round("h")),
        ("dest", "destination_id", arr.dt.round("h")),
    ):
        at = pd.DataFrame({"trip": trips["trip"], "city_id": trips[key], "ts": ts})
        ends[side] = (
            at.merge(city, on=["city_id", "ts"], how="left")
            .set_index("trip")[WEATHER]
            .add_prefix(f"{side}_")
        )

    traffic = _read(folder, "traffic_table.csv", "streaming_traffic.csv")
    traffic["ts"] = pd.to_datetime(traffic["date"]) + pd.to_timedelta(
        traffic["hour"] // 100, unit="h"
    )
    traffic = traffic.drop_duplicates(["route_id", "ts"])
    hours = _expand(trips, dep.dt.round("h"), arr.dt.round("h"), "h")
    on_road = hours.merge(
        traffic[["route_id", "ts", "no_of_vehicles", "accident"]], on=["route_id", "ts"], how="left"
    )
    traffic_f = on_road.groupby("trip").agg(
        traffic_volume=("no_of_vehicles", "mean"), traffic_accident=("accident", "max")
    )

    trucks = pd.read_csv(folder / "trucks_table.csv")
    drivers = pd.read_csv(folder / "drivers_table.csv")
    out = (
        trips.set_index("trip")
        .join([route_mean, ends["origin"], ends["dest"], traffic_f])
        .reset_index()
        .merge(trucks, on="truck_id", how="left")
        .merge(drivers, left_on="truck_id", right_on="vehicle_no", how="left")
    )
    out["is_midnight"] = (out["estimated_arrival"].dt.date != out["departure_date"].dt.date).astype(
        int
    )
    for col in ("fuel_type", "gender", "driving_style"):
        out[col] = out[col].fillna("Unknown")
    return out


NUMERIC = [
    "distance",
    "average_hours",
    "is_midnight",
    *(f"route_{c}" for c in WEATHER),
    *(f"origin_{c}" for c in WEATHER),
    *(f"dest_{c}" for c in WEATHER),
    "traffic_volume",
    "traffic_accident",
    "truck_age",
    "load_capacity_pounds",
    "mileage_mpg",
    "age",
    "experience",
    "ratings",
    "average_speed_mph",
]
CATEGORICAL = ["fuel_type", "gender", "driving_style"]


def design_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns plus one-hot categoricals, as a course model would take them."""
    dummies = pd.get_dummies(frame[CATEGORICAL], dtype=float)
    for col in [f"{c}_{v}" for c in CATEGORICAL for v in ("Unknown",)]:
        if col not in dummies:
            dummies[col] = 0.0
    return pd.concat([frame[NUMERIC].astype(float), dummies.sort_index(axis=1)], axis=1)


def course_split(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of the course's date split by estimated arrival (train / validation / test)."""
    arrival = frame["estimated_arrival"]
    train = arrival <= pd.Timestamp("2019-01-30 23:59:59")
    valid = (arrival > pd.Timestamp("2019-01-30 23:59:59")) & (
        arrival <= pd.Timestamp("2019-02-07 23:59:59")
    )
    return train.to_numpy(), valid.to_numpy(), (~train & ~valid).to_numpy()
