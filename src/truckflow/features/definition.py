"""What the course's per-trip feature set is: its name, version, columns and their kinds.

The definition hash covers the name, the version and the column lists: the feature store
refuses to mix rows of two definitions under one version. A change in how a feature is computed
that keeps its columns must bump ``FEATURE_SET_VERSION`` by hand (a refactoring that keeps the
values need not).
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

__all__ = [
    "BINARY_FEATURES",
    "CATEGORICAL_FEATURES",
    "CITY_WEATHER_COLUMNS",
    "EVENT_TIME",
    "FEATURE_COLUMNS",
    "FEATURE_SET_NAME",
    "FEATURE_SET_VERSION",
    "KEY_COLUMNS",
    "LABEL",
    "NUMERIC_FEATURES",
    "TRIP_COLUMNS",
    "WEATHER_MEANS",
    "definition_hash",
]

FEATURE_SET_NAME: Final = "trip_features"
# Bump when a feature's meaning changes; rows of another version are never mixed in a window.
FEATURE_SET_VERSION: Final = "1"

KEY_COLUMNS: Final = ("truck_id", "departure_date")
EVENT_TIME: Final = "departure_date"
LABEL: Final = "delay"
# Carried with each row for the split (by arrival) and for people; not model inputs.
TRIP_COLUMNS: Final = ("route_id", "estimated_arrival")

# Weather columns averaged over the trip's 6-hourly route slots.
WEATHER_MEANS: Final = ("temp", "wind_speed", "precip", "humidity", "visibility", "pressure")
# Weather columns taken at one hour of a city (origin at departure, destination at arrival).
CITY_WEATHER_COLUMNS: Final = (*WEATHER_MEANS[:2], "description", *WEATHER_MEANS[2:])

NUMERIC_FEATURES: Final = (
    *(f"route_avg_{c}" for c in WEATHER_MEANS),
    *(f"origin_{c}" for c in WEATHER_MEANS),
    *(f"destination_{c}" for c in WEATHER_MEANS),
    "avg_no_of_vehicles",
    "distance",
    "average_hours",
    "truck_age",
    "load_capacity_pounds",
    "mileage_mpg",
    "age",
    "experience",
    "ratings",
    "average_speed_mph",
)
CATEGORICAL_FEATURES: Final = (
    "route_description",
    "origin_description",
    "destination_description",
    "fuel_type",
    "gender",
    "driving_style",
)
BINARY_FEATURES: Final = ("accident", "is_midnight")
FEATURE_COLUMNS: Final = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES, *BINARY_FEATURES)


def definition_hash() -> str:
    """sha256 of the name, version and column lists (first 16 hex digits)."""
    doc = {
        "name": FEATURE_SET_NAME,
        "version": FEATURE_SET_VERSION,
        "numeric": NUMERIC_FEATURES,
        "categorical": CATEGORICAL_FEATURES,
        "binary": BINARY_FEATURES,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
