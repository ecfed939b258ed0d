"""Determinism, sizes, dirt and option errors of the world generator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from truckflow.data.generate import FILES, MANIFEST, DirtRates, GenerateError, generate_world
from truckflow.data.generate.entities import make_cities, make_routes


def _digests(folder: Path) -> dict[str, str]:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in [*FILES, MANIFEST]}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", seed=11, scale=0.05, scenario="default")
    b = generate_world(tmp_path / "b", seed=11, scale=0.05, scenario="default")
    assert _digests(a.out) == _digests(b.out)


def test_another_seed_gives_another_world(tmp_path: Path, make_world) -> None:  # type: ignore[no-untyped-def]
    a = generate_world(tmp_path / "a", seed=11, scale=0.05, scenario="default")
    c = generate_world(tmp_path / "c", seed=12, scale=0.05, scenario="default")
    same = [n for n, d in _digests(a.out).items() if _digests(c.out)[n] == d]
    assert same == []


def test_course_scale_has_the_course_geography() -> None:
    cities = make_cities(0, 1.0)
    assert len(cities.ids) == 49
    assert len(make_routes(0, cities)) == 2352


def test_sizes_grow_linearly_with_scale(make_world) -> None:  # type: ignore[no-untyped-def]
    small = make_world(seed=2, scale=0.1, scenario="none")
    double = make_world(seed=2, scale=0.2, scenario="none")
    for name in (
        "trucks_table.csv",
        "traffic_table.csv",
        "routes_weather.csv",
        "truck_schedule_table.csv",
    ):
        ratio = double.rows[name] / small.rows[name]
        assert 1.8 <= ratio <= 2.3, (name, ratio)
    assert 1.8 <= double.total_rows / small.total_rows <= 2.3


def test_historical_calendar_and_trip_volume(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(seed=2, scale=0.2, scenario="none")
    trips = pd.read_csv(world.out / "truck_schedule_table.csv", parse_dates=["departure_date"])
    assert trips["departure_date"].min() == pd.Timestamp("2019-01-01 07:00")
    assert trips["departure_date"].max() == pd.Timestamp("2019-02-14 07:00")
    # About the course's 12,300 historical and 4,100 streaming trips per 1,300 trucks.
    assert 0.8 * 12_300 * 0.2 <= len(trips) <= 1.2 * 12_300 * 0.2
    assert 0.7 * 4_100 * 0.2 <= world.counts["streaming_trips"] <= 1.2 * 4_100 * 0.2


def _blank_share(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].isna().mean())


@pytest.mark.parametrize("factor", [1.0, 5.0])
def test_dirt_is_written_at_its_rate(make_world, factor: float) -> None:  # type: ignore[no-untyped-def]
    world = make_world(seed=3, scale=0.2, scenario="none", dirt=factor)
    rates = DirtRates().scaled(factor)
    trucks = pd.read_csv(world.out / "trucks_table.csv")
    drivers = pd.read_csv(world.out / "drivers_table.csv")
    n = len(trucks)
    assert trucks["load_capacity_pounds"].isna().sum() == round(rates.load_capacity_blank * n)
    assert trucks["fuel_type"].isna().sum() == round(rates.fuel_type_blank * n)
    assert drivers["gender"].isna().sum() == round(rates.gender_blank * n)
    assert drivers["driving_style"].isna().sum() == round(rates.driving_style_blank * n)
    assert (drivers["experience"] < 0).sum() == round(rates.negative_experience * n)
    traffic = pd.read_csv(world.out / "traffic_table.csv")
    repeated = traffic.duplicated(["route_id", "date", "hour"]).mean()
    assert repeated == pytest.approx(rates.traffic_duplicate, rel=0.1)
    assert _blank_share(traffic, "no_of_vehicles") == pytest.approx(rates.vehicles_blank, rel=0.1)
    city = pd.read_csv(world.out / "city_weather.csv")
    twins = city.duplicated(["city_id", "date", "hour"]).sum()
    n_cities = city["city_id"].nunique()
    assert twins == round(rates.city_duplicate * n_cities) * 46 * 24
    # A twin series has its own values, like the course's: not a copy of the row.
    assert city.duplicated().sum() < twins or twins == 0


def test_no_dirt_gives_clean_files(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(seed=3, scale=0.2, scenario="none", dirt=0.0)
    for name in ("trucks_table.csv", "drivers_table.csv", "traffic_table.csv", "city_weather.csv"):
        frame = pd.read_csv(world.out / name)
        assert not frame.isna().any().any(), name
    assert (pd.read_csv(world.out / "drivers_table.csv")["experience"] >= 0).all()
    assert (
        not pd.read_csv(world.out / "city_weather.csv")
        .duplicated(["city_id", "date", "hour"])
        .any()
    )
    assert pd.read_csv(world.out / "city_weather.csv")["humidity"].max() <= 100


def test_impossible_values_appear_when_asked(tmp_path: Path) -> None:
    rates = DirtRates(impossible_humidity=0.01)
    world = generate_world(tmp_path, seed=4, scale=0.05, scenario="none", dirt=rates, quirks=False)
    city = pd.read_csv(world.out / "city_weather.csv")
    assert (city["humidity"] > 100).sum() == pytest.approx(0.01 * len(city), abs=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": 0.0}, "scale"),
        ({"scale": 1e6}, "scale"),
        ({"seed": -1}, "seed"),
        ({"scenario": "storms"}, "unknown scenario"),
        ({"scenario": "none", "shift_week": 2}, "changes nothing"),
        ({"scenario": "covariate_shift", "shift_week": 3}, "after the last streaming week"),
        ({"dirt": -1.0}, "dirt"),
        ({"delay_rate": 0.99}, "delay_rate"),
    ],
)
def test_bad_options_fail_clearly(tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(GenerateError, match=message):
        generate_world(tmp_path / "w", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "w" / "traffic_table.csv").exists()


def test_output_that_is_a_file_fails(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(GenerateError, match="not a folder"):
        generate_world(target, scale=0.05)
