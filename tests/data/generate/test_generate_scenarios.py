"""Scenarios change the streaming weeks, from their start week on, and nothing before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from truckflow.data.generate import ScenarioSpec, resolve_scenario

SCALE = 0.2
WEEK2 = "2019-02-22"
HISTORICAL = [
    "trucks_table.csv",
    "drivers_table.csv",
    "routes_table.csv",
    "city_weather.csv",
    "routes_weather.csv",
    "traffic_table.csv",
    "truck_schedule_table.csv",
]


def _world(make_world, scenario: str, **options: object) -> Path:  # type: ignore[no-untyped-def]
    out: Path = make_world(seed=5, scale=SCALE, scenario=scenario, **options).out
    return out


def _week_rates(folder: Path) -> pd.Series:
    trips = pd.read_csv(folder / "streaming_schedule.csv")
    week = (trips["departure_date"] >= WEEK2).map({False: 1, True: 2})
    return trips.groupby(week)["delay"].mean()


def _city(folder: Path) -> pd.DataFrame:
    city = pd.read_csv(folder / "streaming_city_weather.csv")
    return city.drop_duplicates(["city_id", "date", "hour"], keep="first")


@pytest.mark.parametrize("scenario", ["default", "covariate_shift", "fleet_change"])
def test_history_is_the_same_in_every_scenario(make_world, scenario: str) -> None:  # type: ignore[no-untyped-def]
    base = _world(make_world, "none")
    other = _world(make_world, scenario)
    for name in HISTORICAL:
        if scenario == "fleet_change" and name in ("trucks_table.csv", "drivers_table.csv"):
            continue  # the incoming trucks are listed from the start
        assert (base / name).read_bytes() == (other / name).read_bytes(), name


def test_stationary_streaming_rate_is_the_historical_rate(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(seed=5, scale=SCALE, scenario="none")
    assert world.delay_rate["historical"] == pytest.approx(0.35, abs=0.02)
    assert world.delay_rate["streaming"] == pytest.approx(world.delay_rate["historical"], abs=0.07)


def test_default_raises_delays_in_streaming_week_2(make_world) -> None:  # type: ignore[no-untyped-def]
    none = _week_rates(_world(make_world, "none"))
    default = _week_rates(_world(make_world, "default"))
    assert default[1] == pytest.approx(none[1], abs=0.02)  # week 1 untouched (a storm in week 2)
    assert default[2] >= none[2] + 0.1
    traffic_none = pd.read_csv(_world(make_world, "none") / "streaming_traffic.csv")
    traffic_default = pd.read_csv(_world(make_world, "default") / "streaming_traffic.csv")
    late = traffic_none["date"] >= WEEK2
    assert (
        traffic_default.loc[late, "accident"].mean()
        > 1.5 * traffic_none.loc[late, "accident"].mean()
    )


def test_covariate_shift_moves_its_columns_from_its_week(make_world) -> None:  # type: ignore[no-untyped-def]
    none, shifted = _world(make_world, "none"), _world(make_world, "covariate_shift")
    a, b = _city(none), _city(shifted)
    before, after = a["date"] < WEEK2, a["date"] >= WEEK2
    assert (b.loc[before, "temp"].to_numpy() == a.loc[before, "temp"].to_numpy()).all()
    assert b.loc[after, "temp"].mean() - a.loc[after, "temp"].mean() == pytest.approx(14, abs=1)
    assert b.loc[after, "humidity"].mean() < a.loc[after, "humidity"].mean() - 8
    ta = pd.read_csv(none / "streaming_traffic.csv").drop_duplicates(["route_id", "date", "hour"])
    tb = pd.read_csv(shifted / "streaming_traffic.csv").drop_duplicates(
        ["route_id", "date", "hour"]
    )
    late = ta["date"] >= WEEK2
    ratio = tb.loc[late.to_numpy(), "no_of_vehicles"].mean() / ta.loc[late, "no_of_vehicles"].mean()
    assert ratio == pytest.approx(1.45, abs=0.05)
    spec = resolve_scenario("covariate_shift")
    assert spec.shifted_columns["city_weather.csv"] == ["temp", "humidity"]


def test_shift_week_moves_the_start(make_world) -> None:  # type: ignore[no-untyped-def]
    none = _city(_world(make_world, "none"))
    early = _city(_world(make_world, "covariate_shift", shift_week=1))
    assert early["temp"].mean() - none["temp"].mean() == pytest.approx(14, abs=1)


def test_concept_shift_changes_the_mapping_not_the_features(make_world) -> None:  # type: ignore[no-untyped-def]
    none, concept = _world(make_world, "none"), _world(make_world, "concept_shift")
    for name in ("streaming_city_weather.csv", "streaming_traffic.csv", "truck_schedule_table.csv"):
        assert (none / name).read_bytes() == (concept / name).read_bytes(), name
    a = pd.read_csv(
        none / "streaming_schedule.csv", parse_dates=["departure_date", "estimated_arrival"]
    )
    b = pd.read_csv(concept / "streaming_schedule.csv")
    assert (a["route_id"] == b["route_id"]).all()
    # Crossing midnight was the main cause; after the shift it matters much less.
    midnight = a["estimated_arrival"].dt.date != a["departure_date"].dt.date
    gap_before = a.loc[midnight, "delay"].mean() - a.loc[~midnight, "delay"].mean()
    gap_after = (
        b.loc[midnight.to_numpy(), "delay"].mean() - b.loc[~midnight.to_numpy(), "delay"].mean()
    )
    assert gap_before > 0.25 and gap_after < gap_before - 0.15
    assert b["delay"].mean() == pytest.approx(a["delay"].mean(), abs=0.06)


def test_fleet_change_brings_old_trucks_from_its_week(make_world) -> None:  # type: ignore[no-untyped-def]
    none, fleet = _world(make_world, "none"), _world(make_world, "fleet_change")
    trucks = pd.read_csv(fleet / "trucks_table.csv")
    base = pd.read_csv(none / "trucks_table.csv")
    assert len(trucks) == len(base) + round(0.35 * len(base))
    trips = pd.read_csv(fleet / "streaming_schedule.csv").merge(trucks, on="truck_id")
    new = ~trips["truck_id"].isin(base["truck_id"])
    assert not new[trips["departure_date"] < WEEK2].any()
    assert new[trips["departure_date"] >= WEEK2].mean() > 0.2
    late = trips["departure_date"] >= WEEK2
    assert trips.loc[late, "truck_age"].mean() > trips.loc[~late, "truck_age"].mean() + 1


def test_a_spec_can_be_given_directly(make_world) -> None:  # type: ignore[no-untyped-def]
    spec = ScenarioSpec(name="mild", traffic_week=1, traffic_volume_factor=1.1)
    world = make_world(seed=5, scale=0.05, scenario=spec)
    assert world.scenario.name == "mild"
    assert world.manifest()["scenario"]["traffic_week"] == 1
