from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from feature_world import T0, TRIP_A, TRIP_B, TRIP_C, insert_world, make_world

from truckflow.features import FeatureError, compute_features
from truckflow.features.fill import fill_features, load_features, update_labels
from truckflow.features.loading import features_for_trip, load_inputs
from truckflow.features.tables import feature_sets, trip_features
from truckflow.store import Database
from truckflow.store import tables as s

START, END = dt.datetime(2019, 1, 1), dt.datetime(2019, 1, 4)


def test_batch_and_online_paths_give_identical_features(db: Database) -> None:
    world = make_world()
    insert_world(db, world)
    in_memory = compute_features(world).features
    batch = compute_features(load_inputs(db, START, END)).features
    online = pd.concat(
        [features_for_trip(db, *trip).features for trip in (TRIP_B, TRIP_A)], ignore_index=True
    )
    pd.testing.assert_frame_equal(batch, in_memory)
    pd.testing.assert_frame_equal(online, batch)
    waiting = features_for_trip(db, *TRIP_C)
    assert waiting.features.empty and len(waiting.waiting) == 1
    # A trip described by its route and arrival (not read from the schedule): same features.
    schedule = world.schedule.set_index("truck_id")
    described = features_for_trip(
        db,
        TRIP_A[0],
        TRIP_A[1],
        route_id=schedule.loc[TRIP_A[0], "route_id"],
        estimated_arrival=schedule.loc[TRIP_A[0], "estimated_arrival"],
    ).features
    expected = batch[batch["truck_id"] == TRIP_A[0]].reset_index(drop=True)
    assert described["delay"].isna().all()
    pd.testing.assert_frame_equal(described.drop(columns="delay"), expected.drop(columns="delay"))
    with pytest.raises(FeatureError, match="not in truck_schedule"):
        features_for_trip(db, 999, TRIP_A[1])


def test_incremental_fill_waiting_trip_and_label_update(db: Database) -> None:
    world = make_world()
    insert_world(db, world)
    first = fill_features(db, START, END, partition_days=1)
    assert first.computed == 2
    assert list(first.waiting["truck_id"]) == [TRIP_C[0]]
    stored = load_features(db, START, END)
    pd.testing.assert_frame_equal(stored, compute_features(world).features)

    # Nothing new: nothing computed, the stored rows are untouched.
    with db.engine.connect() as conn:
        stamps = conn.execute(sa.select(trip_features.c.computed_at)).scalars().all()
    assert fill_features(db, START, END).computed == 0
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(trip_features.c.computed_at)).scalars().all() == stamps

    # The missing forecast arrives: only the waiting trip is computed.
    late = [
        {**row, "ts": (T0 + pd.Timedelta(hours=h)).to_pydatetime()}
        for h in (54, 60)
        for row in [world.route_weather.iloc[0].drop("ts").to_dict()]
    ]
    with db.begin() as conn:
        conn.execute(sa.insert(s.route_weather), late)
    second = fill_features(db, START, END)
    assert (second.computed, len(second.waiting)) == (1, 0)
    assert load_features(db, START, END)["delay"].isna().sum() == 1

    # Ground truth of trip C arrives in the schedule: its stored row is labelled in place.
    with db.begin() as conn:
        conn.execute(
            s.truck_schedule.update()
            .where(s.truck_schedule.c.truck_id == TRIP_C[0])
            .values(delay=1)
        )
    assert update_labels(db) == 1
    labelled = load_features(db, START, END, labelled_only=True)
    assert len(labelled) == 3 and labelled["delay"].tolist() == [0, 1, 1]
    by_arrival = load_features(db, dt.datetime(2019, 1, 2), END, by="estimated_arrival")
    assert set(by_arrival["truck_id"]) == {TRIP_A[0], TRIP_C[0]}

    # Labels given explicitly overwrite in place too.
    labels = pd.DataFrame({"truck_id": [TRIP_B[0]], "departure_date": [TRIP_B[1]], "delay": [1]})
    assert update_labels(db, labels) == 1
    assert load_features(db, START, END)["delay"].tolist() == [1, 1, 1]


def test_changed_definition_under_the_same_version_is_refused(db: Database) -> None:
    insert_world(db, make_world())
    fill_features(db, START, END)
    with db.begin() as conn:
        conn.execute(feature_sets.update().values(definition_hash="0" * 16))
    with pytest.raises(FeatureError, match="bump FEATURE_SET_VERSION"):
        fill_features(db, START, END)


def test_fill_load_and_label_on_every_engine(any_db: Database) -> None:
    world = make_world()
    schedule = world.schedule.assign(delay=[None, 0, None])
    insert_world(any_db, dataclasses.replace(world, schedule=schedule))
    assert fill_features(any_db, START, END).computed == 2
    labels = pd.DataFrame({"truck_id": [TRIP_A[0]], "departure_date": [TRIP_A[1]], "delay": [1]})
    assert update_labels(any_db, labels) == 1
    stored = load_features(any_db, START, END)
    expected = compute_features(world).features
    pd.testing.assert_frame_equal(stored, expected)
