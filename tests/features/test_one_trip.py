"""The one-trip path equals the batch compute, value for value and type for type, on random
trips of the course slice (ingested into SQLite): departures at any minute, arrivals from the
schedule's shape or the route's average hours, trips inside and outside the data's coverage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truckflow.data.ingest import ingest_directory
from truckflow.features.definition import FEATURE_COLUMNS
from truckflow.features.loading import features_for_schedule
from truckflow.features.one_trip import one_trip, read_entities
from truckflow.features.rows import frame_rows
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

START = pd.Timestamp("2018-12-30")  # a little before the data start: incomplete trips too
# The sample covers 2019-01-01 to 2019-01-08 06:00: departures up to four days past its end.
SPAN_MINUTES = 14 * 24 * 60


@pytest.fixture(scope="module")
def sample() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures" / "course_sample"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Iterator[Database]:
    db = connect(Settings(home=tmp_path_factory.mktemp("one-trip") / "home"))
    upgrade(db)
    ingest_directory(db, sample)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def entities(sample: Path) -> tuple[list[int], list[str], dict[str, float]]:
    schedule = pd.read_csv(sample / "truck_schedule_table.csv")
    routes = pd.read_csv(sample / "routes_table.csv").set_index("route_id")
    used = sorted(set(schedule["route_id"]))
    trucks = sorted({int(t) for t in schedule["truck_id"]})
    return trucks, used, {r: float(routes.loc[r, "average_hours"]) for r in used}


def _compare(db: Database, trips: list[tuple[int, str, pd.Timestamp, pd.Timestamp | None]]) -> int:
    """Each trip one by one against the batch compute of them all; the complete ones counted."""
    frame = pd.DataFrame(
        [(t, r, d, a) for t, r, d, a in trips],
        columns=["truck_id", "route_id", "departure_date", "estimated_arrival"],
    )
    with db.engine.connect() as conn:
        singles = []
        for truck, route, departure, arrival in trips:
            found = read_entities(conn, truck, route)
            singles.append(one_trip(conn, truck, departure.to_pydatetime(), found, arrival))
    frame["estimated_arrival"] = [pd.Timestamp(o.estimated_arrival) for o in singles]
    batch = features_for_schedule(db, frame.drop_duplicates(["truck_id", "departure_date"]))
    rows = frame_rows(batch.features, list(FEATURE_COLUMNS), "1")
    at = {
        (int(t), pd.Timestamp(d)): i
        for i, (t, d) in enumerate(
            zip(batch.features["truck_id"], batch.features["departure_date"], strict=True)
        )
    }
    waiting = {
        (int(t), pd.Timestamp(d))
        for t, d in zip(batch.waiting["truck_id"], batch.waiting["departure_date"], strict=True)
    }
    complete = 0
    for (truck, _, departure, _), single in zip(trips, singles, strict=True):
        key = (truck, departure)
        if key in waiting:
            assert not single.complete, (key, single.missing)
            continue
        assert single.complete, (key, single.missing)
        expected = rows[at[key]].tolist()
        got = single.row(list(FEATURE_COLUMNS))
        assert got == expected, [
            (n, g, e) for n, g, e in zip(FEATURE_COLUMNS, got, expected, strict=True) if g != e
        ]
        assert [type(v) for v in got] == [type(v) for v in expected]
        complete += 1
    return complete


def test_many_random_trips_equal_the_batch_compute(
    sample_db: Database, entities: tuple[list[int], list[str], dict[str, float]]
) -> None:
    trucks, routes, _ = entities
    rng = np.random.default_rng(14)
    trips: list[tuple[int, str, pd.Timestamp, pd.Timestamp | None]] = []
    seen = set()
    while len(trips) < 300:
        truck = int(rng.choice(trucks))
        departure = START + pd.Timedelta(minutes=int(rng.integers(0, SPAN_MINUTES)))
        if (truck, departure) in seen:
            continue
        seen.add((truck, departure))
        route = str(rng.choice(routes))
        arrival = None
        if rng.random() < 0.5:  # a schedule's arrival: any duration, to the nanosecond
            arrival = departure + pd.Timedelta(seconds=float(rng.uniform(0, 3 * 86400)))
        trips.append((truck, route, departure, arrival))
    complete = _compare(sample_db, trips)
    assert 50 <= complete < len(trips)  # both kinds were tried


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_any_trip_equals_the_batch_compute(
    sample_db: Database,
    entities: tuple[list[int], list[str], dict[str, float]],
    data: st.DataObject,
) -> None:
    trucks, routes, _ = entities
    truck = data.draw(st.sampled_from(trucks))
    route = data.draw(st.sampled_from(routes))
    minutes = data.draw(st.integers(0, SPAN_MINUTES))
    departure = START + pd.Timedelta(minutes=minutes)
    seconds = data.draw(st.none() | st.floats(0, 4 * 86400))
    arrival = None if seconds is None else departure + pd.Timedelta(seconds=seconds)
    _compare(sample_db, [(truck, route, departure, arrival)])


def test_missing_inputs_are_missing_values_not_errors(
    sample_db: Database, entities: tuple[list[int], list[str], dict[str, float]]
) -> None:
    trucks, routes, _ = entities
    with sample_db.engine.connect() as conn:
        found = read_entities(conn, trucks[0], routes[0])
        later = one_trip(conn, trucks[0], dt.datetime(2030, 6, 1, 7), found)
    assert not later.complete
    assert any("route weather" in m for m in later.missing)
    assert any("traffic" in m for m in later.missing)
    row = later.row(list(FEATURE_COLUMNS))
    assert row[FEATURE_COLUMNS.index("route_avg_temp")] is None
    assert row[FEATURE_COLUMNS.index("distance")] is not None  # the route is known
