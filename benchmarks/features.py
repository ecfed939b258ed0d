"""Feature engineering at scale 1 and 5, against a straightforward pandas implementation.

Synthesises the course's tables with numpy at the real sizes (49 cities, the 2,352 routes between
them, 1,300 trucks and drivers, 16k trips departing 2019-01-01..02-27 at 07:00, hourly traffic and
city weather and 6-hourly route weather from 2019-01-01 to 2019-03-06), then times:
  - truckflow's ``compute_features`` (sorted keys + cumulative sums + searchsorted);
  - a reference written here the obvious way: explode each trip to its slots and hours, merge,
    group by trip (the course notebook's method), with the same definition;
and asserts both give the same trips, the same waiting trips and the same values. Scale 5 has five
times the trucks and trips (routes are already every ordered pair of the 49 cities). Finally it
times a model registration in a local MLflow store (``--skip-mlflow`` to leave it out).

Run: ``.venv/bin/python benchmarks/features.py [--repeat 3] [--skip-reference-5]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from truckflow.features import FeatureInputs, compute_features
from truckflow.features.compute import canonical_dtypes
from truckflow.features.definition import CITY_WEATHER_COLUMNS, KEY_COLUMNS, WEATHER_MEANS

START = pd.Timestamp("2019-01-01")
FORECAST_END = pd.Timestamp("2019-03-06")
DESCRIPTIONS = np.array(
    ["Clear", "Cloudy", "Heavy snow", "Light snow", "Mist", "Overcast", "Sunny"]
)


def synthesize(scale: int, seed: int = 0) -> FeatureInputs:
    """Course-shaped tables at ``scale`` (1: 1,300 trucks, 16k trips)."""
    rng = np.random.default_rng(seed)
    cities = np.array([f"C-{i:08x}" for i in range(49)])
    origin, destination = np.array([(a, b) for a in range(49) for b in range(49) if a != b]).T
    n_routes = len(origin)
    distance = np.clip(rng.lognormal(np.log(1105), 0.9, n_routes), 4, 10_055).round(2)
    routes = pd.DataFrame(
        {
            "route_id": [f"R-{i:08x}" for i in range(n_routes)],
            "origin_id": cities[origin],
            "destination_id": cities[destination],
            "distance": distance,
            "average_hours": (distance / 50).round(2),
        }
    )
    n_trucks = 1300 * scale
    truck_ids = rng.choice(np.arange(10_000_000, 99_999_999), n_trucks, replace=False)
    trucks = pd.DataFrame(
        {
            "truck_id": truck_ids,
            "truck_age": rng.integers(3, 16, n_trucks),
            "load_capacity_pounds": rng.choice([3000.0, 6000.0, 10000.0, np.nan], n_trucks),
            "mileage_mpg": rng.integers(11, 30, n_trucks),
            "fuel_type": rng.choice(np.array(["diesel", "gas", None], dtype=object), n_trucks),
        }
    )
    drivers = pd.DataFrame(
        {
            "driver_id": [f"d-{i:08x}" for i in range(n_trucks)],
            "name": "x",
            "gender": rng.choice(np.array(["male", "female", None], dtype=object), n_trucks),
            "age": rng.integers(28, 66, n_trucks),
            "experience": rng.integers(-8, 36, n_trucks),
            "driving_style": rng.choice(np.array(["proactive", "conservative"]), n_trucks),
            "ratings": rng.integers(2, 10, n_trucks),
            "vehicle_no": truck_ids,
            "average_speed_mph": rng.uniform(29, 67, n_trucks).round(2),
        }
    )
    days = pd.date_range("2019-01-01 07:00", "2019-02-27 07:00", freq="D")
    per_day = 16_000 * scale // len(days)
    trip_truck = np.concatenate([rng.choice(truck_ids, per_day, replace=False) for _ in days])
    departure = np.repeat(days.to_numpy(), per_day)
    trip_route = rng.integers(0, n_routes, len(trip_truck))
    hours = routes["average_hours"].to_numpy()[trip_route]
    schedule = pd.DataFrame(
        {
            "truck_id": trip_truck,
            "route_id": routes["route_id"].to_numpy()[trip_route],
            "departure_date": departure,
            "estimated_arrival": departure + (hours * 3600).astype("timedelta64[s]"),
            "delay": rng.integers(0, 2, len(trip_truck)),
        }
    )

    def weather(n: int) -> dict[str, np.ndarray]:
        return {
            "temp": rng.integers(-35, 105, n).astype(float),
            "wind_speed": rng.integers(0, 40, n).astype(float),
            "description": rng.choice(DESCRIPTIONS, n),
            "precip": rng.choice([0.0, 0.0, 0.0, 0.1, 0.25], n),
            "humidity": rng.integers(3, 101, n).astype(float),
            "visibility": rng.integers(0, 7, n).astype(float),
            "pressure": rng.integers(988, 1050, n).astype(float),
        }

    slots = pd.date_range(START, FORECAST_END, freq="6h")
    route_weather = pd.DataFrame(
        {
            "route_id": np.repeat(routes["route_id"].to_numpy(), len(slots)),
            "ts": np.tile(slots.to_numpy(), n_routes),
            **weather(n_routes * len(slots)),
        }
    )
    stamps = pd.date_range(START, FORECAST_END, freq="h", inclusive="left")
    dates = np.tile(stamps.normalize().to_numpy(), 1)
    hhmm = (stamps.hour * 100).to_numpy()
    n_traffic = n_routes * len(stamps)
    vehicles = rng.integers(100, 3637, n_traffic).astype(float)
    vehicles[rng.random(n_traffic) < 0.0004] = np.nan
    traffic = pd.DataFrame(
        {
            "route_id": np.repeat(routes["route_id"].to_numpy(), len(stamps)),
            "date": np.tile(dates, n_routes),
            "hour": np.tile(hhmm, n_routes),
            "no_of_vehicles": vehicles,
            "accident": (rng.random(n_traffic) < 0.053).astype(int),
        }
    )
    city_weather = pd.DataFrame(
        {
            "city_id": np.repeat(cities, len(stamps)),
            "date": np.tile(dates, len(cities)),
            "hour": np.tile(hhmm, len(cities)),
            **weather(len(cities) * len(stamps)),
        }
    )
    return FeatureInputs(schedule, trucks, drivers, routes, city_weather, route_weather, traffic)


def _mode(values: pd.Series) -> object:
    modes = values.mode()
    return modes.iloc[0] if len(modes) else None


def reference_features(inputs: FeatureInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same definition, the obvious way: explode, merge, group. Returns (features, waiting)."""
    inputs = inputs.normalised()
    trips = inputs.schedule.drop_duplicates(list(KEY_COLUMNS)).merge(
        inputs.routes, on="route_id", how="inner"
    )
    key = list(KEY_COLUMNS)

    # Route weather: one row per trip and 6-hourly slot, merged with the forecasts.
    slots = trips[[*key, "route_id"]].assign(
        ts=[
            pd.date_range(a, b, freq="6h")
            for a, b in zip(
                trips["departure_date"].dt.floor("6h"),
                trips["estimated_arrival"].dt.ceil("6h"),
                strict=True,
            )
        ]
    )
    slots = slots.explode("ts").astype({"ts": "datetime64[ns]"})
    rw = inputs.route_weather.drop_duplicates(["route_id", "ts"])
    merged = slots.merge(rw.assign(found=1), on=["route_id", "ts"], how="left")
    agg = {f"route_avg_{c}": (c, "mean") for c in WEATHER_MEANS}
    route = merged.groupby(key).agg(
        **agg,
        route_description=("description", _mode),
        slots=("ts", "size"),
        slots_found=("found", "count"),
    )

    # Traffic: one row per trip and hour.
    hours = trips[[*key, "route_id"]].assign(
        at=[
            pd.date_range(a, b, freq="h")
            for a, b in zip(
                trips["departure_date"].dt.round("h"),
                trips["estimated_arrival"].dt.round("h"),
                strict=True,
            )
        ]
    )
    hours = hours.explode("at").astype({"at": "datetime64[ns]"})
    hours["date"], hours["hour"] = hours["at"].dt.normalize(), hours["at"].dt.hour * 100
    tr = inputs.traffic.drop_duplicates(["route_id", "date", "hour"])
    merged = hours.merge(tr.assign(found=1), on=["route_id", "date", "hour"], how="left")
    traffic = merged.groupby(key).agg(
        avg_no_of_vehicles=("no_of_vehicles", "mean"),
        accident=("accident", "max"),
        hours=("at", "size"),
        hours_found=("found", "count"),
    )

    # City weather at the rounded departure (origin) and arrival (destination).
    cw = inputs.city_weather.drop_duplicates(["city_id", "date", "hour"])
    out = trips.copy()
    for side, city, when in (
        ("origin", "origin_id", "departure_date"),
        ("destination", "destination_id", "estimated_arrival"),
    ):
        at = out[when].dt.round("h")
        out["date"], out["hour"] = at.dt.normalize(), at.dt.hour * 100
        side_cw = cw.rename(columns={"city_id": city}).assign(**{f"{side}_found": 1})
        side_cw = side_cw.rename(columns={c: f"{side}_{c}" for c in CITY_WEATHER_COLUMNS})
        out = out.merge(side_cw, on=[city, "date", "hour"], how="left")
    trucks = inputs.trucks.drop_duplicates("truck_id")
    drivers = inputs.drivers.sort_values("driver_id").drop_duplicates("vehicle_no")
    out = out.merge(trucks, on="truck_id", how="left", indicator="truck_found")
    drivers = drivers.drop(columns=["driver_id", "name"]).rename(columns={"vehicle_no": "truck_id"})
    out = out.merge(drivers, on="truck_id", how="left", indicator="driver_found")
    out = out.merge(route, on=key).merge(traffic, on=key)
    out["accident"] = (out["accident"].fillna(0) > 0).astype(int)
    out["is_midnight"] = (
        out["departure_date"].dt.normalize() != out["estimated_arrival"].dt.normalize()
    ).astype(int)
    complete = (
        (out["slots"] == out["slots_found"])
        & (out["hours"] == out["hours_found"])
        & out["origin_found"].notna()
        & out["destination_found"].notna()
        & (out["truck_found"] == "both")
        & (out["driver_found"] == "both")
    )
    features = canonical_dtypes(out[complete].sort_values(["departure_date", "truck_id"]))
    waiting = out.loc[~complete, key].sort_values(key).reset_index(drop=True)
    return features, waiting


def _median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def compare(scale: int, repeat: int, reference: bool) -> dict[str, float]:
    inputs = synthesize(scale).normalised()
    sizes = {
        "trips": len(inputs.schedule),
        "traffic rows": len(inputs.traffic),
        "route weather rows": len(inputs.route_weather),
    }
    print(f"scale {scale}: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
    fast_s, fast = _median_time(lambda: compute_features(inputs), repeat)
    assert hasattr(fast, "features")
    print(
        f"  truckflow compute_features: {fast_s:7.2f} s (median of {repeat}), "
        f"{len(fast.features):,} trips, {len(fast.waiting):,} waiting"
    )
    figures = {"scale": float(scale), "fast_s": fast_s}
    if reference:
        ref_s, (ref_features, ref_waiting) = _median_time(lambda: reference_features(inputs), 1)
        print(f"  pandas explode/merge/group: {ref_s:7.2f} s (1 run)")
        pd.testing.assert_frame_equal(fast.features, ref_features, check_exact=False, rtol=1e-9)
        pd.testing.assert_frame_equal(
            fast.waiting[list(KEY_COLUMNS)].sort_values(list(KEY_COLUMNS)).reset_index(drop=True),
            ref_waiting,
        )
        print(
            f"  identical trips, waiting trips and values (floats to 1e-9 relative); "
            f"speed-up x{ref_s / fast_s:.1f}"
        )
        figures["reference_s"] = ref_s
    return figures


def time_registration(repeat: int) -> None:
    """Median time to register a small fitted model in a local MLflow store (SQLite)."""
    from sklearn.linear_model import LogisticRegression

    from truckflow.registry import ModelRegistry

    rng = np.random.default_rng(0)
    model = LogisticRegression().fit(rng.normal(size=(200, 5)), rng.integers(0, 2, 200))
    with tempfile.TemporaryDirectory() as home:
        registry = ModelRegistry.local(Path(home))
        registry.register(model, metrics={"f1": 0.5}, tags={"benchmark": "1"})  # store set-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            registry.register(model, metrics={"f1": 0.5}, tags={"benchmark": "1"})
            times.append(time.perf_counter() - t0)
    print(
        f"MLflow registration (log + register + tags + checksum): "
        f"median {statistics.median(times):.2f} s over {repeat} (target <= 2 s)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-reference-5", action="store_true")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args(argv)
    one = compare(1, args.repeat, reference=True)
    five = compare(5, args.repeat, reference=not args.skip_reference_5)
    print(f"scale 5 / scale 1 time: x{five['fast_s'] / one['fast_s']:.1f} for x5 trips")
    if not args.skip_mlflow:
        time_registration(args.repeat)


if __name__ == "__main__":
    main()
