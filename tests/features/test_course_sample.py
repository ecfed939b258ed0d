"""The features on the real course slice, one trip checked against a by-hand computation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from truckflow.features import compute_features, read_course_csvs


def test_course_sample_features_match_a_by_hand_computation(course_sample: Path) -> None:
    inputs = read_course_csvs(course_sample)
    result = compute_features(inputs)
    assert len(result.features) + len(result.waiting) == 63
    assert result.waiting.empty  # the sample carries forecasts past the last arrival
    trip = result.features.iloc[39]  # arrives after midnight, near the end of the forecasts
    route = inputs.routes.set_index("route_id").loc[trip["route_id"]]
    dep, arr = trip["departure_date"], trip["estimated_arrival"]

    rw = inputs.route_weather
    slots = rw[
        (rw["route_id"] == trip["route_id"])
        & (rw["ts"] >= dep.floor("6h"))
        & (rw["ts"] <= arr.ceil("6h"))
    ]
    assert trip["route_avg_temp"] == pytest.approx(slots["temp"].mean())
    assert trip["route_avg_humidity"] == pytest.approx(slots["humidity"].mean())
    assert trip["route_description"] == slots["description"].mode().iloc[0]

    tr = inputs.traffic
    at = tr["date"] + pd.to_timedelta(tr["hour"] // 100, unit="h")
    hours = tr[
        (tr["route_id"] == trip["route_id"]) & (at >= dep.round("h")) & (at <= arr.round("h"))
    ]
    assert len(hours) == (arr.round("h") - dep.round("h")) / pd.Timedelta(hours=1) + 1
    assert trip["avg_no_of_vehicles"] == pytest.approx(hours["no_of_vehicles"].mean())
    assert trip["accident"] == int(hours["accident"].max())

    cw = inputs.city_weather.drop_duplicates(["city_id", "date", "hour"])
    at_arrival = arr.round("h")
    destination = cw[
        (cw["city_id"] == route["destination_id"])
        & (cw["date"] == at_arrival.normalize())
        & (cw["hour"] == at_arrival.hour * 100)
    ]
    assert trip["destination_temp"] == destination["temp"].iloc[0]
    assert trip["distance"] == route["distance"]
    assert trip["is_midnight"] == int(dep.date() != arr.date())
