from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from feature_world import TRIP_A, TRIP_B, TRIP_C

from truckflow.features import FEATURE_COLUMNS, FeatureError, FeatureInputs, compute_features
from truckflow.features.fill import date_partitions


def _row(frame: pd.DataFrame, trip: tuple[int, pd.Timestamp]) -> pd.Series:
    match = frame[(frame["truck_id"] == trip[0]) & (frame["departure_date"] == trip[1])]
    assert len(match) == 1, f"trip {trip} not found once in {frame[['truck_id']].to_dict()}"
    return match.iloc[0]


def test_trip_crossing_midnight_with_an_accident_in_one_hour(world: FeatureInputs) -> None:
    row = _row(compute_features(world).features, TRIP_A)
    # Route slots 01-01 18:00, 01-02 00:00, 06:00 (i = 18, 24, 30): departure 19:20 floored to
    # 18:00, arrival 05:40 ceiled to 06:00.
    assert row["route_avg_temp"] == pytest.approx(24.0)
    assert row["route_avg_pressure"] == pytest.approx(1024.0)
    assert row["route_description"] == "Snow"
    # Origin at 19:20 rounded to 19:00; destination at 05:40 rounded to 06:00 the next day.
    assert row["origin_temp"] == 19.0
    assert row["origin_description"] == "C-A 19"
    assert row["destination_temp"] == 2030.0
    assert row["destination_description"] == "C-C 30"
    # Traffic hourly from 19:00 to 06:00 (i = 19..30), the accident at 03:00 among them.
    assert row["avg_no_of_vehicles"] == pytest.approx(124.5)
    assert row["accident"] == 1
    assert row["is_midnight"] == 1
    assert (row["distance"], row["average_hours"]) == (520.0, 10.4)
    assert (row["truck_age"], row["mileage_mpg"], row["fuel_type"]) == (5.0, 20.0, "diesel")
    assert (row["age"], row["experience"], row["gender"]) == (40.0, 10.0, "female")
    assert row["delay"] == 1


def test_slot_flooring_rounding_to_the_hour_and_blanks(world: FeatureInputs) -> None:
    row = _row(compute_features(world).features, TRIP_B)
    # Slots 06:00 and 12:00: 07:00 floored, 09:29:59 ceiled; the description tie goes to the
    # first in sort order, as pandas' mode does.
    assert row["route_avg_temp"] == pytest.approx(9.0)
    assert row["route_description"] == "Cloudy"
    # 09:29:59 rounds down to 09:00; the duplicate city row read second is ignored.
    assert row["origin_temp"] == 7.0
    assert row["destination_temp"] == 1009.0
    # Hours 07, 08, 09: 107, 108 and a blank; no accident on R-1.
    assert row["avg_no_of_vehicles"] == pytest.approx(107.5)
    assert row["accident"] == 0
    assert row["is_midnight"] == 0
    # Blanks stay blank for the training preprocessing to impute.
    assert np.isnan(row["load_capacity_pounds"])
    assert row["fuel_type"] is None or pd.isna(row["fuel_type"])
    assert row["experience"] == -8.0


def test_trip_with_missing_forecast_waits_and_says_what_is_missing(world: FeatureInputs) -> None:
    result = compute_features(world)
    assert set(result.features["truck_id"]) == {TRIP_A[0], TRIP_B[0]}
    waiting = _row(result.waiting, TRIP_C)
    assert waiting["missing_route_weather_slots"] == 2
    assert waiting["missing_traffic_hours"] == 0
    assert not waiting["missing_origin_weather"]
    assert "route weather: 2 6-hour slot(s)" in waiting["missing"]


def test_missing_traffic_hour_city_weather_and_unknown_truck_wait(world: FeatureInputs) -> None:
    traffic = world.traffic[
        ~((world.traffic["route_id"] == "R-2") & (world.traffic["hour"] == 2300))
    ]
    city = world.city_weather[world.city_weather["city_id"] != "C-B"]
    trucks = world.trucks[world.trucks["truck_id"] != 2]
    result = compute_features(
        dataclasses.replace(world, traffic=traffic, city_weather=city, trucks=trucks)
    )
    a, b = _row(result.waiting, TRIP_A), _row(result.waiting, TRIP_B)
    assert a["missing_traffic_hours"] == 1
    assert b["missing_destination_weather"] and not b["missing_origin_weather"]
    assert b["missing_entities"] == "truck"
    assert result.features.empty


def test_partitions_by_departure_date_union_to_the_whole(world: FeatureInputs) -> None:
    whole = compute_features(world)
    parts = [
        compute_features(world, d0, d1)
        for d0, d1 in date_partitions(pd.Timestamp("2019-01-01"), pd.Timestamp("2019-01-04"), 1)
    ]
    union = pd.concat([p.features for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(union, whole.features)
    assert sum(len(p.waiting) for p in parts) == len(whole.waiting)
    assert len(parts[0].features) == 2 and parts[1].features.empty


def test_output_columns_and_missing_input_column(world: FeatureInputs) -> None:
    features = compute_features(world).features
    assert list(features.columns[4:-1]) == list(FEATURE_COLUMNS)
    backwards = world.schedule.assign(
        estimated_arrival=world.schedule["departure_date"] - pd.Timedelta(hours=1)
    )
    with pytest.raises(FeatureError, match=r"3 trip\(s\) arrive before they depart, e.g. truck 1"):
        compute_features(dataclasses.replace(world, schedule=backwards))
    with pytest.raises(FeatureError, match=r"'traffic' lacks column\(s\) accident"):
        compute_features(dataclasses.replace(world, traffic=world.traffic.drop(columns="accident")))
