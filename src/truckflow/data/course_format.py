"""The course's CSV format as data: which file fills which table, and what each column may hold.

Everything the ingestion knows about the files lives here, quirks included:
``hour`` is an HHMM integer (0, 100, ... 2300); ``estimated_arrival`` carries nanoseconds;
routes_weather names its timestamp ``Date`` (stored as ``ts``); the ``chanceof*`` columns are
always 0 and are dropped; blanks in categorical columns are kept as NULL. Ranges are wide
enough to keep the real files' dirty-but-real values (a negative experience, say) as data and
to reject only the impossible (a humidity of 140, an hour of 2530).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FILE_SPECS",
    "LOAD_ORDER",
    "TABLE_SPECS",
    "ColumnKind",
    "ColumnSpec",
    "TableSpec",
    "spec_for_file",
]

ColumnKind = Literal["int", "float", "str", "date", "datetime"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name in the file, its name in the database, and what it may hold."""

    source: str
    kind: ColumnKind
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    step: int | None = None  # the value must be a multiple of this (``hour``: 100)
    allowed: frozenset[float] | None = None
    max_length: int | None = None  # strings: the width of the database column
    column: str = ""  # database column; empty means the same as ``source``

    @property
    def name(self) -> str:
        return self.column or self.source


@dataclass(frozen=True)
class TableSpec:
    """One source table: the files that fill it and the rules each row must satisfy."""

    table: str
    files: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]  # natural key, database column names
    date_column: str | None = None  # what ``until`` filters on (its calendar date)
    dropped: tuple[str, ...] = ()  # columns of the course format that are read past
    references: tuple[tuple[str, str], ...] = field(default=())  # (column, referenced table)
    after: tuple[tuple[str, str], ...] = ()  # (later, earlier): later must be after earlier

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


_ID = 32  # identifiers: route, city, driver ids
_BINARY = frozenset({0.0, 1.0})
_CHANCE = ("chanceofrain", "chanceoffog", "chanceofsnow", "chanceofthunder")


def _weather() -> tuple[ColumnSpec, ...]:
    return (
        ColumnSpec("temp", "float", minimum=-100, maximum=150),  # degrees F
        ColumnSpec("wind_speed", "float", minimum=0, maximum=300),
        ColumnSpec("description", "str", required=False, max_length=64),
        ColumnSpec("precip", "float", minimum=0, maximum=100),
        ColumnSpec("humidity", "float", minimum=0, maximum=100),
        ColumnSpec("visibility", "float", minimum=0, maximum=100),
        ColumnSpec("pressure", "float", minimum=800, maximum=1200),  # millibar
    )


def _hour() -> ColumnSpec:
    return ColumnSpec("hour", "int", minimum=0, maximum=2300, step=100)


TRUCKS = TableSpec(
    table="trucks",
    files=("trucks_table.csv",),
    columns=(
        ColumnSpec("truck_id", "int", minimum=1),
        ColumnSpec("truck_age", "int", minimum=0, maximum=100),
        ColumnSpec("load_capacity_pounds", "float", required=False, minimum=0),
        ColumnSpec("mileage_mpg", "int", minimum=0, maximum=500),
        ColumnSpec("fuel_type", "str", required=False, max_length=16),
    ),
    key=("truck_id",),
)

DRIVERS = TableSpec(
    table="drivers",
    files=("drivers_table.csv",),
    columns=(
        ColumnSpec("driver_id", "str", max_length=_ID),
        ColumnSpec("name", "str", max_length=128),
        ColumnSpec("gender", "str", required=False, max_length=16),
        ColumnSpec("age", "int", minimum=14, maximum=120),
        # The real file has experience down to -8: dirty but real, kept as it is.
        ColumnSpec("experience", "int", minimum=-100, maximum=100),
        ColumnSpec("driving_style", "str", required=False, max_length=32),
        ColumnSpec("ratings", "int", minimum=0, maximum=10),
        ColumnSpec("vehicle_no", "int", minimum=1),
        ColumnSpec("average_speed_mph", "float", minimum=0, maximum=200),
    ),
    key=("driver_id",),
    references=(("vehicle_no", "trucks"),),
)

ROUTES = TableSpec(
    table="routes",
    files=("routes_table.csv",),
    columns=(
        ColumnSpec("route_id", "str", max_length=_ID),
        ColumnSpec("origin_id", "str", max_length=_ID),
        ColumnSpec("destination_id", "str", max_length=_ID),
        ColumnSpec("distance", "float", minimum=0),
        ColumnSpec("average_hours", "float", minimum=0),
    ),
    key=("route_id",),
    references=(("origin_id", "cities"), ("destination_id", "cities")),
)

CITY_WEATHER = TableSpec(
    table="city_weather",
    files=("city_weather.csv", "streaming_city_weather.csv"),
    columns=(
        ColumnSpec("city_id", "str", max_length=_ID),
        ColumnSpec("date", "date"),
        _hour(),
        *_weather(),
    ),
    key=("city_id", "date", "hour"),
    date_column="date",
    dropped=_CHANCE,
)

ROUTE_WEATHER = TableSpec(
    table="route_weather",
    files=("routes_weather.csv", "streaming_route_weather.csv"),
    columns=(
        ColumnSpec("route_id", "str", max_length=_ID),
        ColumnSpec("Date", "datetime", column="ts"),
        *_weather(),
    ),
    key=("route_id", "ts"),
    date_column="ts",
    dropped=_CHANCE,
    references=(("route_id", "routes"),),
)

TRAFFIC = TableSpec(
    table="traffic",
    files=("traffic_table.csv", "streaming_traffic.csv"),
    columns=(
        ColumnSpec("route_id", "str", max_length=_ID),
        ColumnSpec("date", "date"),
        _hour(),
        ColumnSpec("no_of_vehicles", "float", required=False, minimum=0),
        ColumnSpec("accident", "int", allowed=_BINARY),
    ),
    key=("route_id", "date", "hour"),
    date_column="date",
    references=(("route_id", "routes"),),
)

TRUCK_SCHEDULE = TableSpec(
    table="truck_schedule",
    files=("truck_schedule_table.csv", "streaming_schedule.csv"),
    columns=(
        ColumnSpec("truck_id", "int", minimum=1),
        ColumnSpec("route_id", "str", max_length=_ID),
        ColumnSpec("departure_date", "datetime"),
        ColumnSpec("estimated_arrival", "datetime"),
        # Blank means "not known yet": the streaming simulation sends the label later.
        ColumnSpec("delay", "int", required=False, allowed=_BINARY),
    ),
    key=("truck_id", "departure_date"),
    date_column="departure_date",
    references=(("truck_id", "trucks"), ("route_id", "routes")),
    after=(("estimated_arrival", "departure_date"),),
)

# Referenced tables come before the tables that reference them; ``cities`` is filled from the
# city ids of city_weather, so city weather comes before routes.
LOAD_ORDER: tuple[str, ...] = (
    "trucks",
    "drivers",
    "city_weather",
    "routes",
    "route_weather",
    "traffic",
    "truck_schedule",
)

TABLE_SPECS: dict[str, TableSpec] = {
    spec.table: spec
    for spec in (
        TRUCKS,
        DRIVERS,
        ROUTES,
        CITY_WEATHER,
        ROUTE_WEATHER,
        TRAFFIC,
        TRUCK_SCHEDULE,
    )
}

FILE_SPECS: dict[str, TableSpec] = {
    name: spec for spec in TABLE_SPECS.values() for name in spec.files
}


def spec_for_file(file_name: str) -> TableSpec | None:
    """The table a course file fills, or None for a file that is not part of the format."""
    return FILE_SPECS.get(file_name)
