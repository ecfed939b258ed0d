"""The feature inputs' reader: only the rows the trips' windows need, the same features."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from feature_world import TRIP_A, TRIP_B, TRIP_C, insert_world, make_world

from truckflow.data.generate import generate_world
from truckflow.data.ingest import ingest_directory
from truckflow.features import compute_features, loading
from truckflow.features.fill import fill_features, load_features
from truckflow.features.sqlread import fetch_frame
from truckflow.store import Database, connect
from truckflow.store import tables as s
from truckflow.store.migrate import upgrade

START, END = dt.datetime(2019, 1, 1), dt.datetime(2019, 1, 4)


def test_windows_of_a_route_are_merged_where_they_overlap_or_touch() -> None:
    routes = np.array(["R-2", "R-1", "R-1", "R-1"], dtype=object)
    t0 = np.array([5, 10, 0, 30])
    t1 = np.array([9, 20, 10, 40])
    merged = loading._merged(routes, t0, t1)
    assert [list(part) for part in merged] == [["R-1", "R-1", "R-2"], [0, 30, 5], [20, 40, 9]]


def test_trip_windows_read_only_their_hours_and_give_the_same_features(
    any_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world()
    insert_world(any_db, world)
    # One range per query: the results of many queries are put together.
    monkeypatch.setattr(loading, "_RANGES_PER_QUERY", 1)
    inputs = loading.load_inputs(any_db, START, END)
    pd.testing.assert_frame_equal(
        compute_features(inputs).features, compute_features(world).features
    )
    # Trip B (R-1, 07:00 -> 09:30) reads R-1's traffic 07:00..10:00 and trip C's 07:00..09:00 of
    # Jan 3; trip A 19:00 -> 06:00 the next day; nothing else of the 144 hourly rows.
    traffic = inputs.traffic
    assert len(traffic) == 4 + 3 + 12
    r2 = traffic[traffic["route_id"] == "R-2"]
    hours = r2["date"] + pd.to_timedelta(r2["hour"] // 100, unit="h")
    assert hours.min() == pd.Timestamp("2019-01-01 19:00")
    assert hours.max() == pd.Timestamp("2019-01-02 06:00")


def test_many_trips_are_read_by_window_and_picked_by_key(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert_world(db, make_world())
    monkeypatch.setattr(loading, "_MAX_TRIPS_BY_KEY", 1)
    wanted = [TRIP_A, TRIP_C]
    picked = loading.load_inputs(db, START, END, trips=wanted).schedule
    assert sorted(zip(picked["truck_id"], picked["departure_date"], strict=True)) == wanted
    by_key = loading.load_inputs(db, trips=[TRIP_B]).schedule
    assert list(by_key["truck_id"]) == [TRIP_B[0]]


def test_incremental_fill_computes_only_the_new_trips(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world()
    insert_world(db, world)
    assert fill_features(db, START, END).computed == 2
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM trip_features WHERE truck_id = :t"), {"t": TRIP_B[0]})
    read: list[int] = []
    original = loading._load

    def counting(conn: sa.Connection, schedule: pd.DataFrame) -> object:
        read.append(len(schedule))
        return original(conn, schedule)

    monkeypatch.setattr(loading, "_load", counting)
    monkeypatch.setattr(loading, "_MAX_TRIPS_BY_KEY", 0)
    assert fill_features(db, START, END).computed == 1
    # Only the new trip and the one still waiting were read, not trip A.
    assert read == [2]
    pd.testing.assert_frame_equal(load_features(db, START, END), compute_features(world).features)


def test_fetch_frame_types_columns_with_nulls(any_db: Database) -> None:
    with any_db.begin() as conn:
        conn.execute(
            sa.insert(s.truck_schedule),
            [
                {
                    "truck_id": 7,
                    "route_id": "R-9",
                    "departure_date": dt.datetime(2019, 1, 1, 7, 0, 30),
                    "estimated_arrival": dt.datetime(2019, 1, 1, 9),
                    "delay": None,
                },
                {
                    "truck_id": 8,
                    "route_id": "R-9",
                    "departure_date": dt.datetime(2019, 1, 2, 7),
                    "estimated_arrival": dt.datetime(2019, 1, 2, 9),
                    "delay": 1,
                },
            ],
        )
        frame = fetch_frame(
            conn,
            "SELECT truck_id, departure_date, delay, route_id FROM truck_schedule"
            " ORDER BY truck_id",
            [],
            {"truck_id": "int", "departure_date": "time", "delay": "int", "route_id": "str"},
        )
    assert frame["truck_id"].dtype == np.int64 and frame["truck_id"].tolist() == [7, 8]
    assert frame["departure_date"].tolist() == [
        pd.Timestamp("2019-01-01 07:00:30"),
        pd.Timestamp("2019-01-02 07:00"),
    ]
    assert frame["delay"].isna().tolist() == [True, False] and frame["delay"].iloc[1] == 1
    assert frame["route_id"].tolist() == ["R-9", "R-9"]


def test_a_trips_features_are_the_same_bits_whatever_else_is_read(db: Database) -> None:
    """The window means of one trip do not depend on the rows read around it: the online path
    (one trip's rows) gives exactly the values of the whole tables (what a fill may read)."""
    world = make_world()
    rng = np.random.default_rng(3)
    # Values whose sums round differently depending on where a running sum starts.
    world.route_weather["temp"] = rng.normal(20.0, 7.0, len(world.route_weather))
    world.route_weather["precip"] = rng.exponential(0.1, len(world.route_weather))
    world.traffic["no_of_vehicles"] = rng.normal(300.0, 50.0, len(world.traffic)).round(3)
    insert_world(db, world)
    whole = compute_features(world).features
    for truck_id, departure in (TRIP_A, TRIP_B):
        alone = compute_features(loading.load_inputs(db, trips=[(truck_id, departure)]))
        expected = whole[(whole["truck_id"] == truck_id) & (whole["departure_date"] == departure)]
        pd.testing.assert_frame_equal(
            alone.features, expected.reset_index(drop=True), check_exact=True
        )


def test_postgres_reads_the_same_route_windows_as_sqlite(
    tmp_path: Path, new_server_database: Callable[[str], str]
) -> None:
    # PostgreSQL joins the windows as arrays, SQLite scans an OR of them: the same rows.
    world = tmp_path / "world"
    generate_world(world, seed=5, scale=0.05)
    first, last = dt.datetime(2019, 1, 6), dt.datetime(2019, 1, 27)
    inputs = []
    for url in (f"sqlite:///{tmp_path / 'truckflow.db'}", new_server_database("postgresql")):
        db = connect(url)
        try:
            upgrade(db)
            ingest_directory(db, world, historical_only=True)
            inputs.append(loading.load_inputs(db, first, last))
        finally:
            db.dispose()
    on_sqlite, on_postgres = inputs
    for name, key in (
        ("traffic", ["route_id", "date", "hour"]),
        ("route_weather", ["route_id", "ts"]),
    ):
        expected = getattr(on_sqlite, name).sort_values(key, ignore_index=True)
        assert len(expected) > 1_000  # windows of many routes, more than one OR query's worth
        got = getattr(on_postgres, name).sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
