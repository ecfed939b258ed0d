"""The generated files are in exactly the course's format: names, headers, value formats, dtypes."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from truckflow.data.generate import FILES, MANIFEST

COURSE_FILES = [
    "trucks_table.csv",
    "drivers_table.csv",
    "routes_table.csv",
    "city_weather.csv",
    "routes_weather.csv",
    "traffic_table.csv",
    "truck_schedule_table.csv",
]
STREAMING_TWIN = {
    "streaming_schedule.csv": "truck_schedule_table.csv",
    "streaming_city_weather.csv": "city_weather.csv",
    "streaming_route_weather.csv": "routes_weather.csv",
    "streaming_traffic.csv": "traffic_table.csv",
}


@pytest.fixture(scope="module")
def world(make_world) -> Path:  # type: ignore[no-untyped-def]
    return make_world(seed=1, scale=0.1, scenario="default").out


def _header(path: Path) -> str:
    with path.open() as fh:
        return fh.readline()


def test_writes_the_eleven_files_and_a_manifest(world: Path) -> None:
    names = {p.name for p in world.iterdir()}
    assert names == {*FILES, MANIFEST}
    assert not any(n.endswith(".part") for n in names)


@pytest.mark.parametrize("name", COURSE_FILES)
def test_header_is_the_course_header(world: Path, course_sample: Path, name: str) -> None:
    assert _header(world / name) == _header(course_sample / name)


@pytest.mark.parametrize("name", sorted(STREAMING_TWIN))
def test_streaming_files_have_their_historical_header(
    world: Path, course_sample: Path, name: str
) -> None:
    assert _header(world / name) == _header(course_sample / STREAMING_TWIN[name])


@pytest.mark.parametrize("name", COURSE_FILES)
def test_pandas_reads_the_same_dtypes(world: Path, course_sample: Path, name: str) -> None:
    real = pd.read_csv(course_sample / name, nrows=5000)
    ours = pd.read_csv(world / name)
    assert ours.dtypes.astype(str).to_dict() == real.dtypes.astype(str).to_dict()


def _lines(path: Path, n: int = 2000) -> list[str]:
    with path.open() as fh:
        return [line.rstrip("\n") for line in itertools.islice(fh, 1, n + 1)]


PATTERNS = {
    "trucks_table.csv": r"\d{8},\d{1,2},(\d+\.0)?,\d{2},(diesel|gas)?",
    "drivers_table.csv": r"[0-9a-f]{8}-[0-9a-f],[A-Za-z. ]+,(male|female)?,\d{2},-?\d{1,2},(proactive|conservative)?,\d,\d{8},\d{2}(\.\d{1,2})?",
    "routes_table.csv": r"R-[0-9a-f]{8},C-[0-9a-f]{8},C-[0-9a-f]{8},\d+(\.\d{1,2})?,\d+\.\d{1,2}",
    "city_weather.csv": r"C-[0-9a-f]{8},2019-\d\d-\d\d,(0|[1-9]\d?00),-?\d+,\d+,[A-Za-z ]+,\d\.\d,\d+,[0-6],\d{3,4},0,0,0,0",
    "routes_weather.csv": r"R-[0-9a-f]{8},2019-\d\d-\d\d (00|06|12|18):00:00,-?\d+\.00,\d+\.00,[A-Za-z ]+,\d\.\d0,\d+,[0-6]\.00,\d{3,4},0,0,0,0",
    "traffic_table.csv": r"R-[0-9a-f]{8},2019-\d\d-\d\d,(0|[1-9]\d?00),(\d+\.0)?,[01]",
    "truck_schedule_table.csv": r"\d{8},R-[0-9a-f]{8},2019-\d\d-\d\d 07:00:00,2019-\d\d-\d\d \d\d:\d\d:\d\d\.(000000000|999999999),[01]",
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_value_formats_match_the_course(world: Path, course_sample: Path, name: str) -> None:
    pattern = re.compile(PATTERNS[name])
    # The pattern describes the real file first: it is the course's format, not ours.
    assert all(pattern.fullmatch(line) for line in _lines(course_sample / name)), name
    bad = [line for line in _lines(world / name) if not pattern.fullmatch(line)]
    assert bad == []


def test_arrival_is_departure_plus_average_hours(world: Path) -> None:
    trips = pd.read_csv(
        world / "truck_schedule_table.csv", parse_dates=["departure_date", "estimated_arrival"]
    )
    routes = pd.read_csv(world / "routes_table.csv")
    merged = trips.merge(routes, on="route_id")
    took = merged["estimated_arrival"] - merged["departure_date"]
    # Exactly as the course computed it, nanosecond quirks included.
    assert (took == pd.to_timedelta(merged["average_hours"], unit="h")).all()
    assert (merged["average_hours"] - (merged["distance"] / 50).round(2)).abs().max() < 1e-9
    assert (merged["departure_date"].dt.hour == 7).all()


def test_route_weather_is_six_hourly_and_hours_are_hhmm(world: Path) -> None:
    route = pd.read_csv(world / "routes_weather.csv", parse_dates=["Date"])
    assert set(route["Date"].dt.hour) == {0, 6, 12, 18}
    assert route["Date"].min() == pd.Timestamp("2019-01-01")
    assert route["Date"].max() == pd.Timestamp("2019-02-15")  # the course's 181 slots
    city = pd.read_csv(world / "city_weather.csv")
    assert sorted(city["hour"].unique()) == list(range(0, 2400, 100))
    assert city["date"].max() == "2019-02-15"
    stream = pd.read_csv(world / "streaming_city_weather.csv")
    assert stream["date"].min() == "2019-02-16"


def test_ids_reference_each_other(world: Path) -> None:
    trucks = pd.read_csv(world / "trucks_table.csv")
    drivers = pd.read_csv(world / "drivers_table.csv")
    routes = pd.read_csv(world / "routes_table.csv")
    city = pd.read_csv(world / "city_weather.csv")
    trips = pd.concat(
        [pd.read_csv(world / f) for f in ("truck_schedule_table.csv", "streaming_schedule.csv")]
    )
    assert trucks["truck_id"].is_unique and drivers["driver_id"].is_unique
    assert set(drivers["vehicle_no"]) == set(trucks["truck_id"])
    assert set(routes["origin_id"]) | set(routes["destination_id"]) == set(city["city_id"])
    assert set(trips["truck_id"]) <= set(trucks["truck_id"])
    assert set(trips["route_id"]) <= set(routes["route_id"])
    assert not trips.duplicated(["truck_id", "departure_date"]).any()
    n = city["city_id"].nunique()
    assert len(routes) == n * (n - 1)


def test_streaming_weather_and_traffic_cover_every_arrival(world: Path) -> None:
    trips = pd.read_csv(world / "streaming_schedule.csv", parse_dates=["estimated_arrival"])
    traffic = pd.read_csv(world / "streaming_traffic.csv")
    route = pd.read_csv(world / "streaming_route_weather.csv", parse_dates=["Date"])
    last = trips["estimated_arrival"].max()
    assert pd.Timestamp(traffic["date"].max()) + pd.Timedelta(hours=23) >= last.round("h")
    assert route["Date"].max() >= last.ceil("6h")
    assert trips["departure_date"].min() == "2019-02-15 07:00:00"
    assert trips["departure_date"].max() == "2019-02-28 07:00:00"


def test_manifest_describes_the_world(world: Path) -> None:
    doc = json.loads((world / MANIFEST).read_text())
    assert doc["seed"] == 1 and doc["scale"] == 0.1
    assert doc["scenario"]["name"] == "default"
    assert doc["calendar"]["streaming_week_starts"] == ["2019-02-15", "2019-02-22"]
    for name, rows in doc["rows"].items():
        with (world / name).open() as fh:
            assert sum(1 for _ in fh) - 1 == rows
