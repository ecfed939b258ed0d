"""The full course files' quirks in a generated world, on by default and off on request."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from truckflow.data.generate import generate_world
from truckflow.data.ingest import ingest_directory
from truckflow.store import Database


def test_quirks_by_default_and_none_when_switched_off(tmp_path: Path) -> None:
    quirky = generate_world(tmp_path / "q", seed=6, scale=0.05, scenario="none")
    plain = generate_world(tmp_path / "p", seed=6, scale=0.05, scenario="none", quirks=False)
    assert plain.quirks is None and quirky.quirks is not None
    for report, early in ((quirky, True), (plain, False)):
        stream = pd.read_csv(report.out / "streaming_schedule.csv")
        history = pd.read_csv(report.out / "truck_schedule_table.csv")
        first = stream["departure_date"].min()
        assert (first == "2019-02-12 07:00:00") is early
        assert len(stream) == report.counts["streaming_trips"]
        assert len(history) == report.counts["historical_trips"]
        assert not stream.duplicated(["truck_id", "departure_date"]).any()
    # The same trips in all: moved from one file to the other, not made up.
    both = [
        pd.concat(
            [pd.read_csv(r.out / f) for f in ("truck_schedule_table.csv", "streaming_schedule.csv")]
        )
        .sort_values(["truck_id", "departure_date"])
        .reset_index(drop=True)
        for r in (quirky, plain)
    ]
    pd.testing.assert_frame_equal(both[0], both[1])
    q, p = quirky.quirks, quirky.out
    assert (
        q["early_trips"]
        == (pd.read_csv(p / "streaming_schedule.csv")["departure_date"] < "2019-02-15").sum()
    )
    weather = pd.read_csv(p / "streaming_city_weather.csv")
    assert weather["date"].max() == q["streaming_city_weather_ends"] == "2019-02-28"
    assert pd.read_csv(plain.out / "streaming_city_weather.csv")["date"].max() > "2019-02-28"
    city = pd.read_csv(p / "city_weather.csv")
    assert city.duplicated(["city_id", "date", "hour"]).any()  # one city, two series
    gap = (city["city_id"] == q["weatherless_city"]) & (city["date"] == q["weatherless_day"])
    assert not gap.any() and q["weatherless_departures"] >= 1
    rows = {name: sum(1 for _ in (p / name).open()) - 1 for name in quirky.rows}
    assert rows == quirky.rows


def test_the_second_weather_series_ingests_as_conflicting(tmp_path: Path, db: Database) -> None:
    world = generate_world(tmp_path / "q", seed=6, scale=0.05, scenario="none")
    city = pd.read_csv(world.out / "city_weather.csv")
    twins = city.duplicated(["city_id", "date", "hour"], keep="first")
    repeats = city.duplicated(keep="first")  # a twin row whose values happen to be equal
    report = ingest_directory(db, world.out, historical_only=True)
    counts = report.tables()["city_weather"]
    # The course keeps the first series; each row of the second is counted and recorded, none
    # quarantined, none silently dropped.
    assert counts.conflicting == int((twins & ~repeats).sum()) > 0
    assert counts.quarantined == 0
    assert counts.read == counts.inserted + counts.already_present + counts.conflicting
