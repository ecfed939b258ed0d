"""The frames the features are computed from, checked and put in one canonical shape.

The frames have the operational database's column names (those of ``truckflow.store.tables``);
the course's CSV spelling ``Date`` for route weather is accepted too. Dates may come as
``datetime.date`` objects, strings or datetimes: they are parsed once here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from truckflow.errors import TruckflowError

__all__ = ["REQUIRED_COLUMNS", "FeatureError", "FeatureInputs", "read_course_csvs"]


class FeatureError(TruckflowError):
    """Feature inputs are malformed, or the feature store cannot be read or written."""


_WEATHER = ("temp", "wind_speed", "description", "precip", "humidity", "visibility", "pressure")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "schedule": ("truck_id", "route_id", "departure_date", "estimated_arrival"),
    "trucks": ("truck_id", "truck_age", "load_capacity_pounds", "mileage_mpg", "fuel_type"),
    "drivers": (
        "driver_id",
        "gender",
        "age",
        "experience",
        "driving_style",
        "ratings",
        "vehicle_no",
        "average_speed_mph",
    ),
    "routes": ("route_id", "origin_id", "destination_id", "distance", "average_hours"),
    "city_weather": ("city_id", "date", "hour", *_WEATHER),
    "route_weather": ("route_id", "ts", *_WEATHER),
    "traffic": ("route_id", "date", "hour", "no_of_vehicles", "accident"),
}


@dataclass(frozen=True)
class FeatureInputs:
    """Frames of the source tables; ``schedule`` may carry the label column ``delay``."""

    schedule: pd.DataFrame
    trucks: pd.DataFrame
    drivers: pd.DataFrame
    routes: pd.DataFrame
    city_weather: pd.DataFrame
    route_weather: pd.DataFrame
    traffic: pd.DataFrame

    def normalised(self) -> FeatureInputs:
        """A copy with the columns checked and the timestamps parsed (itself if it is one)."""
        if self.__dict__.get("_normalised"):
            return self
        frames = {f.name: getattr(self, f.name) for f in fields(self)}
        route_weather = frames["route_weather"]
        if "ts" not in route_weather.columns and "Date" in route_weather.columns:
            frames["route_weather"] = route_weather.rename(columns={"Date": "ts"})
        for name, frame in frames.items():
            missing = [c for c in REQUIRED_COLUMNS[name] if c not in frame.columns]
            if missing:
                raise FeatureError(f"feature input {name!r} lacks column(s) {', '.join(missing)}")
        schedule = frames["schedule"].copy()
        for column in ("departure_date", "estimated_arrival"):
            schedule[column] = _timestamps(schedule[column], f"schedule.{column}")
        backwards = schedule["estimated_arrival"] < schedule["departure_date"]
        if backwards.any():
            first = schedule[backwards].iloc[0]
            raise FeatureError(
                f"schedule: {int(backwards.sum())} trip(s) arrive before they depart, e.g. "
                f"truck {first['truck_id']} departing {first['departure_date']}"
            )
        if "delay" not in schedule.columns:
            schedule["delay"] = pd.NA
        frames["schedule"] = schedule
        frames["route_weather"] = frames["route_weather"].assign(
            ts=_timestamps(frames["route_weather"]["ts"], "route_weather.ts")
        )
        for name in ("city_weather", "traffic"):
            frame = frames[name]
            frames[name] = frame.assign(date=_timestamps(frame["date"], f"{name}.date"))
        checked = FeatureInputs(**frames)
        # Marked, so that compute does not check again what the reader has just checked.
        object.__setattr__(checked, "_normalised", True)
        return checked


def _timestamps(values: pd.Series, what: str) -> pd.Series:
    try:
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = values
        else:  # strings of varying precision, or date/datetime objects
            parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise FeatureError(f"{what}: cannot parse as timestamps: {exc}") from exc
    if parsed.isna().any():
        raise FeatureError(f"{what}: {int(parsed.isna().sum())} blank timestamp(s)")
    return parsed.astype("datetime64[ns]")


_COURSE_FILES = {
    "schedule": "truck_schedule_table.csv",
    "trucks": "trucks_table.csv",
    "drivers": "drivers_table.csv",
    "routes": "routes_table.csv",
    "city_weather": "city_weather.csv",
    "route_weather": "routes_weather.csv",
    "traffic": "traffic_table.csv",
}


def read_course_csvs(folder: Path) -> FeatureInputs:
    """The course's CSV files of ``folder``, as they are (duplicates are handled by compute)."""
    frames: dict[str, pd.DataFrame] = {}
    for name, file in _COURSE_FILES.items():
        path = folder / file
        if not path.is_file():
            raise FeatureError(f"course file {path} not found")
        frames[name] = pd.read_csv(path)
    return FeatureInputs(**frames).normalised()
